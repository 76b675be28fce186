"""Each verification gate catches a planted broken task and passes a good one."""

import shutil

import numpy as np
import pandas as pd
import pytest

from helm_plugins.agents.mle_smith import generator as G
from helm_plugins.agents.mle_smith import verification as V
from helm_plugins.common import mle_tasks

needs_bwrap = pytest.mark.skipif(not shutil.which("bwrap"), reason="bubblewrap is not installed")


def toy_frame(n=240, seed=0):
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n).round(3), rng.normal(size=n).round(3)
    colour = rng.choice(["red", "green", "blue"], n)
    label = np.where(x1 + 0.8 * x2 + 0.3 * rng.normal(size=n) > 0, "up", "down")
    return pd.DataFrame({"x1": x1, "x2": x2, "colour": colour, "label": label}).sort_values("label")


def make_task(tmp_path, edit=None, metric_edit=None, name="toy_label"):
    frame = toy_frame()
    profile = G.profile_frame(frame, "toy")
    candidate = G.Candidate(target="label", task_type="classification", metric="accuracy")
    draft = G.template_design(candidate, profile, None, G.GeneratorConfig(), name, [])
    prepare = edit(draft.prepare_source) if edit else draft.prepare_source
    metric = metric_edit(draft.metric_source) if metric_edit else draft.metric_source
    task = mle_tasks.write_task(tmp_path / name, draft.info, draft.description, prepare, metric)
    task.raw_dir.mkdir()
    frame.to_csv(task.raw_dir / "data.csv", index=False)
    return task


def failed(checks):
    return {c.name: c.reason for c in V.failures(checks)}


def test_static_assertions_catch_broken_code_and_pass_the_template():
    good = G.template_design(G.Candidate(target="label", task_type="classification", metric="accuracy"),
                             G.profile_frame(toy_frame(), "toy"), None, G.GeneratorConfig(), "toy", [])
    assert not V.failures(V.static_assertions(good.prepare_source, good.metric_source, "refactor"))
    checks = V.static_assertions("def prepare(raw):\n    pass\n", "class M:\n    def evaluate(self): pass\n", "refactor")
    assert set(failed(checks)) == {"prepare signature", "metric signature (refactor)"}
    assert "line 1" in failed(V.static_assertions("def prepare(:", good.metric_source, "designer"))["prepare.py compiles"]


def test_the_ladder_gate_rejects_a_metric_that_ignores_predictions(tmp_path):
    task = make_task(tmp_path)
    same = {r: mle_tasks.SubmissionScore(True, 0.5) for r in mle_tasks.LADDER}
    checks = V.execution_checks(task, same, mle_tasks.SubmissionScore(True, 0.5))
    assert "do not beat the constant baseline" in failed(checks)["metric tracks quality"]
    assert failed(checks)["non-trivial"] == "the reference model reaches the gold score"
    ordered = {"constant": mle_tasks.SubmissionScore(True, 0.5), "linear": mle_tasks.SubmissionScore(True, 0.8),
               "gbm": mle_tasks.SubmissionScore(True, 0.85)}
    assert not V.failures(V.execution_checks(task, ordered, mle_tasks.SubmissionScore(True, 1.0)))
    invalid = {**ordered, "gbm": mle_tasks.SubmissionScore(False, None, error="no submission")}
    assert "gbm: no submission" in failed(V.execution_checks(task, invalid, mle_tasks.SubmissionScore(True, 1.0)))[
        "ladder submissions valid"]


def test_raw_data_without_a_usable_target_is_rejected_at_the_brainstormer():
    frame = pd.DataFrame({"row": range(100), "note": [f"free text number {i} with some words in it" for i in range(100)],
                          "constant": 1})
    log = {"stages": []}
    assert G.brainstorm(G.profile_frame(frame, "notes"), G.GeneratorConfig(), None, log) == []
    assert log["stages"][0]["outcome"].startswith("no usable target")
    problem = G.check_candidate(G.Candidate(target="row", task_type="regression", metric="rmse"),
                                G.profile_frame(frame, "notes"))
    assert "identifier" in problem


