"""vllm stand-in: OpenAI-compatible server package."""
