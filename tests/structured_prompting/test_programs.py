"""Optimised programs: where they are kept (helm-run's output path), what keys them (every setting that changes
them), run names that tell runs apart.
(An optimisation that got no LM reply: tests/reliability/test_dspy_programs.py.)"""

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