def test_llm_reviews_are_strict_and_recorded(tmp_path):
    task = make_task(tmp_path)
    task.public_dir.mkdir()
    pd.DataFrame({"id": ["a"], "x1": [0.1]}).to_csv(task.public_dir / "test.csv", index=False)

    class Reply:
        def __init__(self, text):
            self.text, self.success, self.error = text, True, ""

    class FakeModel:
        def __init__(self, text):
            self.text, self.prompts = text, []

        def render(self, template, shrink=(), **variables):
            from helm_plugins.common.judges import Templates

            return Templates(G.HERE / "prompts").render(template, **variables)

        def ask(self, prompt, seed, stage):
            self.prompts.append(prompt)
            return Reply(self.text)

    verdicts = ('{"clear_description": {"verdict": "pass", "reason": "ok"}, "suitable_metric": {"verdict": "pass"}, '
                '"no_leakage": {"verdict": "fail", "reason": "x1 is the label"}, "no_shortcut": {"verdict": "pass"}}')
    model = FakeModel(verdicts)
    checks, record = V.llm_reviews(task, model)
    assert failed(checks) == {"no_leakage": "x1 is the label"} and "Be strict" in record["prompt"]
    checks, record = V.llm_reviews(task, FakeModel("Looks fine to me!"))
    assert len(failed(checks)) == 4 and all("no valid review" in r for r in failed(checks).values())


@needs_bwrap
@pytest.mark.parametrize("edit, check, reason", [
    (lambda s: s.replace("def prepare(raw: Path, public: Path, private: Path) -> None:\n",
                         "def prepare(raw: Path, public: Path, private: Path) -> None:\n    raise RuntimeError('boom')\n"),
     "prepare runs", "RuntimeError: boom"),
    (lambda s: s.replace('test.drop(columns=[TARGET]).to_csv(', 'test.drop(columns=[TARGET]).assign(hint=test[TARGET].to_numpy()).to_csv('),
     "no answers in public files", "column 'hint' of test.csv reproduces the answers"),
    (lambda s: s.replace("TEST_FRACTION = 0.25", "TEST_FRACTION = 0.0"), "non-empty splits", "empty split: test.csv"),
    (lambda s: s.replace('test.drop(columns=[TARGET]).to_csv(', 'test.to_csv('), "target absent from test",
     "test.csv contains the target column(s) ['label']"),
])
def test_each_assertion_catches_its_planted_fault(tmp_path, edit, check, reason):
    task = make_task(tmp_path, edit)
    checks, _ = V.runtime_checks(task)
    assert reason in failed(checks)[check]


@needs_bwrap
def test_a_good_task_passes_and_a_constant_metric_with_a_bad_sample_fails(tmp_path):
    good = make_task(tmp_path / "good")
    checks, details = V.runtime_checks(good)
    checks += V.rule_reviews(good)
    checks += V.execution_gate(good, details)
    assert not V.failures(checks), V.feedback(checks)
    scores = details["scores"]
    assert scores["gold"]["raw_score"] == 1.0 and scores["constant"]["raw_score"] < scores["linear"]["raw_score"]
    assert mle_tasks.reference_scores(good).usable  # written by the gate

    bad = make_task(tmp_path / "bad",
                    edit=lambda s: s.replace("pd.DataFrame({ID: test[ID].to_numpy(), TARGET: guesses})",
                                             "pd.DataFrame({ID: test[ID].to_numpy(), 'prediction': guesses})"),
                    metric_edit=lambda s: s.replace("return accuracy(", "return 0.5 + 0 * accuracy("))
    checks, _ = V.runtime_checks(bad)
    problems = failed(checks)
    assert "missing column(s) ['label']" in problems["sample submission validates"]
    assert "does not reward correct predictions" in problems["metric optimal on gold"]


@needs_bwrap
def test_the_shortcut_review_catches_ids_in_label_order(tmp_path):
    task = make_task(tmp_path, lambda s: s.replace(".sample(frac=1.0, random_state=SEED)", ""))
    assert mle_tasks.prepare_task(task).ok
    check = V.shortcut_check(task)
    assert not check.passed and "the order of id predicts label" in check.reason
    good = make_task(tmp_path / "good")
    assert mle_tasks.prepare_task(good).ok and V.shortcut_check(good).passed
