#!/usr/bin/env python3
"""By-hand check of a fixture against the real parser: run with the Python of a venv where that
vLLM release is installed (it imports vLLM, unlike vllm_flags.py); prints the real `vllm serve`
actions in the fixture format and compares them with FIXTURE (option strings and arity).

  .venv/bin/python tools/vllm-flags/check_against_real.py src/main/resources/dev/vllmraycluster/vllm/flags/vllm-0.33.0.flags
"""
import argparse
import sys

from vllm import platforms
from vllm.platforms.cpu import CpuPlatform

platforms.current_platform = CpuPlatform()  # no GPU here; the CUDA platform adds no options
from vllm.entrypoints.cli.serve import ServeSubcommand  # noqa: E402
from vllm.utils.argparse_utils import FlexibleArgumentParser  # noqa: E402


def real_lines():
    parser = FlexibleArgumentParser(prog="vllm")
    serve = ServeSubcommand().subparser_init(parser.add_subparsers(dest="subparser"))
    for a in serve._actions:
        if isinstance(a, argparse._HelpAction):
            continue
        arity = "0" if a.nargs == 0 else "1" if a.nargs is None else str(a.nargs)
        if not a.option_strings:
            yield f"positional {a.dest} {arity}"
            continue
        opts = sorted(o for o, act in serve._option_string_actions.items() if act is a)
        yield f"{arity} {' '.join(opts)}"


def fixture_lines(path):
    for line in open(path, encoding="utf-8"):
        parts = line.split()
        if not parts or parts[0].startswith("#"):
            continue
        yield " ".join(parts) if parts[0] == "positional" else f"{parts[0]} {' '.join(sorted(parts[1:]))}"


def main():
    real, fixture = set(real_lines()), set(fixture_lines(sys.argv[1]))
    for line in sorted(real - fixture):
        print(f"only in the real parser: {line}")
    for line in sorted(fixture - real):
        print(f"only in the fixture:     {line}")
    print(f"{'IDENTICAL' if real == fixture else 'DIFFERENT'}: {len(real)} real actions, {len(fixture)} in the fixture")
    return 0 if real == fixture else 1


if __name__ == "__main__":
    sys.exit(main())
