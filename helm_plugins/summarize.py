"""`helm-plugins summarize`: helm-summarize with the package's schema, and the plugin loaded for model names.

helm-summarize loads no plugins and has no schema entry point, so this passes the schema shipped as package
data and validates it strictly. Any other helm-summarize flag is passed through.

    helm-plugins summarize --suite demo
    helm-server --suite demo        # then open http://localhost:8000
"""

import argparse
import sys
from importlib import resources
from pathlib import Path

from helm_plugins.cli import add_subcommand


def schema_path() -> Path:
    return Path(str(resources.files("helm_plugins") / "static" / "schema_helm_plugins.yaml"))


def add_parser(subparsers) -> None:
    parser = add_subcommand(subparsers, "summarize", "run helm-summarize with the helm_plugins schema", __doc__, run)
    parser.add_argument("--suite", required=True, help="suite to summarize")
    parser.add_argument("-o", "--output-path", default="benchmark_output", help="HELM output path")
    parser.add_argument("--schema-validation", default="error", choices=["error", "warn", "off"])
    parser.set_defaults(accepts_extra_args=True)


def run(args: argparse.Namespace) -> int:
    import helm_plugins.plugin  # noqa: F401  (registers model metadata, so tables show display names)
    from helm.benchmark.presentation import summarize

    sys.argv = [
        "helm-summarize",
        "--suite", args.suite,
        "--output-path", args.output_path,
        "--schema-path", str(schema_path()),
        "--schema-validation", args.schema_validation,
        *args.extra_args,
    ]
    summarize.main()
    return 0
