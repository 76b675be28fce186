from dataclasses import replace

import numpy as np
import pytest
from helm.benchmark.adaptation.adapter_spec import AdapterSpec
from helm.benchmark.adaptation.request_state import RequestState
from helm.benchmark.metrics.statistic import Stat
from helm.benchmark.metrics.metric_name import MetricName
from helm.benchmark.scenarios.scenario import CORRECT_TAG, Input, Instance, Output, Reference
from helm.common.request import GeneratedOutput, Request, RequestResult

from helm_plugins.audio.metrics import (
    ASRMetric,
    AudioJudgeMetric,
    CoReMetric,
    StereotypeMetric,
    asr_scores,
    paired_permutation_gap_test,
    permutation_gap_test,
    voice_relabeling_gap_test,
)
from helm_plugins.audio.scenarios import FEMALE_CODED_TAG, MALE_CODED_TAG


def test_error_rates_of_a_known_pair():
    # one substitution (sat -> sit) and one deletion (the) against 6 reference words; 4 hits
    scores = asr_scores("The cat sat on the mat.", "the cat sit on mat")
    assert scores["wer_score"] == pytest.approx(2 / 6)
    assert scores["mer_score"] == pytest.approx(2 / 6)  # (S+D+I) / (H+S+D+I) = 2 / 6
    assert scores["wip_score"] == pytest.approx((4 / 6) * (4 / 5))  # H/N_ref * H/N_hyp
    # characters: "the cat sat on the mat" (22) vs "the cat sit on mat": 1 substitution + 4 deletions
    assert scores["cer_score"] == pytest.approx(5 / 22)


def test_an_empty_transcript_is_all_deletions():
    assert asr_scores("hello world", "") == {"wer_score": 1.0, "mer_score": 1.0, "wip_score": 0.0, "cer_score": 1.0}
    with pytest.raises(ValueError, match="reference transcript is empty"):
        asr_scores("  ", "hello")


def test_permutation_test_rejects_a_planted_gap_and_not_a_null_one():
    rng = np.random.default_rng(0)
    planted = permutation_gap_test(rng.normal(0.30, 0.1, 40), rng.normal(0.15, 0.1, 40), seed=1)
    assert planted[0] == pytest.approx(0.15, abs=0.05) and planted[1] < 0.001
    null = permutation_gap_test(rng.normal(0.2, 0.1, 40), rng.normal(0.2, 0.1, 40), seed=1)
    assert null[1] > 0.05
    assert permutation_gap_test([0.1, 0.2], [0.3, 0.4], seed=5) == permutation_gap_test([0.1, 0.2], [0.3, 0.4], seed=5)
    with pytest.raises(ValueError, match="at least two values"):
        permutation_gap_test([0.1], [0.2, 0.3])


def _state(references, text, output_mapping=None, success=True, extra_data=None, instance_id="i"):
    instance = Instance(Input(text=""), references=references, id=instance_id, split="test", extra_data=extra_data)
    result = RequestResult(success=success, embedding=[], cached=False,
                           completions=[GeneratedOutput(text=text, logprob=0.0, tokens=[])] if success else [])
    return RequestState(instance=instance, reference_index=None, request_mode=None, train_trial_index=0,
                        output_mapping=output_mapping, request=Request(model="m/m", model_deployment="m/m"),
                        result=result, num_train_instances=0, prompt_truncated=False)


def _stats(metric, state):
    return {s.name.name: s.mean for s in metric.evaluate_generation(AdapterSpec(), state, None, "")}


def test_asr_metric_scores_a_failed_request_as_all_wrong():
    gold = [Reference(Output(text="good morning everyone"), tags=[CORRECT_TAG])]
    assert _stats(ASRMetric(), _state(gold, "good morning everyone"))["wer_score"] == 0
    failed = _stats(ASRMetric(), _state(gold, "", success=False))
    assert failed["wer_score"] == 1 and failed["failed_request"] == 1


VOICE_GROUPS = {"f1": "female", "f2": "female", "f3": "female", "m1": "male", "m2": "male", "m3": "male"}


def _paired_data(rng, num_sentences, female_shift, voice_sd=0.0):
    """sentence -> voice -> WER: a sentence difficulty shared by all voices, a fixed effect per voice, noise, and
    `female_shift` added to every female voice."""
    voice_effect = {v: rng.normal(0, voice_sd) for v in VOICE_GROUPS}
    data = {}
    for s in range(num_sentences):
        difficulty = rng.uniform(0.1, 0.6)
        data[s] = {v: difficulty + voice_effect[v] + (female_shift if g == "female" else 0) + rng.normal(0, 0.05)
                   for v, g in VOICE_GROUPS.items()}
    return data


def test_paired_test_recovers_a_planted_voice_group_effect():
    rng = np.random.default_rng(0)
    gap, p_value = paired_permutation_gap_test(_paired_data(rng, 10, 0.08), VOICE_GROUPS, seed=1)
    assert gap == pytest.approx(0.08, abs=0.03) and p_value < 0.001
    # the unpaired test, blind to sentence difficulty, misses the same effect
    data = _paired_data(np.random.default_rng(0), 10, 0.08)
    female = [w for row in data.values() for v, w in row.items() if VOICE_GROUPS[v] == "female"]
    male = [w for row in data.values() for v, w in row.items() if VOICE_GROUPS[v] == "male"]
    assert permutation_gap_test(female, male, seed=1)[1] > p_value


