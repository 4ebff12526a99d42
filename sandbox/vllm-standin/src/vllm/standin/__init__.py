"""vllm stand-in internals (Ray engine and worker actors)."""
