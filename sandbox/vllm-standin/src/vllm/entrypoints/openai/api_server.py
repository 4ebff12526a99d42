"""vllm stand-in: `python -m vllm.entrypoints.openai.api_server [--model M] [options]`.

vLLM 0.33.0 still runs this module but warns that it is deprecated in favour of `vllm serve`; the
stand-in does the same and then serves exactly as `vllm serve` does.
"""
import logging
import sys


def main(argv=None) -> int:
    from vllm.standin.serve import run, setup_logging
    setup_logging()
    logging.getLogger("vllm.entrypoints.openai.api_server").warning(
        "python -m vllm.entrypoints.openai.api_server is deprecated; use `vllm serve MODEL [options]`")
    return run(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
