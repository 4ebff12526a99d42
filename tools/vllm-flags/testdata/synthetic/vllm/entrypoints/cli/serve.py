from vllm.entrypoints.common.cli_args import make_arg_parser
from vllm.utils.argparse_utils import FlexibleArgumentParser


class CLISubcommand:
    name: str


class ServeSubcommand(CLISubcommand):
    name = "serve"

    def subparser_init(self, subparsers) -> FlexibleArgumentParser:
        serve_parser = subparsers.add_parser(self.name, usage="vllm serve [model_tag] [options]")
        serve_parser = make_arg_parser(serve_parser)
        serve_parser.add_argument("--grpc", action="store_true", default=False)
        return serve_parser
