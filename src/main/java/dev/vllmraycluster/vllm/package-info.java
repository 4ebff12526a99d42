/** vLLM's OpenAI-compatible server on the head ({@link dev.vllmraycluster.vllm.VllmService}), run over the Ray cluster. */
package dev.vllmraycluster.vllm;
