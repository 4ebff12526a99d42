from dataclasses import InitVar, dataclass, field
from typing import ClassVar, Literal, Optional, Union

from vllm.config.utils import config

ModelDType = Literal["auto", "half", "bfloat16"]
TokenizerMode = Union[ModelDType, str]


@dataclass
class PoolerConfig:
    pooling_type: str = "LAST"


@config
class ModelConfig:
    model: str = "facebook/opt-125m"
    served_model_name: str | list[str] | None = None
    dtype: ModelDType = "auto"
    trust_remote_code: bool = False
    hf_token: bool | str | None = None
    max_model_len: Optional[int] = None
    pooler_config: PoolerConfig | None = None
    tokenizer_mode: "TokenizerMode" = "auto"
    override_pooler: Union[bool, PoolerConfig] = False
    shape: tuple[int, int] = (1, 1)
    registry: ClassVar[dict] = {}
    mm_limit: InitVar[Optional[int]] = None
