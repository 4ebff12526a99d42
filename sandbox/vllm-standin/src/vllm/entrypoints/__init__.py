"""vllm stand-in: entrypoints package."""
