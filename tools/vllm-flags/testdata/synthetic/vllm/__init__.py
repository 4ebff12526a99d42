"""Synthetic vLLM-shaped tree for tools/vllm-flags tests (not vLLM)."""
