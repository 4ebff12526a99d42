/**
 * The parallelism planner: a model's {@code config.json} ({@link ModelConfig}), the nodes' GPUs
 * and memory, and for each TP × PP × DP layout whether vLLM can start it (heads divisible, weights
 * per GPU, KV-cache tokens at {@code gpu_memory_utilization} against {@code max_model_len}), with a
 * recommendation ({@link Planner}, {@link PlanText}).
 */
package dev.vllmraycluster.parallel;
