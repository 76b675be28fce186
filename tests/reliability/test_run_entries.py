"""Run entries: every numeric argument rejects NaN and infinities; a run's name identifies its input file (two
files of the same name in different folders are two runs, also under --skip-completed-runs); inputs that can be
checked before a run starts are checked then."""

import inspect
import json
import math
import typing
from pathlib import Path

import pytest
from helm.benchmark.run_spec import _REGISTERED_RUN_SPEC_FUNCTIONS, get_run_spec_function

import helm_plugins.plugin  # noqa: F401  (registers run specs and the embedded model)
from helm_plugins.common.run_entries import RUN_ENTRY_PREFIX, RunEntryError
from tests.conftest import BIN, run_command


def float_arguments():
    """(run spec name, argument) for every float-typed argument of every run spec function of the package."""
    cases = []
    for name in sorted(n for n in _REGISTERED_RUN_SPEC_FUNCTIONS if n.startswith(RUN_ENTRY_PREFIX)):
        function = inspect.unwrap(_REGISTERED_RUN_SPEC_FUNCTIONS[name])
        for argument, annotation in typing.get_type_hints(function, include_extras=True).items():
            if "float" in repr(annotation) and argument != "return":
                cases.append((name, argument))
    return cases


def test_the_audio_snr_case_is_among_the_float_arguments():
    assert ("hp_audio_asr", "snr_db") in float_arguments() and len(float_arguments()) >= 8


@pytest.mark.parametrize("name, argument", float_arguments())
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_are_rejected_for_every_numeric_argument(name, argument, value):
    with pytest.raises(RunEntryError, match=rf"argument {argument}={value}: Input should be a finite number"):
        get_run_spec_function(name)(**{argument: value})


@pytest.fixture
def twin_files(tmp_path, write_jsonl):
    """Two files named texts.jsonl in folders a/ and b/, with different rows in each format the specs read."""

    def make(rows_a, rows_b, name="texts.jsonl"):
        return write_jsonl(tmp_path / "a" / name, rows_a), write_jsonl(tmp_path / "b" / name, rows_b)

    return make


