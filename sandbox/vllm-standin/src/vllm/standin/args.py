"""vllm stand-in: the `vllm serve` command line of vLLM 0.33.0.

The options are not written here: they are read from ``vllm-serve.flags``, the fixture that
tools/vllm-flags/vllm_flags.py wrote from the real 0.33.0 wheel (copied into this package when the
wheel is built). So the stand-in accepts exactly the options 0.33.0 accepts, with their arity, and
refuses anything else with argparse's exit status 2. Before argparse, the tokens go through what
vLLM's ``FlexibleArgumentParser.parse_args`` does: ``--a_b`` -> ``--a-b`` (up to the first ``.``),
``-O3`` -> ``--optimization-level 3``, ``--json-opt.key value`` folded into ``--json-opt '{...}'``,
and ``--model X`` moved to the positional model with 0.33.0's deprecation warning. Argparse's
unique-prefix abbreviations stay on, as in vLLM.
"""
import argparse
import json
import logging
import os
import re
import sys
from typing import Dict, List, Optional, Tuple

logger = logging.getLogger("vllm.standin.args")

FLAGS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "vllm-serve.flags")


class BoolAction(argparse.Action):
    """vLLM's BooleanOptionalAction / EnableDisableAction / store_true: one action, several
    spellings; the negative ones (--no-x, and --disable-x for --enable-x) store False."""

    def __init__(self, option_strings, dest, negatives=(), **kwargs):
        kwargs.pop("nargs", None)
        super().__init__(option_strings, dest, nargs=0, **kwargs)
        self.negatives = frozenset(negatives)

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, option_string not in self.negatives)


def _negative(canonical: str, option: str) -> bool:
    if option == canonical:
        return False
    if option.startswith("--no-"):
        return True
    return (canonical.startswith("--enable-") and option.startswith("--disable-")) or \
        (canonical.startswith("--disable-") and option.startswith("--enable-"))


