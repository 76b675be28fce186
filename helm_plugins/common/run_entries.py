"""Registering run spec functions with HELM, with run-entry arguments checked before anything runs.

Every run spec name of this package starts with RUN_ENTRY_PREFIX, so none can clash with HELM's own (a clash
raises in HELM). Arguments arrive from the run entry as int, float or str; they are validated against the
function's annotations, and a bad one fails with the entry, the argument, the problem and the valid choices.
NaN and infinities are rejected for every numeric argument (HELM parses `snr_db=nan` as a float).

An input file named in a run entry enters the run's name as `input_label(path)`: its base name plus a short hash
of its content, so two files of the same name in different folders (or one file edited between runs) give two
runs instead of one overwriting, or `--skip-completed-runs` skipping, the other. A missing file fails here.

HELM reports an unknown model or run spec name without saying which entry of a conf it came from;
`add_run_entry_context` wraps HELM's `construct_run_specs` (once, at plugin load) so that every such error
names the entry and suggests the nearest valid names.
"""

import difflib
import functools
import hashlib
import inspect
import json
import sys
from pathlib import Path
from typing import Callable, Collection, List, TypeVar

from helm.benchmark import run_spec_factory
from helm.benchmark.run_spec import _REGISTERED_RUN_SPEC_FUNCTIONS, RunSpec, run_spec_function
from helm.common.object_spec import ObjectSpec, get_class_by_name
from pydantic import ConfigDict, ValidationError, validate_call

RUN_ENTRY_PREFIX = "hp_"

F = TypeVar("F", bound=Callable[..., RunSpec])
ARGUMENT_RULES = ConfigDict(allow_inf_nan=False)  # the one validator of every run-entry argument
CONTENT_HASH_LENGTH = 8
RUN_RESULT_FILES = ("run_spec.json", "scenario.json", "scenario_state.json", "stats.json", "per_instance_stats.json")


class RunEntryError(ValueError):
    def __init__(self, entry: str, problem: str):
        super().__init__(f"run entry {entry!r}: {problem}")
        self.entry = entry
        self.problem = problem


def describe_entry(name: str, kwargs: dict) -> str:
    args = ",".join(f"{key}={value}" for key, value in kwargs.items())
    return f"{name}:{args}" if args else name


def plugin_run_spec_function(name: str) -> Callable[[F], F]:
    """Like HELM's `@run_spec_function(name)`, with the prefix enforced and the arguments validated."""
    if not name.startswith(RUN_ENTRY_PREFIX):
        raise ValueError(f"run spec name {name!r} must start with {RUN_ENTRY_PREFIX!r}")

    def wrap(func: F) -> F:
        parameters = inspect.signature(func).parameters
        validated = validate_call(func, config=ARGUMENT_RULES)

        @functools.wraps(func)
        def checked(**kwargs) -> RunSpec:
            entry = describe_entry(name, kwargs)
            for key in kwargs:
                if key not in parameters:
                    close = difflib.get_close_matches(key, parameters, n=1)
                    hint = f" Did you mean {close[0]!r}?" if close else ""
                    valid = ", ".join(parameters) or "none"
                    raise RunEntryError(entry, f"unknown argument {key!r}.{hint} Valid arguments: {valid}")
            try:
                return validated(**kwargs)
            except ValidationError as error:
                problems = "; ".join(
                    f"argument {'.'.join(map(str, e['loc']))}={e.get('input')!r}: {e['msg']}" for e in error.errors()
                )
                raise RunEntryError(entry, problems) from None
            except RunEntryError:
                raise
            except ValueError as error:  # a check of the function itself (a missing file, a bad strategy, ...)
                raise RunEntryError(entry, str(error)) from None

        run_spec_function(name)(checked)
        return func

    return wrap


