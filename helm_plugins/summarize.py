"""`helm-plugins summarize`: helm-summarize with the package's schema, the plugin loaded for model names, and the
leaderboard made readable.

helm-summarize loads no plugins and has no schema entry point, so this passes the schema shipped as package
data and validates it strictly. Any other helm-summarize flag is passed through. After HELM's summarizer, the
suite's leaderboard is rewritten as `helm-plugins leaderboard` does (the landing table of contents, tables without
empty rows, comparable win rates only, directed column names, plot links); `--plots GROUP=FOLDER` links the PNGs
of a report folder from a group's page. `helm-server` on the suite then shows the finished leaderboard.

Two things are made safe before HELM's summarizer runs:
- HELM renders the schema's mako templates (`${main_name}`, `${main_split}`) from several threads at once.
  Compiling a template parses Python code, and on some CPython releases (3.11.7 among them) parsing from two
  threads at once can fail with `SystemError: AST constructor recursion depth mismatch`. Templates are compiled
  once each, under a lock, and only rendered concurrently. Loading the plugin (`helm_plugins.plugin`) already
  installs this, so any summarizer in a process that loaded the plugin is safe.
- A run whose JSON files are unreadable (truncated by an interrupted run, which `--skip-completed-runs` then
  skips) stops the summary with an error that names the file and the run to rerun.

    helm-plugins summarize --suite demo [--plots hp_audio=demo_output/audio-report]
    helm-server --suite demo        # then open http://localhost:8000
"""

import argparse
import json
import os
import sys
import threading
from importlib import resources
from pathlib import Path
from typing import Dict, Optional, Tuple

from helm_plugins.cli import add_subcommand

_TEMPLATE_LOCK = threading.Lock()
_TEMPLATES: Dict[str, object] = {}
_PATCHED = False
_TEMPLATES_PATCHED = False


def schema_path() -> Path:
    return Path(str(resources.files("helm_plugins") / "static" / "schema_helm_plugins.yaml"))


def add_parser(subparsers) -> None:
    parser = add_subcommand(subparsers, "summarize", "run helm-summarize with the helm_plugins schema", __doc__, run)
    parser.add_argument("--suite", required=True, help="suite to summarize")
    parser.add_argument("-o", "--output-path", default="benchmark_output", help="HELM output path")
    parser.add_argument("--schema-validation", default="error", choices=["error", "warn", "off"])
    parser.add_argument("--plots", action="append", default=[], type=plots_argument, metavar="GROUP=FOLDER",
                        help="link the PNGs of a report folder from a group's page (repeatable)")
    parser.set_defaults(accepts_extra_args=True)


def plots_argument(text: str) -> Tuple[str, Path]:
    group, sep, folder = text.partition("=")
    if not sep or not group or not folder:
        raise argparse.ArgumentTypeError(f"{text!r}: expected GROUP=FOLDER, e.g. hp_audio=demo_output/audio-report")
    return group, Path(folder)


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


def patch_schema_templates() -> None:
    """Compile the schema's templates once each, under a lock (idempotent). Cheap: HELM's schema module only, which
    the plugin's imports load anyway; the plugin calls it on load."""
    global _TEMPLATES_PATCHED
    if _TEMPLATES_PATCHED:
        return
    from helm.benchmark.presentation import schema as helm_schema

    def substitute(self, environment):
        return helm_schema.MetricNameMatcher(
            name=render_template(self.name, environment),
            split=render_template(self.split, environment),
            perturbation_name=(
                render_template(self.perturbation_name, environment) if self.perturbation_name is not None else None
            ),
        )

    helm_schema.MetricNameMatcher.substitute = substitute
    _TEMPLATES_PATCHED = True


def patch_helm_summarizer() -> None:
    """Make HELM's summarizer safe as described in the module docstring (idempotent)."""
    global _PATCHED
    if _PATCHED:
        return
    from helm.benchmark.presentation import summarize as helm_summarize

    patch_schema_templates()
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

    from helm_plugins import leaderboard

    schema = leaderboard.load_schema(schema_path(), args.plots)  # a bad --plots group fails before the summary
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
    suite_dir = Path(args.output_path) / "runs" / args.suite
    leaderboard.report(leaderboard.build(suite_dir, schema, args.plots), suite_dir)
    return 0
