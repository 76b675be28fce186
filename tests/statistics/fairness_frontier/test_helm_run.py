"""A deployment as a soft classifier through helm-run: the planted label tilt of the synthetic scenario, the
answer log-probabilities, the gap and BCE from the per-instance scores, and the frontier across models."""

import json
import math
from types import SimpleNamespace

import numpy as np
import pytest

from helm_plugins.statistics.fairness_frontier.metrics import answer_logprob
from helm_plugins.statistics.fairness_frontier.report import CONSTANT, achievable_gap, model_frontier, pareto_optimal
from helm_plugins.statistics.fairness_frontier.scenarios import FairnessClassificationScenario, synthetic_items
from tests.conftest import BIN, run_command


def test_synthetic_labels_follow_the_planted_tilt():
    items = synthetic_items(4000, pi=0.4, zeta=1.0, seed="t")
    for group, expected in ((0, 0.5), (1, 1 / (1 + math.e))):
        labels = [i["label"] for i in items if i["group"] == group]
        assert np.mean(labels) == pytest.approx(expected, abs=0.04)
    assert np.mean([i["group"] for i in items]) == pytest.approx(0.4, abs=0.03)
    instances = FairnessClassificationScenario(items=10).get_instances("")
    test = [i for i in instances if i.split == "test"]
    assert len(test) == 10 and all([r.output.text for r in i.references] == ["Yes", "No"] for i in test)
    assert all(i.references[0].is_correct == bool(i.extra_data["label"]) for i in test)


def test_bad_items_are_rejected_with_the_line(tmp_path):
    path = tmp_path / "items.jsonl"
    path.write_text('{"id": "a", "text": "t", "label": 1, "group": 0}\n{"id": "b", "text": "t", "label": 2, "group": 1}\n')
    with pytest.raises(ValueError, match=r"items.jsonl:2: label must be 0 or 1"):
        FairnessClassificationScenario(source=str(path)).get_instances("")
    path.write_text('{"id": "a", "text": "t", "label": 1, "group": 0}\n{"id": "b", "text": "u", "label": 0, "group": 0}\n')
    with pytest.raises(ValueError, match="must contain both groups"):
        FairnessClassificationScenario(source=str(path)).get_instances("")


def test_answer_log_probability_covers_the_answer_tokens():
    tokens = [SimpleNamespace(text=t, logprob=lp) for t, lp in [("Answer", -1.0), (":", -0.5), (" Y", -0.25), ("es", -0.125)]]
    assert answer_logprob(tokens, "Yes") == -0.375
    assert answer_logprob(tokens, "No") == -0.125  # the last tokens as long as the answer
    with pytest.raises(ValueError, match="do not cover"):
        answer_logprob(tokens[-1:], "Yes")


def test_frontier_across_models_and_the_less_discriminatory_alternative():
    points = [{"model": "a", "dp_gap": 0.2, "bce": 0.5}, {"model": "b", "dp_gap": 0.0, "bce": 0.7},
              {"model": "c", "dp_gap": 0.15, "bce": 0.6}, {"model": "d", "dp_gap": 0.3, "bce": 0.8}]
    assert pareto_optimal(points) == ["a", "b", "c"]  # c: no single model beats it, a mixture of a and b does
    hull = np.array([[0.0, 0.7], [0.2, 0.5]])
    assert achievable_gap(hull, 0.6) == pytest.approx(0.1, abs=1e-3)  # halfway along the a-b segment
    lda = model_frontier(points, contested="c", delta=0.04)["less_discriminatory_alternative"]
    assert lda["exists"] and lda["improvement"] == pytest.approx(0.05, abs=1e-3) and lda["alternative_models"] == []
    assert not model_frontier(points, contested="c", delta=0.1)["less_discriminatory_alternative"]["exists"]
    with pytest.raises(ValueError, match="has no run here"):
        model_frontier(points, contested="z")


def test_classifier_through_helm_run(tmp_path):
    run_command([BIN / "helm-run", "--suite", "f", "-o", tmp_path / "out", "--max-eval-instances", "30", "--run-entries",
                 "hp_fairness:items=30,shots=2,model=helm-plugins/tiny-default"], cwd=tmp_path)
    (run_dir,) = (tmp_path / "out" / "runs" / "f").glob("hp_fairness:*")
    stats = {s["name"]["name"]: s["mean"] for s in json.loads((run_dir / "stats.json").read_text())
             if s["name"].get("split") == "test" and s["name"].get("perturbation") is None}
    instances = {r["instance"]["id"]: r["instance"]["extra_data"]
                 for r in json.loads((run_dir / "scenario_state.json").read_text())["request_states"]}
    scores = {r["instance_id"]: s["mean"] for r in json.loads((run_dir / "per_instance_stats.json").read_text())
              for s in r["stats"] if s["name"]["name"] == "soft_score"}
    assert len(scores) == 30 and stats["failed_requests"] == 0 and all(0 < f < 1 for f in scores.values())
    by_group = [np.mean([f for i, f in scores.items() if instances[i]["group"] == g]) for g in (0, 1)]
    assert stats["dp_gap_soft"] == pytest.approx(by_group[0] - by_group[1])
    labels = np.array([instances[i]["label"] for i in scores])
    f = np.array(list(scores.values()))
    assert stats["bce"] == pytest.approx(-np.mean(labels * np.log(f) + (1 - labels) * np.log(1 - f)), rel=1e-6)

    completed = run_command([BIN / "helm-plugins", "fairness-frontier", "--from-suite", "f", "-o", tmp_path / "out",
                             "--contested", "helm-plugins/tiny-default", "--output", tmp_path / "r"], cwd=tmp_path)
    assert f"| {CONSTANT} | +0.0000 |" in completed.stdout and "| helm-plugins/tiny-default |" in completed.stdout
    assert (tmp_path / "r" / "fairness_frontier.png").is_file()
    missing = run_command([BIN / "helm-plugins", "fairness-frontier", "--from-suite", "f", "-o", tmp_path / "out",
                           "--contested", "org/absent"], cwd=tmp_path, expect_success=False)
    assert "has no hp_fairness run in suite f" in missing.stderr
