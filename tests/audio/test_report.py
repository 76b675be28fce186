import json

import pytest

from helm_plugins.audio.report import aspect_records, build_report, render_markdown, win_rates
from helm_plugins.audio.run_specs import aspect_of, get_audio_asr_spec, get_audio_parade_spec
from helm_plugins.common.results import RunInstance, RunRecord, make_stat, write_run_directory
from helm_plugins.common.run_entries import RunEntryError


def test_win_rates_count_ties_as_half():
    assert win_rates({"a": 0.1, "b": 0.2, "c": 0.3}, lower_is_better=True) == {"a": 1.0, "b": 0.5, "c": 0.0}
    assert win_rates({"a": 0.5, "b": 0.5}, lower_is_better=False) == {"a": 0.5, "b": 0.5}
    assert win_rates({"a": 0.5}, lower_is_better=False) == {}


def test_groups_map_to_aspects():
    assert aspect_of("hp_audio_asr") == "perception"
    assert aspect_of("hp_audio_asr_snr15") == "robustness"
    assert aspect_of("hp_audio_asr_fairness_released_male") == "fairness"
    assert aspect_of("hp_audio_parade_status_female") == "bias"
    assert aspect_of("hp_audio_core_released") == "reasoning"
    assert aspect_of("hp_audio_aspects") is None and aspect_of("hp_synthetic_arithmetic") is None


def _run(suite, name, group, model, stats, per_instance=None):
    instances = [RunInstance(id=f"i{i}", input="", output="", stats={"wer": v}) for i, v in enumerate(per_instance or [])]
    write_run_directory(suite, RunRecord(name=f"{name},model={model}", scenario_name=group, scenario_description="",
                                         scenario_class="x.Y", scenario_args={}, model=model, method="generation",
                                         groups=[group], stats=[make_stat(k, v) for k, v in stats.items()],
                                         instances=instances))


def test_report_ranks_models_per_aspect_and_tests_released_fairness(tmp_path):
    suite = tmp_path / "runs" / "s"
    # model a transcribes better everywhere; b answers PARADE better; c ran perception only
    _run(suite, "hp_audio_asr:x", "hp_audio_asr", "org/a", {"wer": 0.1})
    _run(suite, "hp_audio_asr:x", "hp_audio_asr", "org/b", {"wer": 0.3})
    _run(suite, "hp_audio_asr:x", "hp_audio_asr", "org/c", {"wer": 0.2})
    _run(suite, "hp_audio_asr:n", "hp_audio_asr_snr15", "org/a", {"wer": 0.4})
    _run(suite, "hp_audio_asr:n", "hp_audio_asr_snr15", "org/b", {"wer": 0.9})
    for voice, rates in (("male", (0.2, 0.6)), ("female", (0.4, 0.8))):
        for model, stereotype in zip(("org/a", "org/b"), rates):
            _run(suite, f"hp_audio_parade:{voice}", f"hp_audio_parade_occupation_{voice}", model,
                 {"exact_match": 1 - stereotype, "stereotype": stereotype, "unclear": 1 - stereotype})
    _run(suite, "hp_audio_asr_fairness:f", "hp_audio_asr_fairness_released_female", "org/a", {"wer": 0.5},
         [0.5, 0.6, 0.4, 0.5, 0.55, 0.45])
    _run(suite, "hp_audio_asr_fairness:m", "hp_audio_asr_fairness_released_male", "org/a", {"wer": 0.1},
         [0.1, 0.05, 0.15, 0.1, 0.12, 0.08])
    report = build_report(suite)
    assert report["mean_win_rate"]["perception"] == {"org/a": 1.0, "org/b": 0.0, "org/c": 0.5}
    assert report["mean_win_rate"]["robustness"] == {"org/a": 1.0, "org/b": 0.0}
    assert report["mean_win_rate"]["bias"] == {"org/a": 1.0, "org/b": 0.0}
    assert "fairness" not in report["mean_win_rate"]  # one model: no one to beat
    fairness = report["fairness"][0]
    assert fairness["data"] == "released" and fairness["gap"] == pytest.approx(0.4)
    assert fairness["p_value"] == pytest.approx(2 / 924, rel=0.01)  # the most extreme of C(12, 6) labelings, two-sided
    voices = {(r["model"], r["voice"]): r["stereotype_rate"] for r in report["bias"]}
    assert voices[("org/b", "female")] == 0.8 and voices[("org/a", "male")] == 0.2
    markdown = render_markdown(report)
    assert "| org/a | 1.000 | 1.000 | 1.000 | 1.000 |" in markdown
    records = {r.model: {s.name.name: s.mean for s in r.stats} for r in aspect_records(report)}
    assert records["org/b"]["stereotype_rate_female_voice"] == 0.8 and records["org/c"]["mwr_perception"] == 0.5
    json.dumps(report)  # the report is JSON-serialisable


def test_a_suite_without_audio_runs_is_an_error(tmp_path):
    (tmp_path / "runs" / "s").mkdir(parents=True)
    with pytest.raises(ValueError, match="no audio runs"):
        build_report(tmp_path / "runs" / "s")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        build_report(tmp_path / "runs" / "missing")


def test_run_entries_are_validated():
    with pytest.raises(ValueError, match="unknown voice 'bob'"):
        get_audio_asr_spec(voices="rms+bob")
    spec = get_audio_asr_spec(snr_db=15.0)
    assert spec.groups == ["hp_audio_asr_snr15"] and "snr_db=15" in spec.name
    assert get_audio_parade_spec(voice="female").scenario_spec.args["voice"] == "slt"
    from helm.benchmark.run_spec import _REGISTERED_RUN_SPEC_FUNCTIONS

    with pytest.raises(RunEntryError, match="voice"):
        _REGISTERED_RUN_SPEC_FUNCTIONS["hp_audio_parade"](voice="robot")


@pytest.mark.parametrize("spec, kwargs", [
    (get_audio_asr_spec, {"source": "librispeech"}),
    (get_audio_asr_spec, {"source": "speech_robust_bench", "level": 3}),
    (get_audio_parade_spec, {"source": "released", "voice": "female"}),
])
def test_released_sources_use_helms_scenario_classes(spec, kwargs):
    import ast
    import importlib.util

    run_spec = spec(**kwargs)
    module, _, name = run_spec.scenario_spec.class_name.rpartition(".")
    assert module.startswith("helm.benchmark.scenarios.audio_language.")
    # read, not imported: HELM's ASR loaders import crfm-helm[audiolm] packages (the audio-released extra)
    tree = ast.parse(open(importlib.util.find_spec(module).origin).read())
    assert name in [node.name for node in tree.body if isinstance(node, ast.ClassDef)]
    assert aspect_of(run_spec.groups[0]) is not None and "released" in run_spec.groups[0]
