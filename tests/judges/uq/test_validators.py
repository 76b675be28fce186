"""UQ validators with a scripted judge on planted answers: the expected precision and recall are recovered,
missing verdicts are counted as rejects, reflection shows the judge its previous judgement."""

import dataclasses
import re

import pytest
from helm.benchmark.metrics.statistic import merge_stat

from helm_plugins.judges.uq.annotators import UQValidatorAnnotator
from helm_plugins.judges.uq.metrics import UQMetaEvalMetric, UQValidatorMetric
from helm_plugins.judges.uq.scenarios import UQMetaEvalScenario, UQScenario, read_questions
from helm_plugins.judges.uq.strategy import VALIDATORS
from tests.judges.scripted import ScriptedClient, arithmetic_validator, register_api_judge, request_state, stats_by_name

def annotate_all(strategy, instances, answers):
    client = ScriptedClient(lambda request: arithmetic_validator(request.prompt))
    annotator = UQValidatorAnnotator(client, strategy, judge=register_api_judge(), target="planted")
    states = [request_state(i, a) for i, a in zip(instances, answers)]
    return client, [dataclasses.replace(s, annotations={"uq_validator": annotator.annotate(s)}) for s in states]


def evaluate(metric, states):
    totals = {}
    per_instance = []
    for state in states:
        stats = metric.evaluate_generation(None, state, None, "")
        per_instance.append(stats_by_name(stats))
        for s in stats:
            merge_stat(totals, s)
    derived = {s.name.name: s.mean for s in metric.derive_stats(totals)}
    return per_instance, derived


def test_meta_evaluation_recovers_planted_precision_and_recall():
    instances = UQMetaEvalScenario(num_questions=40, seed=3).get_instances("")
    gold = [i.references[0].output.text for i in instances]
    answers = [g if k % 2 else "I do not know." for k, g in enumerate(gold)]  # the model answers half of them right
    client, states = annotate_all("pipeline[cc*3|U;flc*3|U;c*3|U]", instances, answers)
    per_instance, derived = evaluate(UQMetaEvalMetric(), states)

    planted = [(i.extra_data["planted_correct"], " - " in i.extra_data["planted_answer"]) for i in instances]
    tp = sum(correct and not minus for correct, minus in planted)
    fn = sum(correct and minus for correct, minus in planted)
    assert 0 < tp and 0 < fn and any(not c for c, _ in planted)
    assert derived["uq_validator_precision"] == 1.0  # wrong sums are always rejected
    assert derived["uq_validator_recall"] == pytest.approx(tp / (tp + fn))
    accuracy = sum((c and not m) == c for c, m in planted) / len(planted)
    assert sum(s["uq_validator_accuracy"].mean for s in per_instance) / 40 == pytest.approx(accuracy)
    assert derived["uq_generator_validator_gap"] == pytest.approx(accuracy - 0.5)

    # a subtraction answer: 3 cycle samples (2 calls each), then factlogic's 3 verdict-less replies end the pipeline
    minus = next(k for k, (_, m) in enumerate(planted) if m)
    annotation = states[minus].annotations["uq_validator"]
    assert annotation["verdicts"] == {"accept": 3, "missing": 3} and annotation["stage_results"] == [True, False, False]
    assert per_instance[minus]["judge_malformed_verdicts"].mean == 3 and per_instance[minus]["judge_requests"].mean == 9
    assert per_instance[minus]["judge_cost_usd"].mean > 0


def test_reflection_shows_the_previous_judgement_and_seeds_differ():
    instance = UQMetaEvalScenario(num_questions=1, seed=0).get_instances("")[0]
    client, (state,) = annotate_all("correct*2~1|unanimous", [instance], ["x"])
    prompts = [r.prompt for r in client.requests]
    assert len(prompts) == 4 and "Your previous judgement was:" in prompts[1] and "Think twice" in prompts[1]
    assert prompts[1].split("Your previous judgement was:")[1].strip().startswith(arithmetic_validator(prompts[0]))
    assert len({r.random for r in client.requests}) == 4