def read_flags(path: str = FLAGS_FILE) -> Tuple[List[Tuple[str, str]], List[Tuple[str, List[str]]], Dict[str, str]]:
    """(positionals, actions, header) of a fixture file."""
    positionals, actions, header = [], [], {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if not parts:
                continue
            if parts[0] == "#":
                if len(parts) > 2 and parts[1].endswith(":"):
                    header[parts[1][:-1]] = " ".join(parts[2:])
                continue
            if parts[0] == "positional":
                positionals.append((parts[1], parts[2] if len(parts) > 2 else "1"))
            else:
                actions.append((parts[0], parts[1:]))
    return positionals, actions, header


def dest_of(canonical: str) -> str:
    return canonical.lstrip("-").replace("-", "_")


def build_parser(prog: str = "vllm serve", path: str = FLAGS_FILE) -> argparse.ArgumentParser:
    positionals, actions, _ = read_flags(path)
    p = argparse.ArgumentParser(prog=prog, allow_abbrev=True, usage="vllm serve [model_tag] [options]",
                                description="vLLM OpenAI-compatible server (STAND-IN for 0.33.0: "
                                            "accepts its options, loads no model).")
    for name, arity in positionals:
        p.add_argument(name, nargs="?" if arity in ("?", "*") else None, default=None)
    for arity, opts in actions:
        canonical = opts[0]
        dest = dest_of(canonical)
        if arity == "0":
            p.add_argument(*opts, dest=dest, action=BoolAction, default=None,
                           negatives=[o for o in opts if _negative(canonical, o)])
        elif arity == "1":
            p.add_argument(*opts, dest=dest, default=None)
        elif arity == "?":
            p.add_argument(*opts, dest=dest, nargs="?", const=True, default=None)
        elif arity in ("+", "*"):
            p.add_argument(*opts, dest=dest, nargs=arity, default=None)
        else:
            p.add_argument(*opts, dest=dest, nargs=int(arity), default=None)
    return p


def _nested(keys: List[str], value):
    for k in reversed(keys):
        value = {k: value}
    return value


def _merge(into: dict, update: dict) -> None:
    for k, v in update.items():
        if isinstance(v, dict) and isinstance(into.get(k), dict):
            _merge(into[k], v)
        elif isinstance(v, list) and isinstance(into.get(k), list):
            into[k] += v
        else:
            into[k] = v


def preprocess(args: List[str]) -> List[str]:
    """What vLLM 0.33.0's FlexibleArgumentParser.parse_args does before argparse, for `serve`."""
    args = list(args)
    model_idx = next((i for i, a in enumerate(args) if re.match(r"^--model(=.+|$)", a)), None)
    if model_idx is not None:
        logger.warning("With `vllm serve`, you should provide the model as a positional argument or in "
                       "a config file instead of via the `--model` option. The `--model` option will be "
                       "removed in a future version.")
        if args[model_idx] == "--model" and model_idx + 1 < len(args):
            tag, rest = args[model_idx + 1], model_idx + 2
        else:
            tag, rest = args[model_idx].removeprefix("--model="), model_idx + 1
        args = [tag] + args[:model_idx] + args[rest:]
    if "--config" in args or any(a.startswith("--config=") for a in args):
        raise SystemExit("vllm stand-in: --config (a YAML file of options) is not read by the stand-in; "
                         "pass the options on the command line")
    out: List[str] = []
    for i, a in enumerate(args):
        if a.startswith("--"):
            key, sep, value = a.partition("=")
            head, dot, tail = key[2:].partition(".")
            key = "--" + head.replace("_", "-") + dot + tail
            out.append(key + sep + value if sep else key)
        elif a.startswith("-O") and a != "-O":
            out += ["--optimization-level", a[3:] if a[2:3] == "=" else a[2:]]
        elif a == "-O" and i + 1 < len(args) and args[i + 1] in {"0", "1", "2", "3"}:
            out.append("--optimization-level")
        else:
            out.append(a)
    # --json-opt.key value -> --json-opt '{"key": value}'
    folded: Dict[str, dict] = {}
    result: List[str] = []
    skip = set()
    for i, a in enumerate(out):
        if i in skip:
            continue
        if a.startswith("-") and "." in a.split("=", 1)[0]:
            if "=" in a:
                a, value_str = a.split("=", 1)
            else:
                value_str = out[i + 1] if i + 1 < len(out) else ""
                skip.add(i + 1)
            if a.endswith("+"):
                a = a[:-1]
                value_str = json.dumps(value_str.split(","))
            key, *keys = a.split(".")
            try:
                value = json.loads(value_str)
            except json.JSONDecodeError:
                value = value_str
            _merge(folded.setdefault(key, {}), _nested(keys, value))
            continue
        result.append(a)
    for key, value in folded.items():
        result += [key, json.dumps(value)]
    return result


def human_readable_int_or_auto(value) -> Optional[int]:
    """vLLM's --max-model-len type: 4096, 4k (10^3), 4K (2^10), 'auto' or -1."""
    if value is None:
        return None
    value = str(value).strip()
    if value in ("-1", "auto"):
        return -1
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([kKmMgGtT])", value)
    if m:
        number, suffix = m.groups()
        decimal = {"k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}
        if suffix in decimal:
            return int(float(number) * decimal[suffix])
        return int(number) * {"K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}[suffix]
    return int(value)


def parse_serve_args(argv: List[str]) -> argparse.Namespace:
    """Parses the arguments after `vllm serve`; exits 2 on an unknown option, as argparse does."""
    parser = build_parser()
    return parser.parse_args(preprocess(argv))


def int_opt(args, name: str, default: int) -> int:
    v = getattr(args, name, None)
    return default if v is None else int(v)


def main_help() -> str:
    return "usage: vllm [-h] [-v] {serve} ...\n(vllm stand-in 0.33.0+standin: only `serve` is implemented)\n"


if __name__ == "__main__":  # pragma: no cover - a debugging aid
    print(parse_serve_args(sys.argv[1:]))
