import numpy as np
import pytest
from helm.benchmark.adaptation.adapter_spec import AdapterSpec
from helm.benchmark.adaptation.request_state import RequestState
from helm.benchmark.metrics.statistic import Stat
from helm.benchmark.metrics.metric_name import MetricName
from helm.benchmark.scenarios.scenario import CORRECT_TAG, Input, Instance, Output, Reference
from helm.common.request import GeneratedOutput, Request, RequestResult

from helm_plugins.audio.metrics import ASRMetric, CoReMetric, StereotypeMetric, asr_scores, permutation_gap_test
from helm_plugins.audio.scenarios import FEMALE_CODED_TAG, MALE_CODED_TAG


def test_error_rates_of_a_known_pair():
    # one substitution (sat -> sit) and one deletion (the) against 6 reference words; 4 hits
    scores = asr_scores("The cat sat on the mat.", "the cat sit on mat")
    assert scores["wer"] == pytest.approx(2 / 6)
    assert scores["mer"] == pytest.approx(2 / 6)  # (S+D+I) / (H+S+D+I) = 2 / 6
    assert scores["wip"] == pytest.approx((4 / 6) * (4 / 5))  # H/N_ref * H/N_hyp
    # characters: "the cat sat on the mat" (22) vs "the cat sit on mat": 1 substitution + 4 deletions
    assert scores["cer"] == pytest.approx(5 / 22)


def test_an_empty_transcript_is_all_deletions():
    assert asr_scores("hello world", "") == {"wer": 1.0, "mer": 1.0, "wip": 0.0, "cer": 1.0}
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
    assert _stats(ASRMetric(), _state(gold, "good morning everyone"))["wer"] == 0
    failed = _stats(ASRMetric(), _state(gold, "", success=False))
    assert failed["wer"] == 1 and failed["failed_request"] == 1


def test_asr_metric_derives_the_gender_gap():
    metric = ASRMetric()
    per_instance = {}
    for i, (group, wer) in enumerate([("female", 0.4), ("female", 0.5), ("female", 0.6),
                                      ("male", 0.1), ("male", 0.0), ("male", 0.2)]):
        instance = Instance(Input(text=""), references=[], id=str(i), extra_data={"speaker_group": group})
        per_instance[instance] = [Stat(MetricName("wer")).add(wer)]
    derived = {s.name.name: s.mean for s in metric.derive_per_instance_stats(per_instance)}
    assert derived["wer_female"] == pytest.approx(0.5) and derived["wer_male"] == pytest.approx(0.1)
    assert derived["wer_gap"] == pytest.approx(0.4)
    assert derived["wer_gap_p_value"] == pytest.approx(0.1, abs=0.02)  # 2 of C(6,3)=20 labelings are as extreme


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