def text_rows(n):
    return [{"id": f"t{i}", "text": f"text number {i} of {n}", "subgroup": "rare", "label": i % 2, "group": (i // 2) % 2,
             "position": i, "question_id": f"q{i}", "title": "t", "body": f"question {i} of {n}"} for i in range(n)]


@pytest.mark.parametrize(
    "name, argument, extra",
    [("hp_text_loss", "source", {"subgroup": "rare"}), ("hp_provenance", "transcript", {}),
     ("hp_fairness", "source", {}), ("hp_uq", "questions", {}), ("hp_provenance", "reference", {"transcript": "tiny-default"})],
)
def test_same_named_input_files_in_two_folders_give_two_runs(twin_files, name, argument, extra):
    a, b = twin_files(text_rows(4), text_rows(5), name="losses.jsonl" if argument == "reference" else "texts.jsonl")
    spec = get_run_spec_function(name)
    name_a, name_b = spec(**{argument: str(a)}, **extra).name, spec(**{argument: str(b)}, **extra).name
    assert name_a != name_b
    stem = a.stem
    assert f"={stem}-" in name_a and f"={stem}-" in name_b  # the readable name stays, a content hash beside it
    assert spec(**{argument: str(a)}, **extra).name == name_a  # the same file gives the same run (resumable)


@pytest.mark.parametrize("name, argument", [("hp_text_loss", "source"), ("hp_provenance", "transcript"),
                                            ("hp_fairness", "source"), ("hp_uq", "questions")])
def test_a_missing_input_file_fails_when_the_entry_is_read(tmp_path, name, argument):
    extra = {"subgroup": "rare"} if name == "hp_text_loss" else {}
    with pytest.raises(RunEntryError, match=rf"{tmp_path / 'absent.jsonl'} not found"):
        get_run_spec_function(name)(**{argument: str(tmp_path / "absent.jsonl")}, **extra)


@pytest.mark.slow
def test_two_same_named_files_are_two_helm_runs_also_with_skip_completed_runs(tmp_path, twin_files):
    a, b = twin_files([{"id": f"a{i}", "text": f"The cat sat on mat {i}.", "subgroup": "rare"} for i in range(2)],
                      [{"id": f"b{i}", "text": f"A dog ran in park {i}.", "subgroup": "rare"} for i in range(3)])
    helm_run = [BIN / "helm-run", "--suite", "s", "-o", tmp_path / "out", "-m", "10", "-n", "1", "--run-entries"]
    entry = "hp_text_loss:source={},subgroup=rare,model=helm-plugins/tiny-default"
    run_command(helm_run + [entry.format(a)], cwd=tmp_path)
    # a is complete: --skip-completed-runs skips it, and must not take b (same base name) for it
    log = run_command(helm_run + [entry.format(a), entry.format(b), "--skip-completed-runs"], cwd=tmp_path).stdout
    runs = sorted((tmp_path / "out" / "runs" / "s").glob("hp_text_loss:*"))
    assert len(runs) == 2, [r.name for r in runs]
    sources = {}
    for run in runs:
        spec = json.loads((run / "run_spec.json").read_text())
        instances = json.loads((run / "per_instance_stats.json").read_text())
        sources[spec["scenario_spec"]["args"]["source"]] = sorted(i["instance_id"] for i in instances)
    assert sources == {str(a): ["a0", "a1"], str(b): ["b0", "b1", "b2"]}
    assert log.count("Skipping run hp_text_loss") == 1


@pytest.fixture
def runner(tmp_path, monkeypatch):
    """HELM's Runner (as helm-run builds it) whose scenario loading is recorded instead of run."""
    from helm.benchmark import runner as runner_module
    from helm.benchmark.executor import ExecutionSpec
    from helm.common.authentication import Authentication

    from helm_plugins.common.run_entries import add_checks_before_runs

    add_checks_before_runs()  # the plugin installs it at load when HELM's runner is loaded (helm-run)
    started = []
    monkeypatch.setattr(runner_module, "create_scenario", lambda spec: started.append(spec) or pytest.fail("run started"))
    spec = ExecutionSpec(url=None, auth=Authentication(""), local_path=str(tmp_path / "prod_env"), parallelism=1)
    runner = runner_module.Runner(spec, str(tmp_path / "out"), "p", False, False, False, False, True)
    runner.started = started
    return runner


def test_a_missing_provenance_reference_fails_before_the_run_starts(runner, tmp_path):
    construct = get_run_spec_function("hp_provenance")
    with pytest.raises(ValueError, match="no hp_provenance run of it on transcript 'tiny-default'.*run 'hp_provenance:tr"):
        runner.run_one(construct(transcript="tiny-default", reference="org/absent"))
    bad_losses = tmp_path / "losses.jsonl"
    bad_losses.write_text('{"id": "x", "loss": "high"}\n')
    with pytest.raises(ValueError, match=r"losses.jsonl:1: field 'loss' must be a finite number, got 'high'"):
        runner.run_one(construct(transcript="tiny-default", reference=str(bad_losses)))
    assert runner.started == []  # no scenario loaded, no example scored


@pytest.mark.parametrize("damaged", [None, "stats.json", "per_instance_stats.json", "scenario_state.json"])
def test_skip_completed_runs_does_not_skip_a_run_with_a_truncated_result_file(runner, damaged):
    run_spec = get_run_spec_function("hp_synthetic_arithmetic")(num_instances=3)
    run_dir = Path(runner.runs_path) / run_spec.name
    run_dir.mkdir(parents=True)
    for name in ("run_spec.json", "scenario.json", "scenario_state.json", "stats.json", "per_instance_stats.json"):
        (run_dir / name).write_text(json.dumps([{"name": {"name": "exact_match", "split": "test"}, "count": 1}]))
    if damaged:
        (run_dir / damaged).write_text((run_dir / damaged).read_text()[:20])  # HELM's in-place write, interrupted
    runner.skip_completed_runs = True
    if damaged:
        with pytest.raises(pytest.fail.Exception, match="run started"):
            runner.run_one(run_spec)
        assert len(runner.started) == 1  # the run is done again instead of skipped
    else:
        runner.run_one(run_spec)
        assert runner.started == []  # a complete run is still skipped
