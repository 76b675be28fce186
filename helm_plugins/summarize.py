"""`helm-plugins summarize`: helm-summarize with the package's schema, and the plugin loaded for model names.

helm-summarize loads no plugins and has no schema entry point, so this passes the schema shipped as package
data and validates it strictly. Any other helm-summarize flag is passed through.

Two things are made safe before HELM's summarizer runs:
- HELM renders the schema's mako templates (`${main_name}`, `${main_split}`) from several threads at once.
  Compiling a template parses Python code, and on some CPython releases (3.11.7 among them) parsing from two
  threads at once can fail with `SystemError: AST constructor recursion depth mismatch`. Templates are compiled
  once each, under a lock, and only rendered concurrently.
- A run whose JSON files are unreadable (truncated by an interrupted run, which `--skip-completed-runs` then
  skips) stops the summary with an error that names the file and the run to rerun.

    helm-plugins summarize --suite demo
    helm-server --suite demo        # then open http://localhost:8000
"""

import argparse
import json
import os
import sys
import threading
from importlib import resources
from pathlib import Path
from typing import Dict, Optional

from helm_plugins.cli import add_subcommand

_TEMPLATE_LOCK = threading.Lock()
_TEMPLATES: Dict[str, object] = {}
_PATCHED = False


def schema_path() -> Path:
    return Path(str(resources.files("helm_plugins") / "static" / "schema_helm_plugins.yaml"))


def add_parser(subparsers) -> None:
    parser = add_subcommand(subparsers, "summarize", "run helm-summarize with the helm_plugins schema", __doc__, run)
    parser.add_argument("--suite", required=True, help="suite to summarize")
    parser.add_argument("-o", "--output-path", default="benchmark_output", help="HELM output path")
    parser.add_argument("--schema-validation", default="error", choices=["error", "warn", "off"])
    parser.set_defaults(accepts_extra_args=True)


def render_template(text: str, environment: Dict[str, str]) -> str:
    """Render a mako template; each distinct text is compiled once, under a lock (compiling is not thread-safe
    on every CPython release; rendering a compiled template is)."""
    import mako.template

    with _TEMPLATE_LOCK:
        template = _TEMPLATES.get(text)
        if template is None:
            template = _TEMPLATES[text] = mako.template.Template(text)
    return template.render(**environment)


class UnreadableRunError(ValueError):
    """A run folder whose files HELM cannot read."""


def _unreadable_file(run_path: str, names) -> Optional[str]:
    """The first of `names` in `run_path` that is missing or not valid JSON, with the reason."""
    for name in names:
        path = os.path.join(run_path, name)
        if not os.path.exists(path):
            continue
        try:
            with open(path, encoding="utf-8") as f:
                json.load(f)
        except (ValueError, UnicodeDecodeError) as error:
            return f"{path}: not valid JSON ({error})"
    return None


def _unreadable_run_error(run_path: str, names, error: Exception) -> UnreadableRunError:
    problem = _unreadable_file(run_path, names) or f"{run_path}: {type(error).__name__}: {error}"
    run_name = os.path.basename(os.path.normpath(run_path))
    return UnreadableRunError(
        f"{problem}. The run '{run_name}' is incomplete (an interrupted helm-run leaves truncated files): "
        f"rerun it without --skip-completed-runs, or delete {run_path} and summarize again"
    )


def patch_helm_summarizer() -> None:
    """Make HELM's summarizer safe as described in the module docstring (idempotent)."""
    global _PATCHED
    if _PATCHED:
        return
    from helm.benchmark.presentation import schema as helm_schema
    from helm.benchmark.presentation import summarize as helm_summarize

    def substitute(self, environment):
        return helm_schema.MetricNameMatcher(
            name=render_template(self.name, environment),
            split=render_template(self.split, environment),
            perturbation_name=(
                render_template(self.perturbation_name, environment) if self.perturbation_name is not None else None
            ),
        )

    helm_schema.MetricNameMatcher.substitute = substitute

    read_run = helm_summarize.Summarizer.read_run

    def checked_read_run(self, run_path: str):
        try:
            return read_run(self, run_path)
        except Exception as error:  # HELM's JSON and dacite errors name neither the file nor the run
            raise _unreadable_run_error(run_path, ["run_spec.json", "stats.json"], error) from error

    helm_summarize.Summarizer.read_run = checked_read_run

    write_run_display_json = helm_summarize.write_run_display_json

    def checked_write_run_display_json(run_path, run_spec, schema, skip_completed):
        try:
            return write_run_display_json(run_path, run_spec, schema, skip_completed)
        except (ValueError, UnicodeDecodeError) as error:
            raise _unreadable_run_error(run_path, ["scenario_state.json", "per_instance_stats.json"], error) from error

    helm_summarize.write_run_display_json = checked_write_run_display_json
    _PATCHED = True


def run(args: argparse.Namespace) -> int:
    import helm_plugins.plugin  # noqa: F401  (registers model metadata, so tables show display names)
    from helm.benchmark.presentation import summarize

    patch_helm_summarizer()
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
