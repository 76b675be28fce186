"""`helm-plugins`: the package's own commands, next to HELM's helm-run / helm-summarize / helm-server.

Each subcommand lives in the module of its capability, which adds its parser with `add_parser(subparsers)`.
"""

import argparse
import importlib
import sys
from typing import List, Optional

SUBCOMMAND_MODULES = [
    "helm_plugins.runners.pretrain.cli",
    "helm_plugins.summarize",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="helm-plugins", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in SUBCOMMAND_MODULES:
        importlib.import_module(module).add_parser(subparsers)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and not getattr(args, "accepts_extra_args", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.extra_args = extra
    try:
        return args.handler(args)
    except (ValueError, FileNotFoundError) as error:
        print(f"helm-plugins {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as interrupt:
        print(f"helm-plugins {args.command}: {interrupt or 'interrupted'}", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
