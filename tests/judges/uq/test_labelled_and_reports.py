"""UQ meta-evaluation on labelled answers (UQ dev/diamond and HLE-style files), the cross-validator table and the
export of accepted answers."""

import dataclasses
import json
import re

import pytest

from helm_plugins.judges.uq.annotators import UQValidatorAnnotator
from helm_plugins.judges.uq.metrics import UQMetaEvalMetric
from helm_plugins.judges.uq.report import accepted_answers, cross_validator_table
from helm_plugins.judges.uq.scenarios import UQMetaEvalScenario, read_labelled_answers
from tests.judges.scripted import ScriptedClient, register_api_judge, request_state
from tests.judges.uq.test_validators import evaluate


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_labelled_answers_in_both_formats(tmp_path):
    path = write_jsonl(tmp_path / "dev.jsonl", [
        {"question_id": "a", "title": "Sum", "body": "What is 2+2?", "answer": "4", "correct": True, "reference": "4"},
        {"question": "Capital of France?", "response": "Lyon", "judge_label": "no", "correct_answer": "Paris",
         "answer_model": "m1"},
    ])
    rows = read_labelled_answers(path)
    assert [(r["body"], r["answer"], r["correct"], r["reference"], r["model"]) for r in rows] == [
        ("What is 2+2?", "4", True, "4", ""), ("Capital of France?", "Lyon", False, "Paris", "m1")]
    instances = UQMetaEvalScenario(labelled=str(path)).get_instances("")
    assert instances[0].input.text == "Sum\n\nWhat is 2+2?" and instances[1].extra_data["planted_correct"] is False


@pytest.mark.parametrize(
    "row, message",
    [({"answer": "x", "correct": True}, ":1: missing field(s) body (or question)"),
     ({"body": "q", "answer": "x", "correct": "maybe"}, ":1: field correct: 'maybe' is not a label")],
)
def test_bad_labelled_rows_name_the_line_and_field(tmp_path, row, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        read_labelled_answers(write_jsonl(tmp_path / "bad.jsonl", [row]))


def test_meta_evaluation_on_labelled_answers_recovers_the_judges_precision_and_recall(tmp_path):
    rows = [{"body": f"Question {k}?", "answer": f"answer {k}", "correct": k % 3 != 0, "reference": f"answer {k}"}
            for k in range(12)]
    instances = UQMetaEvalScenario(labelled=str(write_jsonl(tmp_path / "l.jsonl", rows))).get_instances("")
    # a judge that accepts answers to even-numbered questions: TP 4 (2,4,8,10), FP 2 (0,6), FN 4 (1,5,7,11)
    client = ScriptedClient(lambda r: "[[Y]]" if int(re.search(r"Question (\d+)", r.prompt).group(1)) % 2 == 0
                            else "[[N]]")
    annotator = UQValidatorAnnotator(client, "c*1|U", judge=register_api_judge(), target="planted")
    states = [request_state(i, i.references[0].output.text) for i in instances]  # the model answers everything
    states = [dataclasses.replace(s, annotations={"uq_validator": annotator.annotate(s)}) for s in states]
    _, derived = evaluate(UQMetaEvalMetric(), states)
    assert derived["uq_validator_precision"] == pytest.approx(4 / 6)
    assert derived["uq_validator_recall"] == pytest.approx(4 / 8)
    validator_accuracy = (4 + 2) / 12  # TP + TN (3, 9)
    assert derived["uq_generator_validator_gap"] == pytest.approx(validator_accuracy - 1.0)


def write_uq_run(suite, kind, model, judge, stats, states=()):
    run = suite / f"{kind}:judge={judge.replace('/', '_')},model={model.replace('/', '_')}"
    run.mkdir(parents=True)
    (run / "run_spec.json").write_text(json.dumps({
        "adapter_spec": {"model": model},
        "annotators": [{"args": {"judge": judge, "strategy": "pipeline[c*1|unanimous]"}}]}))
    (run / "stats.json").write_text(json.dumps([{"name": {"name": k, "split": "test"}, "mean": v} for k, v in stats.items()]))
    (run / "scenario_state.json").write_text(json.dumps({"request_states": list(states)}))


def test_cross_validator_table_and_accepted_answer_export(tmp_path):
    suite = tmp_path / "s"
    state = lambda accepted, answer: {"instance": {"extra_data": {"question_id": "q1", "title": "T", "body": "B",  # noqa: E731
                                                                  "license": "CC BY-SA 4.0"}},
                                      "annotations": {"uq_validator": {"accepted": accepted, "answer_judged": answer,
                                                                       "stage_results": [accepted]}}}
    for judge, rates in (("o/j1", {"m/a": 0.3, "m/b": 0.1}), ("o/j2", {"m/a": 0.05, "m/b": 0.2})):
        write_uq_run(suite, "hp_uq_meta", "m/a", judge, {"uq_validator_precision": 0.5 if judge == "o/j1" else 0.8,
                                                         "uq_validator_recall": 0.4})
        for model, rate in rates.items():
            write_uq_run(suite, "hp_uq", model, judge, {"uq_pass": rate},
                         [state(True, f"{model} by {judge}"), state(False, "rejected")])
    table = cross_validator_table(suite)
    assert "| o/j1 | pipeline[c*1\\|unanimous] | 0.500 | 0.400 | m/a (0.300) > m/b (0.100) |" in table
    assert "| o/j2 | pipeline[c*1\\|unanimous] | 0.800 | 0.400 | m/b (0.200) > m/a (0.050) |" in table  # the flip
    rows = accepted_answers(suite)
    assert sorted(r["answer"] for r in rows) == ["m/a by o/j1", "m/a by o/j2", "m/b by o/j1", "m/b by o/j2"]
    assert all(r["license"] == "CC BY-SA 4.0" and r["question_id"] == "q1" for r in rows)


def test_factoring_questions_let_a_checking_validator_beat_a_guessing_generator():
    instances = UQMetaEvalScenario(num_questions=30, seed=2, questions="factoring").get_instances("")
    planted = [i.extra_data["planted_correct"] for i in instances]
    assert 0 < sum(planted) < 30
    for instance in instances:  # a wrong planted answer states a false product, so multiplying reveals it
        a, b = map(int, re.findall(r"are (\d+) and (\d+)", instance.extra_data["planted_answer"])[0])
        assert (a * b == instance.extra_data["product"]) == instance.extra_data["planted_correct"]

    def multiplying_judge(request):  # validates by multiplying the stated factors
        review = request.prompt.split("Answer under review:")[-1]
        a, b = map(int, re.findall(r"are (\d+) and (\d+)", review)[0])
        product = int(re.search(r"product is (\d+)", review).group(1))
        return "[[Y]]" if a * b == product else "[[N]]"

    annotator = UQValidatorAnnotator(ScriptedClient(multiplying_judge), "c*1|U", judge=register_api_judge(),
                                     target="planted")
    states = [request_state(i, "I think it is 7 × 11.") for i in instances]  # the generator cannot factor
    states = [dataclasses.replace(s, annotations={"uq_validator": annotator.annotate(s)}) for s in states]
    _, derived = evaluate(UQMetaEvalMetric(), states)
    assert derived["uq_validator_precision"] == 1.0 and derived["uq_validator_recall"] == 1.0
    assert derived["uq_generator_validator_gap"] == pytest.approx(1.0)  # validates all, answers none
