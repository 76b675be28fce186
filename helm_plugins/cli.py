"""`helm-plugins`: the package's own commands, next to HELM's helm-run / helm-summarize / helm-server.

Each subcommand lives in the module of its capability, which adds its parser with `add_parser(subparsers)`.
"""

import argparse
import importlib
import math
import sys
from pathlib import Path
from typing import List, Optional

SUBCOMMAND_MODULES = [
    "helm_plugins.runners.pretrain.cli",
    "helm_plugins.runners.speculative.cli",
    "helm_plugins.runners.rl.cli",
    "helm_plugins.statistics.provenance.cli",
    "helm_plugins.statistics.fairness_frontier.cli",
    "helm_plugins.statistics.relative_scaling.cli",
    "helm_plugins.statistics.entropy_calibration.cli",
    "helm_plugins.judges.uq.cli",
    "helm_plugins.judges.spec_adherence.cli",
    "helm_plugins.structured_prompting.cli",
    "helm_plugins.audio.cli",
    "helm_plugins.agents.hal.cli",
    "helm_plugins.agents.mle_smith.cli",
    "helm_plugins.summarize",
    "helm_plugins.leaderboard",
    "helm_plugins.demo",
]


def add_subcommand(subparsers, name: str, help_text: str, doc: str, handler) -> argparse.ArgumentParser:
    """A subcommand whose --help shows its module docstring and which runs `handler(args)`."""
    parser = subparsers.add_parser(name, help=help_text, description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.set_defaults(handler=handler)
    return parser


def finite_float(text: str) -> float:
    """argparse type of every real-valued option: NaN and infinities are rejected with the option named."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def add_runner_arguments(parser: argparse.ArgumentParser, example_override: str, default_output: str) -> None:
    """The arguments every runner shares: config file, overrides, output folder, HELM suite, progress bar."""
    parser.add_argument("--config", type=Path, help="YAML config applied on top of the preset")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help=f"override a config value, e.g. --set {example_override} (repeatable)")
    parser.add_argument("--output", type=Path, help=f"output folder (default: {default_output}/<run_name>)")
    parser.add_argument("--suite", help="write the results as HELM runs into this suite")
    parser.add_argument("-o", "--output-path", default="benchmark_output", help="HELM output path (as helm-run)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def suite_dir(args: argparse.Namespace) -> Optional[Path]:
    """benchmark_output/runs/<suite> for `--suite`, None without it."""
    return Path(args.output_path) / "runs" / args.suite if args.suite else None


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
