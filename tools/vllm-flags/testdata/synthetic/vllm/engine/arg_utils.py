import argparse
import copy
from dataclasses import fields

from vllm.config import ModelConfig, ParallelConfig
from vllm.utils.argparse_utils import FlexibleArgumentParser


def get_kwargs(cls):
    return copy.deepcopy({f.name: {} for f in fields(cls)})


class EngineArgs:
    @staticmethod
    def add_cli_args(parser: FlexibleArgumentParser) -> FlexibleArgumentParser:
        model_kwargs = get_kwargs(ModelConfig)
        model_group = parser.add_argument_group(title="ModelConfig")
        model_group.add_argument("--model", **model_kwargs["model"])
        model_group.add_argument("--served-model-name", **model_kwargs["served_model_name"])
        model_group.add_argument("--dtype", **model_kwargs["dtype"])
        model_group.add_argument("--trust-remote-code", **model_kwargs["trust_remote_code"])
        model_group.add_argument("--hf-token", **model_kwargs["hf_token"])
        model_group.add_argument("--max-model-len", **model_kwargs["max_model_len"])
        model_group.add_argument("--pooler-config", **model_kwargs["pooler_config"])
        model_group.add_argument("--tokenizer-mode", **model_kwargs["tokenizer_mode"])
        model_group.add_argument("--override-pooler", **model_kwargs["override_pooler"])
        model_group.add_argument("--shape", **model_kwargs["shape"])
        parallel_kwargs = get_kwargs(ParallelConfig)
        parallel_group = parser.add_argument_group(title="ParallelConfig")
        parallel_group.add_argument("--tensor-parallel-size", "-tp", **parallel_kwargs["tensor_parallel_size"])
        parallel_group.add_argument(
            "--data-parallel-size", "-dp",
            **{**parallel_kwargs["data_parallel_size"], "default": None})
        parallel_group.add_argument("--data-parallel-backend", "-dpb", **parallel_kwargs["data_parallel_backend"])
        parallel_group.add_argument("--enable-expert-parallel", **parallel_kwargs["enable_expert_parallel"])
        parallel_group.add_argument("--disable-custom-all-reduce", **parallel_kwargs["disable_custom_all_reduce"])
        parallel_group.add_argument("--numa-nodes", **parallel_kwargs["numa_nodes"])
        parser.add_argument("--disable-log-stats", action="store_true")
        parser.add_argument("--seed", type=int, nargs=None)
        parser.add_argument("--pair", nargs=2)
        return parser


class AsyncEngineArgs(EngineArgs):
    @staticmethod
    def add_cli_args(parser, async_args_only: bool = False):
        if not async_args_only:
            parser = EngineArgs.add_cli_args(parser)
        parser.add_argument("--enable-log-requests", action=argparse.BooleanOptionalAction, default=False)
        return parser


class UnrelatedArgs:
    @staticmethod
    def add_cli_args(parser):
        parser.add_argument("--not-a-serve-flag", type=int)
        return parser