def input_label(value: str, keywords: Collection[str] = (), what: str = "input file") -> str:
    """Run-name label of an input: a keyword as itself; a file as `<base name>-<hash of its content>`."""
    if value in keywords:
        return value
    path = Path(value)
    if not path.is_file():
        choices = f" (or one of: {', '.join(keywords)})" if keywords else ""
        raise ValueError(f"{what} {value} not found{choices}")
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return f"{path.stem}-{digest.hexdigest()[:CONTENT_HASH_LENGTH]}"


def _suggest(name: str, candidates: List[str]) -> str:
    close = difflib.get_close_matches(name, candidates, n=3, cutoff=0.5)
    return f" Did you mean {', '.join(map(repr, close))}?" if close else ""


def _hint(spec: ObjectSpec, error: ValueError) -> str:
    message = str(error)
    if message.startswith("Unknown run spec name"):
        return _suggest(spec.class_name, list(_REGISTERED_RUN_SPEC_FUNCTIONS))
    if message.startswith("Unknown model") and isinstance(spec.args.get("model"), str):
        from helm.benchmark.model_metadata_registry import get_all_models

        return _suggest(spec.args["model"], get_all_models())
    return ""


def add_run_entry_context() -> None:
    """Make HELM's run-entry errors name the entry (idempotent)."""
    original = run_spec_factory.construct_run_specs
    if getattr(original, "adds_run_entry_context", False):
        return

    @functools.wraps(original)
    def construct_run_specs(spec: ObjectSpec) -> List[RunSpec]:
        entry = describe_entry(spec.class_name, spec.args)
        try:
            return original(spec)
        except RunEntryError as error:  # raised by our run spec functions, which see no run-expander arguments
            raise RunEntryError(entry, error.problem) from None
        except ValueError as error:
            raise RunEntryError(entry, f"{error}.{_hint(spec, error)}") from error

    construct_run_specs.adds_run_entry_context = True  # type: ignore[attr-defined]
    run_spec_factory.construct_run_specs = construct_run_specs
    run_module = sys.modules.get("helm.benchmark.run")
    if run_module is not None:  # helm-run imported the name before loading plugins
        run_module.construct_run_specs = construct_run_specs


def add_checks_before_runs() -> None:
    """Make helm-run check a run's inputs before its scenario and model run (idempotent).

    A metric class of this package may define `check_before_run(args, suite_dir)` (args: its MetricSpec's args,
    suite_dir: benchmark_output/runs/<suite>); it is called when the run starts, after `--skip-completed-runs`
    has had its say, so that e.g. a missing reference run fails before any example is scored. And
    `--skip-completed-runs` counts a run as complete only if its result files parse (HELM writes them in place,
    so an interrupted write leaves a truncated stats.json that HELM alone would skip): an unreadable one is
    logged by name and the run is done again. Outside helm-run (HELM's runner not loaded) nothing is changed.
    """
    runner_module = sys.modules.get("helm.benchmark.runner")
    if runner_module is None:
        return
    runner_class = runner_module.Runner
    original = runner_class.run_one
    if getattr(original, "checks_before_runs", False):
        return
    is_complete = runner_class._is_run_completed

    def _is_run_completed(self, run_path: str) -> bool:
        if not is_complete(self, run_path):
            return False
        for name in RUN_RESULT_FILES:
            try:
                with open(Path(run_path) / name) as file:
                    json.load(file)
            except (OSError, ValueError) as error:
                runner_module.hlog(f"{Path(run_path) / name} is unreadable ({error}): running {Path(run_path).name} again")
                return False
        return True

    @functools.wraps(original)
    def run_one(self, run_spec: RunSpec):
        if not (self.skip_completed_runs and is_complete(self, self._get_run_path(run_spec))):  # HELM's own test
            for metric_spec in run_spec.metric_specs:
                if metric_spec.class_name.startswith("helm_plugins."):
                    check = getattr(get_class_by_name(metric_spec.class_name), "check_before_run", None)
                    if check is not None:
                        check(dict(metric_spec.args), Path(self.runs_path))
        return original(self, run_spec)

    run_one.checks_before_runs = True  # type: ignore[attr-defined]
    runner_class.run_one = run_one
    runner_class._is_run_completed = _is_run_completed
