from typing import Literal

from pydantic.dataclasses import dataclass

DataParallelBackend = Literal["ray", "mp"]


@dataclass
class ParallelConfig:
    tensor_parallel_size: int = 1
    data_parallel_size: int = 1
    data_parallel_backend: DataParallelBackend = "mp"
    enable_expert_parallel: bool = False
    disable_custom_all_reduce: bool = False
    numa_nodes: list[int] | None = None
