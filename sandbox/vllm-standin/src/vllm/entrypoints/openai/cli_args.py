"""vllm stand-in: command-line arguments of vLLM 0.9.2's OpenAI API server.

Flag names, value types, choices and defaults follow vLLM 0.9.2
(``vllm/entrypoints/openai/cli_args.py`` and ``vllm/engine/arg_utils.py``) for
the flags the stand-in knows. Flags the stand-in does not know are rejected by
argparse (exit 2), as real vLLM rejects unknown flags. Most accepted flags are
only recorded; the stand-in acts on --model, --served-model-name, --host,
--port, --api-key, --tensor-parallel-size, --pipeline-parallel-size,
--distributed-executor-backend and --max-model-len.
"""
import argparse
import json
import re
import sys
from typing import Optional


class FlexibleArgumentParser(argparse.ArgumentParser):
    """ArgumentParser that accepts both ``--foo_bar`` and ``--foo-bar`` (as vLLM's)."""

    def parse_args(self, args=None, namespace=None):  # type: ignore[override]
        if args is None:
            args = sys.argv[1:]
        processed = []
        for arg in args:
            if arg.startswith("--"):
                if "=" in arg:
                    key, value = arg.split("=", 1)
                    processed.append(key.replace("_", "-") + "=" + value)
                else:
                    processed.append(arg.replace("_", "-"))
            else:
                processed.append(arg)
        return super().parse_args(processed, namespace)


def optional_type(return_type):
    """Like vLLM: the literal string 'None' (or '') means None."""

    def _optional_type(val: str):
        if val == "" or val == "None":
            return None
        return return_type(val)

    return _optional_type


def human_readable_int(value: str) -> int:
    """Parse '1k', '2M', '25.6k' or a plain integer (vLLM 0.9.2's --max-model-len type)."""
    value = value.strip()
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([kKmMgGtT])", value)
    if match:
        number, suffix = match.groups()
        decimal = {"k": 10**3, "m": 10**6, "g": 10**9}
        binary = {"K": 2**10, "M": 2**20, "G": 2**30}
        if suffix in decimal:
            return int(float(number) * decimal[suffix])
        if suffix in binary:
            try:
                return int(number) * binary[suffix]
            except ValueError as e:
                raise argparse.ArgumentTypeError(
                    f"Decimals are not allowed with binary suffixes like {suffix}. "
                    f"Did you mean to use {number}{suffix.lower()} instead?") from e
    return int(value)


DTYPES = ["auto", "half", "float16", "bfloat16", "float", "float32"]
EXECUTOR_BACKENDS = ["ray", "mp", "uni", "external_launcher"]
KV_CACHE_DTYPES = ["auto", "fp8", "fp8_e4m3", "fp8_e5m2"]
LOAD_FORMATS = ["auto", "pt", "safetensors", "npcache", "dummy", "tensorizer",
                "sharded_state", "gguf", "bitsandbytes", "mistral",
                "runai_streamer", "runai_streamer_sharded", "fastsafetensors"]
BOOL = dict(action=argparse.BooleanOptionalAction)


