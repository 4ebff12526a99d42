from vllm.config.model import ModelConfig
from .parallel import ParallelConfig

__all__ = ["ModelConfig", "ParallelConfig"]