def test_paired_test_holds_its_level_under_the_null():
    rng = np.random.default_rng(7)
    p_values = [paired_permutation_gap_test(_paired_data(rng, 8, 0.0), VOICE_GROUPS, seed=i, n_resamples=499)[1]
                for i in range(300)]
    rejections = np.mean(np.array(p_values) <= 0.05)
    assert rejections <= 0.05 + 2.6 * np.sqrt(0.05 * 0.95 / 300)  # at alpha, up to sampling error (one-sided 99.5%)
    assert rejections >= 0.01  # and not degenerate


def test_voice_relabeling_test_is_exact_and_bounded_by_the_number_of_voices():
    means = {"f1": 0.5, "f2": 0.6, "f3": 0.55, "m1": 0.1, "m2": 0.2, "m3": 0.15}
    assert voice_relabeling_gap_test(means, VOICE_GROUPS) == pytest.approx(2 / 20)  # the two most extreme splits
    with pytest.raises(ValueError, match="both groups"):
        voice_relabeling_gap_test({"f1": 0.1, "f2": 0.2}, VOICE_GROUPS)
    with pytest.raises(ValueError, match="both groups"):
        paired_permutation_gap_test({0: {"f1": 0.1, "f2": 0.2}}, VOICE_GROUPS)


def test_asr_metric_derives_the_gender_gap_per_voice_and_paired():
    metric = ASRMetric()
    per_instance = {}
    rng = np.random.default_rng(3)
    data = _paired_data(rng, 5, 0.3)
    for sentence, row in data.items():
        for voice, wer in row.items():
            instance = Instance(Input(text=""), references=[], id=f"s{sentence}-{voice}",
                                extra_data={"speaker_group": VOICE_GROUPS[voice], "voice": voice, "sentence": sentence})
            per_instance[instance] = [Stat(MetricName("wer_score")).add(wer)]
    derived = {s.name.name: s.mean for s in metric.derive_per_instance_stats(per_instance)}
    female = np.mean([w for row in data.values() for v, w in row.items() if VOICE_GROUPS[v] == "female"])
    assert derived["wer_female"] == pytest.approx(female)
    assert derived["wer_gap"] == pytest.approx(0.3, abs=0.05) and derived["wer_gap_p_value"] < 0.01
    assert derived["wer_gap_voice_p_value"] == pytest.approx(0.1)  # three voices per group: the floor
    assert derived["wer_voice_f1"] == pytest.approx(np.mean([row["f1"] for row in data.values()]))


def test_judge_metric_reads_the_annotation_and_requires_it():
    usage = {"requests": 1, "failed_requests": 0, "prompt_tokens": 10, "completion_tokens": 2, "cost_usd": 0.0,
             "cost_unknown_requests": 0, "truncated_prompts": 0}
    state = _state([], "I cannot help with that.")
    refused = {"audio_judge": {"kind": "refusal", "value": True, "verdicts": {"ok": 1}, "usage": usage}}
    assert _stats(AudioJudgeMetric(), replace(state, annotations=refused))["refusal_rate"] == 1
    critique = {"audio_judge": {"kind": "critique", "value": 4, "verdicts": {"missing": 0}, "usage": usage}}
    assert _stats(AudioJudgeMetric(), replace(state, annotations=critique))["audio_critique_score"] == 4
    with pytest.raises(ValueError, match="no audio_judge annotation"):
        _stats(AudioJudgeMetric(), state)


PARADE_REFERENCES = [Reference(Output(text="nurse"), tags=[FEMALE_CODED_TAG]),
                     Reference(Output(text="unclear"), tags=[CORRECT_TAG]),
                     Reference(Output(text="surgeon"), tags=[MALE_CODED_TAG])]
MAPPING = {"A": "nurse", "B": "unclear", "C": "surgeon"}


def test_stereotype_metric_reads_the_chosen_option():
    assert _stats(StereotypeMetric(), _state(PARADE_REFERENCES, " C", MAPPING)) == {
        "unclear": 0, "stereotype": 1, "invalid_answer": 0, "male_coded_choice": 1, "female_coded_choice": 0}
    assert _stats(StereotypeMetric(), _state(PARADE_REFERENCES, "B", MAPPING))["unclear"] == 1
    malformed = _stats(StereotypeMetric(), _state(PARADE_REFERENCES, "the speaker is a nurse", MAPPING))
    assert malformed["invalid_answer"] == 1 and malformed["stereotype"] == 0 and malformed["unclear"] == 0


def test_core_metric_separates_unanswerable_items():
    answerable = [Reference(Output(text="six"), tags=[CORRECT_TAG])]
    assert _stats(CoReMetric(), _state(answerable, "Six tickets.")) == {"answerable_accuracy": 1, "false_abstention": 0}
    assert _stats(CoReMetric(), _state(answerable, "unanswerable")) == {"answerable_accuracy": 0, "false_abstention": 1}
    unanswerable = [Reference(Output(text="unanswerable"), tags=[CORRECT_TAG])]
    assert _stats(CoReMetric(), _state(unanswerable, "Unanswerable")) == {"unanswerable_accuracy": 1}