def make_arg_parser(parser: Optional[FlexibleArgumentParser] = None) -> FlexibleArgumentParser:
    if parser is None:
        parser = FlexibleArgumentParser(
            description="vLLM OpenAI-Compatible RESTful API server (vllm stand-in).")
    p = parser
    # --- frontend (vllm/entrypoints/openai/cli_args.py) ---
    p.add_argument("--host", type=optional_type(str), default=None, help="Host name.")
    p.add_argument("--port", type=int, default=8000, help="Port number.")
    p.add_argument("--uvicorn-log-level", type=str, default="info",
                   choices=["debug", "info", "warning", "error", "critical", "trace"])
    p.add_argument("--disable-uvicorn-access-log", action="store_true")
    p.add_argument("--allow-credentials", action="store_true")
    p.add_argument("--allowed-origins", type=json.loads, default=["*"])
    p.add_argument("--allowed-methods", type=json.loads, default=["*"])
    p.add_argument("--allowed-headers", type=json.loads, default=["*"])
    p.add_argument("--api-key", type=optional_type(str), default=None,
                   help="If provided, the server will require this key to be presented in the header.")
    p.add_argument("--chat-template", type=optional_type(str), default=None)
    p.add_argument("--response-role", type=optional_type(str), default="assistant")
    p.add_argument("--ssl-keyfile", type=optional_type(str), default=None)
    p.add_argument("--ssl-certfile", type=optional_type(str), default=None)
    p.add_argument("--root-path", type=optional_type(str), default=None)
    p.add_argument("--enable-request-id-headers", action="store_true")
    p.add_argument("--disable-fastapi-docs", action="store_true")
    p.add_argument("--enable-auto-tool-choice", action="store_true")
    p.add_argument("--tool-call-parser", type=str, default=None)
    p.add_argument("--max-log-len", type=int, default=None)
    # --- engine (vllm/engine/arg_utils.py) ---
    p.add_argument("--model", type=str, default="facebook/opt-125m",
                   help="Name or path of the model (the stand-in needs a local directory).")
    p.add_argument("--task", type=str, default="auto")
    p.add_argument("--tokenizer", type=optional_type(str), default=None)
    p.add_argument("--tokenizer-mode", type=str, default="auto",
                   choices=["auto", "slow", "mistral", "custom"])
    p.add_argument("--trust-remote-code", default=False, **BOOL)
    p.add_argument("--dtype", type=str, default="auto", choices=DTYPES)
    p.add_argument("--seed", type=optional_type(int), default=None)
    p.add_argument("--revision", type=optional_type(str), default=None)
    p.add_argument("--max-model-len", type=human_readable_int, default=None)
    p.add_argument("--quantization", "-q", type=optional_type(str), default=None)
    p.add_argument("--enforce-eager", default=False, **BOOL)
    p.add_argument("--max-logprobs", type=int, default=20)
    p.add_argument("--served-model-name", type=optional_type(str), nargs="+", default=None)
    p.add_argument("--generation-config", type=optional_type(str), default="auto")
    p.add_argument("--load-format", type=str, default="auto",
                   help="One of: " + ", ".join(LOAD_FORMATS))
    p.add_argument("--download-dir", type=optional_type(str), default=None)
    p.add_argument("--distributed-executor-backend", type=optional_type(str), default=None,
                   choices=EXECUTOR_BACKENDS + [None])
    p.add_argument("--pipeline-parallel-size", "-pp", type=int, default=1)
    p.add_argument("--tensor-parallel-size", "-tp", type=int, default=1)
    p.add_argument("--data-parallel-size", "-dp", type=int, default=1)
    p.add_argument("--disable-custom-all-reduce", default=False, **BOOL)
    p.add_argument("--worker-extension-cls", type=str, default="")
    p.add_argument("--block-size", type=optional_type(int), default=None,
                   choices=[1, 8, 16, 32, 64, 128, None])
    p.add_argument("--gpu-memory-utilization", type=float, default=0.9)
    p.add_argument("--swap-space", type=float, default=4)
    p.add_argument("--kv-cache-dtype", type=str, default="auto", choices=KV_CACHE_DTYPES)
    p.add_argument("--enable-prefix-caching", default=None, **BOOL)
    p.add_argument("--cpu-offload-gb", type=float, default=0)
    p.add_argument("--max-num-batched-tokens", type=optional_type(int), default=None)
    p.add_argument("--max-num-seqs", type=optional_type(int), default=None)
    p.add_argument("--disable-log-stats", action="store_true")
    p.add_argument("--disable-log-requests", action="store_true")
    return p


def validate_parsed_serve_args(args: argparse.Namespace) -> None:
    if args.enable_auto_tool_choice and not args.tool_call_parser:
        raise TypeError("Error: --enable-auto-tool-choice requires --tool-call-parser")
