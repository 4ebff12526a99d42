"""Version of the vllm stand-in (imitates vLLM 0.33.0's interface)."""
__version__ = "0.33.0+standin"
__version_tuple__ = (0, 33, 0, "standin")
