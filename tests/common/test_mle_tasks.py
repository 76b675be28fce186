"""The MLE task format: layout checks, submission validation, and prepare / solve / score in the sandbox."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from helm_plugins.common import mle_tasks as m

needs_bwrap = pytest.mark.skipif(not shutil.which("bwrap"), reason="bubblewrap is not installed")


class LabelMetric(m.CompetitionMetrics):
    id_column, target_columns, value_kind = "id", ["y"], "label"

    def evaluate(self, y_true, y_pred):
        y_true, y_pred = self.align(y_true, y_pred)
        return float((y_true["y"].astype(str) == y_pred["y"].astype(str)).mean())


class ProbabilityMetric(LabelMetric):
    value_kind = "probability"


ANSWERS = pd.DataFrame({"id": ["a", "b", "c"], "y": ["x", "y", "x"]})


@pytest.mark.parametrize("submission, message", [
    (pd.DataFrame({"id": ["a", "b"], "y": ["x", "y"]}), "has 2 rows, expected 3"),
    (pd.DataFrame({"id": ["a", "b", "c"]}), "missing column(s) ['y']"),
    (pd.DataFrame({"id": ["a", "b", "c"], "y": ["x"] * 3, "extra": [1, 2, 3]}), "unexpected column(s) ['extra']"),
    (pd.DataFrame({"id": ["a", "a", "c"], "y": ["x"] * 3}), "duplicate id(s) in column 'id': a"),
    (pd.DataFrame({"id": ["a", "b", "z"], "y": ["x"] * 3}), "1 test id(s) missing from column 'id': c"),
    (pd.DataFrame({"id": ["a", "b", "c"], "y": ["x", None, "x"]}), "column 'y' has 1 missing value(s) (NaN)"),
    ("a,b", "must be a table"),
])
def test_validation_names_the_problem(submission, message):
    with pytest.raises(m.InvalidSubmissionError) as error:
        LabelMetric().validate_submission(submission, ANSWERS)
    assert message in str(error.value)


def test_validation_of_numbers_and_probabilities():
    metric = ProbabilityMetric()
    assert metric.validate_submission(pd.DataFrame({"id": ["c", "a", "b"], "y": [0.1, 1.0, 0.0]}), ANSWERS) \
        == "Submission is valid."
    with pytest.raises(m.InvalidSubmissionError, match="must hold finite numbers"):
        metric.validate_submission(pd.DataFrame({"id": ["a", "b", "c"], "y": ["0.1", "high", "0.3"]}), ANSWERS)
    with pytest.raises(m.InvalidSubmissionError, match="must hold finite numbers"):
        metric.validate_submission(pd.DataFrame({"id": ["a", "b", "c"], "y": [0.1, np.inf, 0.3]}), ANSWERS)
    with pytest.raises(m.InvalidSubmissionError, match=r"must be in \[0, 1\]"):
        metric.validate_submission(pd.DataFrame({"id": ["a", "b", "c"], "y": [0.1, 1.5, 0.3]}), ANSWERS)


def test_align_matches_rows_by_id_whatever_the_order():
    submission = pd.DataFrame({"id": ["c", "a", "b"], "y": ["x", "x", "y"]})
    assert LabelMetric().evaluate(ANSWERS, submission) == 1.0


def test_load_errors_name_the_file_and_field(tmp_path):
    task = m.load_tasks(m.HUMAN_POOL)[0]
    broken = m.copy_task(task, tmp_path / "t")
    info = json.loads((broken.root / "info" / "task.json").read_text())
    (broken.root / "info" / "task.json").write_text(json.dumps({**info, "task_type": "ranking"}))
    with pytest.raises(m.TaskFormatError, match=r"task.json: field 'task_type'"):
        m.load_task(broken.root)
    (broken.root / "info" / "task.json").write_text("{\n  \"name\": \n}")
    with pytest.raises(m.TaskFormatError, match=r"task.json: line 3: not valid JSON"):
        m.load_task(broken.root)
    (broken.root / "utils" / "metric.py").unlink()
    with pytest.raises(m.TaskFormatError, match=r"missing file utils/metric.py"):
        m.load_task(broken.root)
    text = {**info, "modality": "text"}
    with pytest.raises(Exception, match="text_column"):
        m.TaskInfo.model_validate(text)


def test_the_shipped_pool_loads_and_names_are_unique(tmp_path):
    tasks = m.load_tasks(m.HUMAN_POOL)
    assert len(tasks) >= 3
    assert {t.info.task_type for t in tasks} >= {"classification", "regression", "probability"}
    assert all(t.info.origin == "human" and t.description for t in tasks)
    for name in ("a", "b"):
        m.copy_task(tasks[0], tmp_path / name)
    with pytest.raises(m.TaskFormatError, match="duplicate task name"):
        m.load_tasks(tmp_path)


def test_raw_sources_are_bundled_or_generated():
    iris = m.raw_frame("sklearn:load_iris")
    assert len(iris) == 150 and set(iris["target"]) == {"setosa", "versicolor", "virginica"}
    churn = m.raw_frame("synthetic:churn?seed=3")
    assert churn.equals(m.raw_frame("synthetic:churn?seed=3")) and not churn.equals(m.raw_frame("synthetic:churn"))
    for bad in ("sklearn:fetch_openml", "synthetic:nope", "http://example.com/x.csv"):
        with pytest.raises(m.TaskFormatError, match="raw_source"):
            m.raw_frame(bad)


def test_normalisation_is_oriented_for_both_directions():
    higher = m.ReferenceScores(constant=0.5, gbm=0.9, higher_is_better=True)
    lower = m.ReferenceScores(constant=80.0, gbm=60.0, higher_is_better=False)
    assert m.normalise(0.5, higher) == 0 and m.normalise(0.9, higher) == pytest.approx(1)
    assert m.normalise(70.0, lower) == pytest.approx(0.5) and m.normalise(90.0, lower) < 0
    assert m.normalise(0.7, m.ReferenceScores(0.5, 0.4, True)) is None  # the reference does not beat the baseline
    assert m.oriented(60.0, False) > m.oriented(80.0, False) and m.oriented(None, True) == -np.inf


def test_ladder_programs_are_valid_python():
    info = m.load_tasks(m.HUMAN_POOL)[0].info
    compile(m.ladder_programs(info, [(r, f"{r}.csv") for r in m.LADDER]), "ladder", "exec")
    with pytest.raises(ValueError, match="unknown ladder rung"):
        m.ladder_program(info, "oracle")


@needs_bwrap
def test_prepare_ladder_and_scoring_in_the_sandbox(tmp_path):
    """Iris: prepare splits without leaking answers; the ladder ranks constant < gbm; the gold is optimal; bad
    submissions are invalid with their reason."""
    task = m.copy_task(next(t for t in m.load_tasks(m.HUMAN_POOL) if t.name == "iris_species"), tmp_path / "iris")
    result = m.prepare_task(task)
    assert result.ok, result.reason
    train, test = pd.read_csv(task.public_dir / "train.csv"), pd.read_csv(task.public_dir / "test.csv")
    answers = pd.read_csv(task.answers_path)
    assert "species" not in test and len(train) + len(test) == 150 and set(answers["id"]) == set(test["id"])
    refs = m.reference_scores(task)
    assert refs.usable and refs.constant < refs.ladder["linear"] and refs.gbm > 0.85
    assert json.loads((task.private_dir / "reference_scores.json").read_text())["gbm"] == refs.gbm
    bad = tmp_path / "bad.csv"
    answers.drop(columns=["species"]).assign(label="setosa").to_csv(bad, index=False)
    scores = m.score_submissions(task, {"gold": task.answers_path, "sample": task.public_dir / "sample_submission.csv",
                                        "bad": bad, "missing": tmp_path / "none.csv"}, references=refs)
    assert scores["gold"].valid and scores["gold"].raw_score == 1.0 and scores["gold"].normalized > 1
    assert scores["sample"].valid and scores["sample"].raw_score < 0.7
    assert not scores["bad"].valid and "missing column(s) ['species']" in scores["bad"].error
    assert not scores["missing"].valid and scores["missing"].error == "no submission file"


@needs_bwrap
def test_a_crashing_prepare_or_metric_is_reported(tmp_path):
    task = m.copy_task(next(t for t in m.load_tasks(m.HUMAN_POOL) if t.name == "iris_species"), tmp_path / "iris")
    source = task.prepare_path.read_text()
    task.prepare_path.write_text(source.replace("def prepare(", "def prepare_unused(") + "\ndef prepare(r, p, q):\n    1 / 0\n")
    result = m.prepare_task(task)
    assert not result.ok and "ZeroDivisionError" in result.reason
    task.prepare_path.write_text(source.replace('test.drop(columns=["species"]).to_csv(public / "test.csv", index=False)', "pass"))
    result = m.prepare_task(task)
    assert not result.ok and "did not write public/test.csv" in result.reason
    task.prepare_path.write_text(source)
    assert m.prepare_task(task).ok
    task.metric_path.write_text(task.metric_path.read_text().replace("return float(", "return float('nan') * float("))
    score = m.score_submission(task, task.answers_path)
    assert not score.valid and score.metric_failed and "non-finite" in score.error
    run = m.run_solution(task, "import socket\nsocket.create_connection(('1.1.1.1', 80), timeout=3)\n", tmp_path / "net")
    assert not run.ok and "solution failed" in run.reason
    assert not (tmp_path / "net" / "test_answer.csv").exists()
