import json

import pytest

from helm_plugins.audio.report import build_report, plot_report, render_markdown, win_rates
from helm_plugins.audio.run_specs import aspect_of, get_audio_asr_spec, get_audio_parade_spec
from helm_plugins.common.results import RunInstance, RunRecord, make_stat, write_run_directory
from helm_plugins.common.run_entries import RunEntryError


def test_win_rates_count_ties_as_half():
    assert win_rates({"a": 0.1, "b": 0.2, "c": 0.3}, lower_is_better=True) == {"a": 1.0, "b": 0.5, "c": 0.0}
    assert win_rates({"a": 0.5, "b": 0.5}, lower_is_better=False) == {"a": 0.5, "b": 0.5}
    assert win_rates({"a": 0.5}, lower_is_better=False) == {}


def test_groups_map_to_aspects():
    assert aspect_of("hp_audio_asr") == "perception"
    assert aspect_of("hp_audio_asr_noise") == "robustness"
    assert aspect_of("librispeech_fairness") == "fairness"
    assert aspect_of("hp_audio_parade") == "bias" and aspect_of("parade") == "bias"
    assert aspect_of("corebench") == "reasoning" and aspect_of("meld_audio") == "emotion"
    assert aspect_of("hp_audio_asr_snr15") is None and aspect_of("hp_synthetic_arithmetic") is None


def _run(suite, name, group, model, stats, per_instance=None, args=None):
    instances = [RunInstance(id=f"i{i}", input="", output="", stats={"wer_score": v})
                 for i, v in enumerate(per_instance or [])]
    write_run_directory(suite, RunRecord(name=f"{name},model={model}", scenario_name=group, scenario_description="",
                                         scenario_class="x.Y", scenario_args=args or {}, model=model, method="generation",
                                         groups=[group], stats=[make_stat(k, v) for k, v in stats.items()],
                                         instances=instances))


def test_report_ranks_models_per_aspect_and_tests_released_fairness(tmp_path):
    suite = tmp_path / "runs" / "s"
    # model a transcribes better everywhere; b answers PARADE better; c ran perception only
    _run(suite, "hp_audio_asr:x", "hp_audio_asr", "org/a", {"wer_score": 0.1}, [0.1, 0.1, 0.1, 0.1])
    _run(suite, "hp_audio_asr:x", "hp_audio_asr", "org/b", {"wer_score": 0.3}, [0.3, 0.3, 0.3, 0.3])
    _run(suite, "hp_audio_asr:x", "hp_audio_asr", "org/c", {"wer_score": 0.2})
    # two noise levels in one group: a model's runs are averaged (0.4, 0.2 -> 0.3 beats 0.9, 0.1 -> 0.5)
    for snr, (a, b) in (("15", (0.4, 0.9)), ("30", (0.2, 0.1))):
        _run(suite, f"hp_audio_asr:n{snr}", "hp_audio_asr_noise", "org/a", {"wer_score": a})
        _run(suite, f"hp_audio_asr:n{snr}", "hp_audio_asr_noise", "org/b", {"wer_score": b})
    for voice, rates in (("male", (0.2, 0.6)), ("female", (0.4, 0.8))):
        for model, stereotype in zip(("org/a", "org/b"), rates):
            _run(suite, f"hp_audio_parade:{voice}", "hp_audio_parade", model,
                 {"exact_match": 1 - stereotype, "stereotype": stereotype, "unclear": 1 - stereotype},
                 args={"voice": "rms" if voice == "male" else "slt", "subset": "occupation"})
    _run(suite, "librispeech_fairness:f", "librispeech_fairness", "org/a", {"wer_score": 0.5},
         [0.5, 0.6, 0.4, 0.5, 0.55, 0.45], args={"gender": "female"})
    _run(suite, "librispeech_fairness:m", "librispeech_fairness", "org/a", {"wer_score": 0.1},
         [0.1, 0.05, 0.15, 0.1, 0.12, 0.08], args={"gender": "male"})
    report = build_report(suite, resamples=50)
    assert report["mean_win_rate"]["perception"] == {"org/a": 1.0, "org/b": 0.0, "org/c": 0.5}
    assert report["mean_win_rate"]["robustness"] == {"org/a": 1.0, "org/b": 0.0}
    assert report["mean_win_rate"]["bias"] == {"org/a": 1.0, "org/b": 0.0}
    assert "fairness" not in report["mean_win_rate"]  # one model: no one to beat
    assert "emotion" in report["aspects_without_runs"] and len(report["aspects"]) == 10
    # constant per-instance values: the bootstrap interval is the point
    assert report["mean_win_rate_interval"]["perception"]["org/a"] == (1.0, 1.0)
    fairness = report["fairness"][0]
    assert fairness["data"] == "librispeech_fairness" and fairness["gap"] == pytest.approx(0.4)
    assert fairness["p_value"] == pytest.approx(2 / 924, rel=0.01)  # the most extreme of C(12, 6) labelings, two-sided
    voices = {(r["model"], r["voice"]): r["stereotype_rate"] for r in report["bias"]}
    assert voices[("org/b", "female")] == 0.8 and voices[("org/a", "male")] == 0.2
    markdown = render_markdown(report)
    assert "| org/a | 1.00 [1.00, 1.00] | – |" in markdown
    json.dumps(report)  # the report is JSON-serialisable
    plot = plot_report(report, tmp_path / "out" / "audio_aspects.png")
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_suite_without_audio_runs_is_an_error(tmp_path):
    (tmp_path / "runs" / "s").mkdir(parents=True)
    with pytest.raises(ValueError, match="no audio runs"):
        build_report(tmp_path / "runs" / "s")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        build_report(tmp_path / "runs" / "missing")


def test_run_entries_are_validated_and_groups_carry_no_parameter_values():
    with pytest.raises(ValueError, match="unknown voice 'bob'"):
        get_audio_asr_spec(voices="rms+bob")
    spec = get_audio_asr_spec(snr_db=12.5)  # a level no schema lists: still the one robustness group
    assert spec.groups == ["hp_audio_asr_noise"] and "snr_db=12.5" in spec.name
    assert get_audio_parade_spec(voice="female").scenario_spec.args["voice"] == "slt"
    assert get_audio_parade_spec(voice="female").groups == get_audio_parade_spec(subset="status").groups
    from helm.benchmark.run_spec import _REGISTERED_RUN_SPEC_FUNCTIONS

    with pytest.raises(RunEntryError, match="voice"):
        _REGISTERED_RUN_SPEC_FUNCTIONS["hp_audio_parade"](voice="robot")
