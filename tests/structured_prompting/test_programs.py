"""Optimised programs: where they are kept (helm-run's output path), what keys them (every setting that changes
them), run names that tell runs apart, and an optimisation that got no LM reply is recorded, never saved."""

import dataclasses
import json

import pytest
from helm.benchmark.run_spec import get_run_spec_function
from helm.benchmark.runner import get_benchmark_output_path, set_benchmark_output_path

from helm_plugins.structured_prompting.executor import ANNOTATION, program_settings
from helm_plugins.structured_prompting.metrics import StructuredPromptingMetric
from tests.structured_prompting.test_executor import NUM, Endpoint, fake_deployment, key, run  # noqa: F401

SPEC = get_run_spec_function("hp_structured_prompting")


@pytest.fixture
def output_path(tmp_path, monkeypatch):
    """helm-run's -o set to a folder that is not the current directory."""
    previous = get_benchmark_output_path()
    out = tmp_path / "out"
    set_benchmark_output_path(str(out))
    monkeypatch.chdir(tmp_path / "elsewhere" if (tmp_path / "elsewhere").mkdir() is None else tmp_path)
    yield out
    set_benchmark_output_path(previous)


def test_programs_and_optimisation_data_follow_the_output_path(key, output_path, monkeypatch):
    from helm_plugins.synthetic.scenarios import SyntheticArithmeticScenario

    paths = []
    original = SyntheticArithmeticScenario.get_instances
    monkeypatch.setattr(SyntheticArithmeticScenario, "get_instances",
                        lambda self, path: paths.append(path) or original(self, path))
    run("bfrs", Endpoint(key), candidates=2)
    saved = sorted(p.name for p in (output_path / "dspy_programs").glob("*/*/bfrs/seed0/*"))
    assert len(saved) == 2 and saved[1] == saved[0].replace(".json", ".meta.json")
    assert paths[1:] == [str(output_path / "scenarios" / "hp_synthetic_arithmetic")]  # [0]: the test harness
    assert sorted(p.name for p in (output_path.parent / "elsewhere").iterdir()) == []  # nothing in the cwd


@pytest.mark.parametrize(
    "change",
    [{"candidates": 3}, {"demos": 2}, {"max_tokens": 900}, {"prompt_model": "other/proposer"},
     {"gepa_max_metric_calls": 40}, {"seed": 1}],
)
def test_every_setting_that_changes_a_program_changes_its_key_and_the_run_name(change):
    base = dict(benchmark="synthetic_arithmetic", method="bfrs", candidates=2)
    before, after = SPEC(**base), SPEC(**{**base, **change})
    assert before.name != after.name
    assert program_settings(before.adapter_spec) != program_settings(after.adapter_spec)
    assert program_settings(before.adapter_spec) == program_settings(SPEC(**base).adapter_spec)


def test_temperature_changes_the_key_and_max_eval_instances_does_not():
    spec = SPEC(benchmark="synthetic_arithmetic", method="miprov2").adapter_spec
    assert program_settings(spec) != program_settings(dataclasses.replace(spec, temperature=0.7))
    assert program_settings(spec) == program_settings(dataclasses.replace(spec, max_eval_instances=5))
    assert program_settings(spec) == program_settings(dataclasses.replace(spec, dspy_programs_dir="/x"))


def test_zero_shot_run_names_carry_max_tokens():
    names = {SPEC(benchmark="synthetic_arithmetic", method="cot", max_tokens=m).name for m in (4000, 100, 200)}
    assert len(names) == 3


def test_a_changed_setting_optimises_again_instead_of_reusing(key, tmp_path):
    endpoint = Endpoint(key)
    run("bfrs", endpoint, programs_dir=str(tmp_path), candidates=2)
    first = len(endpoint.requests)
    run("bfrs", endpoint, programs_dir=str(tmp_path), candidates=2, max_tokens=900)
    assert len(endpoint.requests) - first > NUM  # optimised again, not the stale program
    assert len(list(tmp_path.glob("*/*/bfrs/seed0/*.meta.json"))) == 2
    metas = [json.loads(p.read_text()) for p in tmp_path.glob("*/*/bfrs/seed0/*.meta.json")]
    assert sorted(m["settings"]["max_tokens"] for m in metas) == [900, 4000]



def test_an_optimisation_without_a_single_reply_is_recorded_and_never_saved(key, tmp_path):
    from helm.benchmark.adaptation.adapter_spec import AdapterSpec

    states = run("bfrs", Endpoint(key, fail=True), programs_dir=str(tmp_path), candidates=2)
    assert list(tmp_path.rglob("*.json")) == []  # nothing saved, so nothing can be reused
    notes = [s.annotations[ANNOTATION] for s in states]
    assert {n["status"] for n in notes} == {"optimisation_failure"}
    assert "every one of the" in notes[0]["error"] and "planted provider error" in notes[0]["error"]
    stats = {s.name.name: s.mean for s in StructuredPromptingMetric("synthetic_arithmetic").evaluate_generation(
        AdapterSpec(model="fakeorg/in-process", model_deployment="fakeorg/in-process"), states[0], None, "")}
    assert stats["sp_optimisation_failure"] == 1 and stats["sp_request_failure"] == 0
    assert all(s.result.completions[0].text == "" for s in states)

    # a working endpoint afterwards optimises (nothing stale was left behind)
    endpoint = Endpoint(key)
    states = run("bfrs", endpoint, programs_dir=str(tmp_path), candidates=2)
    assert {s.annotations[ANNOTATION]["status"] for s in states} <= {"ok", "parse_failure"}
    assert len(list(tmp_path.rglob("*.meta.json"))) == 1


def test_a_saved_program_whose_optimisation_had_no_reply_is_not_reused(key, tmp_path):
    run("bfrs", Endpoint(key), programs_dir=str(tmp_path), candidates=2)
    [meta_path] = list(tmp_path.rglob("*.meta.json"))
    meta = json.loads(meta_path.read_text())
    meta_path.write_text(json.dumps({**meta, "failed_lm_calls": meta["lm_calls"]}))  # as an older version saved it
    endpoint = Endpoint(key)
    states = run("bfrs", endpoint, programs_dir=str(tmp_path), candidates=2)
    assert {s.annotations[ANNOTATION]["status"] for s in states} == {"optimisation_failure"}
    assert "without a single successful LM call" in states[0].annotations[ANNOTATION]["error"]
    assert endpoint.requests == []