def test_uq_pass_and_empty_answers(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text('{"question_id": "1", "title": "Sum?", "body": "What is 2 + 3?", "site": "math", "tags": []}\n')
    (instance,) = UQScenario(questions=str(path)).get_instances("")
    assert instance.references == [] and instance.extra_data["site"] == "math"
    client = ScriptedClient(lambda r: "[[Y]]")
    annotator = UQValidatorAnnotator(client, "pipeline[c*2|U;rel*1|U]", judge=register_api_judge())
    state = request_state(instance, "So 2 + 3 = 5.")
    state = dataclasses.replace(state, annotations={"uq_validator": annotator.annotate(state)})
    stats = stats_by_name(UQValidatorMetric().evaluate_generation(None, state, None, ""))
    assert stats["uq_pass"].mean == 1 and stats["uq_stage1_pass"].mean == 1 and stats["uq_stage2_pass"].mean == 1
    assert len(client.requests) == 3
    empty = annotator.annotate(request_state(instance, "   "))
    assert empty["accepted"] is False and empty["empty_answer"] and len(client.requests) == 3  # no judge call


@pytest.mark.parametrize(
    "content, message",
    [
        ("", "no questions"),
        ('{"question_id": "1", "title": "t"}\n', ":1: missing or empty field(s) body"),
        ("not json\n", ":1: not JSON"),
    ],
)
def test_bad_question_files(tmp_path, content, message):
    path = tmp_path / "q.jsonl"
    path.write_text(content)
    with pytest.raises(ValueError, match=re.escape(message)):
        read_questions(path)


def test_released_questions_are_read_through_datasets(monkeypatch):
    import datasets

    rows = [{"question_id": "q1", "title": "Open?", "body": "Is P = NP?", "site": "cstheory", "category": "CS",
             "tags": ["complexity"], "votes": 70, "comments": []}]
    calls = []

    def load_dataset(name, split):
        calls.append((name, split))
        return datasets.Dataset.from_list(rows)

    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    (instance,) = UQScenario(questions="released").get_instances("")
    assert calls == [("uq-project/uq", "test")]
    assert instance.input.text == "Open?\n\nIs P = NP?" and "CC BY-SA" in instance.extra_data["license"]


@pytest.mark.parametrize("validator", VALIDATORS)
def test_every_validator_prompt_renders_and_asks_for_a_tag(validator):
    instance = UQMetaEvalScenario(num_questions=1, seed=0).get_instances("")[0]
    client = ScriptedClient(lambda request: "[[Y]]")
    annotator = UQValidatorAnnotator(client, f"{validator}*2~1|unanimous", judge=register_api_judge(), target="planted")
    annotation = annotator.annotate(request_state(instance, ""))
    assert annotation["accepted"] and annotation["verdicts"] == {"accept": 2}
    per_sample = 3 if validator == "cycle" else 2  # cycle infers the question first; one reflection round each
    assert len(client.requests) == 2 * per_sample
    assert instance.extra_data["planted_answer"] in client.requests[0].prompt
    assert all("[[Y]]" in r.prompt for r in client.requests if "Write the question" not in r.prompt)


def test_generator_validator_gap_only_when_the_judge_is_the_generator():
    from helm.benchmark.model_deployment_registry import ClientSpec, ModelDeployment, register_model_deployment

    other = "test-judges/other-model"
    register_model_deployment(ModelDeployment(name=other, model_name="openai/gpt-4o-mini-2024-07-18",
                                              client_spec=ClientSpec("helm.clients.openai_client.OpenAIClient", {})))
    instances = UQMetaEvalScenario(num_questions=6, seed=1).get_instances("")
    answers = [i.references[0].output.text for i in instances]
    _, same = annotate_all("c*1|U", instances, answers)
    client = ScriptedClient(lambda request: arithmetic_validator(request.prompt))
    annotator = UQValidatorAnnotator(client, "c*1|U", judge=other, target="planted")
    states = [request_state(i, a) for i, a in zip(instances, answers)]
    different = [dataclasses.replace(s, annotations={"uq_validator": annotator.annotate(s)}) for s in states]
    _, derived_same = evaluate(UQMetaEvalMetric(), same)
    _, derived_other = evaluate(UQMetaEvalMetric(), different)
    assert derived_same["uq_generator_validator_gap"] == pytest.approx(
        sum(s.annotations["uq_validator"]["accepted"] == s.instance.extra_data["planted_correct"] for s in same) / 6 - 1.0)
    assert derived_other["uq_generator_validator_gap"] is None  # a stat without values: undefined, not missing
    assert derived_other["uq_validator_precision"] is not None


def test_judge_prompts_and_replies_are_recorded_in_full():
    instance = UQMetaEvalScenario(num_questions=1, seed=0).get_instances("")[0]
    long_reply = "Checking every step. " * 200 + "[[Y]]"
    client = ScriptedClient(lambda request: long_reply)
    annotator = UQValidatorAnnotator(client, "correct*1|U", judge=register_api_judge(), target="planted")
    annotation = annotator.annotate(request_state(instance, ""))
    [call] = annotation["calls"]
    assert call["reply"] == long_reply and call["prompt"] == client.requests[0].prompt
    assert instance.extra_data["planted_answer"] in call["prompt"] and annotation["judge"] == register_api_judge()
