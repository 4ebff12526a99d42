"""Version of the vllm stand-in (imitates vLLM 0.9.2's interface)."""
__version__ = "0.9.2+standin"
__version_tuple__ = (0, 9, 2, "standin")
