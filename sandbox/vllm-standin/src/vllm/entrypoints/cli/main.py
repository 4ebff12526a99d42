"""vllm stand-in: the `vllm` console script (only `vllm serve` and `vllm --version`)."""
import sys

from vllm.version import __version__


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] in (["-v"], ["--version"]):
        print(__version__)
        return 0
    if argv[:1] != ["serve"]:
        from vllm.standin.args import main_help
        sys.stderr.write(main_help())
        return 2
    from vllm.standin.serve import run
    return run(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
