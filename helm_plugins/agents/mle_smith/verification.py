"""MLE-Smith's hybrid verification of a task package: Assertions, Reviews and Execution.

- Assertions (deterministic): the files exist and the code compiles with the schema's signatures (before and after
  Refactor); prepare.py runs in the sandbox and writes the four files; the train and test splits are non-empty and
  the answers cover exactly the test ids; the target is absent from test.csv; no public file holds the private
  answers (a column of test.csv or the sample submission reproducing them, test ids with labels in train.csv);
  the sample submission validates; the metric is optimal on the gold answers (no ladder rung beats them) and
  strictly worse on shuffled answers (a metric that ignores its predictions fails here).
- Reviews: an LLM judge (any HELM deployment, through the project's judge plumbing) gives a strict pass/fail with
  a reason on four criteria: clear description, suitable metric, no leakage, no shortcut. A malformed verdict is
  a failure. Without a review model, rule-based checks of the same four criteria run instead and say so.
- Execution: the sklearn ladder (constant -> linear -> gradient boosting) must produce valid submissions, both
  learned rungs must beat the constant (the metric tracks quality), and the reference must not reach the gold
  score (the task is non-trivial).

Every check is a `Check(gate, name, passed, reason, route)`; `route` names the stage a failure goes back to
(designer, refactor or brainstormer).
"""

import ast
import json
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Dict, List, Literal, Optional, Tuple

import numpy as np
import pandas as pd
from pydantic import BaseModel

from helm_plugins.common import mle_tasks

METRIC_TASK_TYPES = {  # metric helper -> task types it suits
    "accuracy": ("classification",), "macro_f1": ("classification",), "roc_auc": ("probability",),
    "rmse": ("regression",), "mae": ("regression",),
}
METRIC_NAMES = {"accuracy": "accuracy", "macro_f1": "macro F1", "roc_auc": "ROC AUC", "rmse": "RMSE", "mae": "MAE"}


@dataclass
class Check:
    gate: str  # assertion | review | execution
    name: str
    passed: bool
    reason: str = ""
    route: str = "designer"  # the stage a failure goes back to

    def to_json(self) -> Dict[str, Any]:
        return asdict(self)


def failures(checks: List[Check]) -> List[Check]:
    return [c for c in checks if not c.passed]


def feedback(checks: List[Check]) -> str:
    return "\n".join(f"- {c.gate} {c.name}: {c.reason}" for c in failures(checks))


# ------------------------------------------------------------------------------------------------- assertions

def static_assertions(prepare_source: str, metric_source: str, stage: str) -> List[Check]:
    """Compile and signature checks of the two programs (run on the Designer's draft and after Refactor)."""
    checks = []
    for name, source, route in (("prepare.py", prepare_source, "designer"), ("metric.py", metric_source, stage)):
        try:
            tree = ast.parse(source or "")
        except SyntaxError as error:
            checks.append(Check("assertion", f"{name} compiles", False, f"{name} line {error.lineno}: {error.msg}", route))
            continue
        if name == "prepare.py":
            functions = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "prepare"]
            ok = bool(functions) and len(functions[0].args.args) == 3
            checks.append(Check("assertion", "prepare signature", ok,
                                "" if ok else "prepare.py must define prepare(raw, public, private)", "designer"))
        else:
            classes = [n for n in tree.body if isinstance(n, ast.ClassDef)
                       and any(getattr(b, "id", getattr(b, "attr", "")) == "CompetitionMetrics" for b in n.bases)]
            imports = "helm_plugins.common.mle_tasks" in source
            evaluate = bool(classes) and any(isinstance(n, ast.FunctionDef) and n.name == "evaluate"
                                              for n in classes[0].body)
            ok = len(classes) == 1 and imports and evaluate
            checks.append(Check("assertion", f"metric signature ({stage})", ok, "" if ok else
                                "metric.py must import CompetitionMetrics from helm_plugins.common.mle_tasks and "
                                "define exactly one subclass with evaluate(y_true, y_pred)", route))
    return checks


def _same(a: pd.Series, b: pd.Series) -> bool:
    """Does column a reproduce column b (equal as text, or a near-exact numeric copy)?"""
    if len(a) == 0:
        return False
    if (a.astype(str).to_numpy() == b.astype(str).to_numpy()).mean() >= 0.99:
        return True
    x, y = pd.to_numeric(a, errors="coerce"), pd.to_numeric(b, errors="coerce")
    if x.notna().all() and y.notna().all() and x.std() > 0 and y.std() > 0:
        return abs(float(np.corrcoef(x, y)[0, 1])) >= 0.999
    return False


def data_assertions(task: mle_tasks.MLETask) -> List[Check]:
    """Checks of the prepared files (data only; nothing of the task's code runs here)."""
    info, key = task.info, task.info.id_column
    checks = []
    train = pd.read_csv(task.public_dir / "train.csv")
    test = pd.read_csv(task.public_dir / "test.csv")
    answers = pd.read_csv(task.answers_path)
    sample = pd.read_csv(task.public_dir / "sample_submission.csv")
    empty = [name for name, frame in (("train.csv", train), ("test.csv", test)) if len(frame) == 0]
    checks.append(Check("assertion", "non-empty splits", not empty, f"empty split: {', '.join(empty)}" if empty else ""))
    if empty:
        return checks
    missing = [c for c in [key] + info.target_columns if c not in answers.columns]
    if missing or key not in test.columns:
        checks.append(Check("assertion", "answers cover the test ids", False,
                            f"missing id/target columns: {missing or [key + ' in test.csv']}"))
        return checks
    same_ids = set(test[key].astype(str)) == set(answers[key].astype(str)) and answers[key].is_unique
    checks.append(Check("assertion", "answers cover the test ids", same_ids, "" if same_ids else
                        "private/test_answer.csv must hold each test id exactly once"))
    present = [c for c in info.target_columns if c in test.columns]
    checks.append(Check("assertion", "target absent from test", not present,
                        f"test.csv contains the target column(s) {present}" if present else ""))
    leaks = []
    merged = test.assign(**{key: test[key].astype(str)}).merge(
        answers.assign(**{key: answers[key].astype(str)}), on=key, suffixes=("", "__answer"))
    for target in info.target_columns:
        truth = merged[target + "__answer"] if target in test.columns else merged[target]
        for column in test.columns:
            if column not in (key, target) and _same(merged[column], truth):
                leaks.append(f"column {column!r} of test.csv reproduces the answers")
        if target in sample.columns and key in sample.columns:
            aligned = sample.assign(**{key: sample[key].astype(str)}).merge(
                answers.assign(**{key: answers[key].astype(str)}), on=key, suffixes=("", "__answer"))
            if len(aligned) and _same(aligned[target], aligned[target + "__answer"]):
                leaks.append("the sample submission holds the answers")
    overlap = set(train[key].astype(str)) & set(answers[key].astype(str)) if key in train.columns else set()
    if overlap:
        leaks.append(f"train.csv holds {len(overlap)} test id(s) with their labels")
    checks.append(Check("assertion", "no answers in public files", not leaks, "; ".join(leaks)))
    return checks


def gold_submission(task: mle_tasks.MLETask, out: Path) -> Path:
    """The answers as a submission: for a probability task, probability 1 for the positive label and 0 otherwise."""
    answers = pd.read_csv(task.answers_path)
    if task.info.task_type == "probability":
        for target in task.info.target_columns:
            labels = answers[target].astype(str)
            positive = task.info.positive_label or sorted(labels.unique())[-1]
            answers[target] = (labels == positive).astype(float)
    answers.to_csv(out, index=False)
    return out


def _shuffled(answers_path: Path, info: mle_tasks.TaskInfo, seed: int, out: Path) -> Path:
    answers = pd.read_csv(answers_path)
    rng = np.random.default_rng(seed)
    for target in info.target_columns:
        values = answers[target].to_numpy().copy()
        for _ in range(10):  # a permutation that moves labels (a constant column cannot move: then it stays)
            permuted = rng.permutation(values)
            if (permuted != values).mean() > 0.3 or len(set(map(str, values))) < 2:
                break
        answers[target] = permuted
    answers.to_csv(out, index=False)
    return out


def runtime_checks(task: mle_tasks.MLETask, sandbox=None, seed: int = 0) -> Tuple[List[Check], Dict[str, Any]]:
    """Prepare in the sandbox, data assertions, then one sandboxed scorer for the sample, gold and shuffled answers
    and the ladder's submissions (judged later by execution_gate). Returns (assertion checks, details)."""
    checks: List[Check] = []
    details: Dict[str, Any] = {}
    prepared = mle_tasks.prepare_task(task, sandbox)
    checks.append(Check("assertion", "prepare runs", prepared.ok, prepared.reason, "designer"))
    if not prepared.ok:
        return checks, details
    checks += data_assertions(task)
    if failures(checks):
        return checks, details
    with tempfile.TemporaryDirectory(prefix="mle_verify_") as tmp:
        tmp = Path(tmp)
        gold_path = gold_submission(task, tmp / "gold.csv")
        shuffled = _shuffled(gold_path, task.info, seed, tmp / "shuffled.csv")
        ladder = mle_tasks.run_solution(task, mle_tasks.ladder_programs(
            task.info, [(r, f"submission_{r}.csv") for r in mle_tasks.LADDER]), tmp / "ladder", sandbox,
            output=f"submission_{mle_tasks.LADDER[-1]}.csv")
        scorer = mle_tasks.TaskScorer(task, sandbox)
        try:
            scores = {"sample": scorer.score(task.public_dir / "sample_submission.csv"),
                      "gold": scorer.score(gold_path), "shuffled": scorer.score(shuffled)}
            for rung in mle_tasks.LADDER:
                path = tmp / "ladder" / f"submission_{rung}.csv"
                scores[rung] = scorer.score(path if path.is_file() else None)
                if not path.is_file():
                    scores[rung].error = ladder.reason or "no submission"
        finally:
            scorer.close()
    details["scores"] = {k: v.to_json() for k, v in scores.items()}
    metric_error = next((s.error for s in scores.values() if s.metric_failed), "")
    checks.append(Check("assertion", "metric runs", not metric_error, metric_error, "refactor"))
    if metric_error:
        return checks, details
    sample = scores["sample"]
    checks.append(Check("assertion", "sample submission validates", sample.valid, sample.error, "designer"))
    gold, shuffled_score = scores["gold"], scores["shuffled"]
    higher = task.info.higher_is_better
    if not (gold.valid and shuffled_score.valid):
        checks.append(Check("assertion", "metric optimal on gold", False,
                            f"the gold answers do not validate: {gold.error or shuffled_score.error}", "refactor"))
        return checks, details
    g, s = mle_tasks.oriented(gold.raw_score, higher), mle_tasks.oriented(shuffled_score.raw_score, higher)
    better = [r for r in mle_tasks.LADDER if scores[r].valid and mle_tasks.oriented(scores[r].raw_score, higher) > g + 1e-12]
    reason = ""
    if g <= s:
        reason = (f"the metric gives the gold answers {gold.raw_score:.6g} and shuffled answers "
                  f"{shuffled_score.raw_score:.6g}: it does not reward correct predictions")
    elif better:
        reason = f"ladder rung(s) {better} score better than the gold answers"
    checks.append(Check("assertion", "metric optimal on gold", not reason, reason, "refactor"))
    if reason:
        return checks, details
    details["score_objects"] = scores
    return checks, details


def execution_gate(task: mle_tasks.MLETask, details: Dict[str, Any]) -> List[Check]:
    """Execution over the ladder scores computed by runtime_checks; writes the reference scores when it passes."""
    scores = details["score_objects"]
    checks = execution_checks(task, scores, scores["gold"])
    if not failures(checks):
        refs = mle_tasks.ReferenceScores(constant=scores["constant"].raw_score, gbm=scores["gbm"].raw_score,
                                         higher_is_better=task.info.higher_is_better,
                                         ladder={r: scores[r].raw_score for r in mle_tasks.LADDER})
        (task.private_dir / "reference_scores.json").write_text(json.dumps(asdict(refs), indent=2))
    return checks


def execution_checks(task: mle_tasks.MLETask, scores: Dict[str, mle_tasks.SubmissionScore],
                     gold: mle_tasks.SubmissionScore) -> List[Check]:
    higher = task.info.higher_is_better
    invalid = [r for r in mle_tasks.LADDER if not scores[r].valid]
    if invalid:
        return [Check("execution", "ladder submissions valid", False,
                      "; ".join(f"{r}: {scores[r].error}" for r in invalid), "brainstormer")]
    value = {r: mle_tasks.oriented(scores[r].raw_score, higher) for r in mle_tasks.LADDER}
    checks = [Check("execution", "ladder submissions valid", True)]
    tracks = value["linear"] > value["constant"] and value["gbm"] > value["constant"]
    checks.append(Check("execution", "metric tracks quality", tracks, "" if tracks else
                        "the learned models do not beat the constant baseline "
                        f"({', '.join(f'{r} {scores[r].raw_score:.4g}' for r in mle_tasks.LADDER)})", "brainstormer"))
    trivial = value["gbm"] >= mle_tasks.oriented(gold.raw_score, higher) - 1e-12
    checks.append(Check("execution", "non-trivial", not trivial, "the reference model reaches the gold score" if trivial
                        else "", "brainstormer"))
    return checks


# ---------------------------------------------------------------------------------------------------- reviews

CRITERIA = ("clear_description", "suitable_metric", "no_leakage", "no_shortcut")


class Criterion(BaseModel):
    verdict: Literal["pass", "fail"]
    reason: str = ""


class ReviewVerdicts(BaseModel):
    clear_description: Criterion
    suitable_metric: Criterion
    no_leakage: Criterion
    no_shortcut: Criterion


def review_variables(task: mle_tasks.MLETask) -> Dict[str, Any]:
    test = pd.read_csv(task.public_dir / "test.csv", nrows=3)
    return {"description": task.description, "target": ", ".join(task.info.target_columns),
            "task_type": task.info.task_type, "metric": task.info.metric,
            "higher_is_better": task.info.higher_is_better, "test_columns": list(test.columns),
            "test_head": test.to_csv(index=False)[:1500], "metric_source": task.metric_path.read_text()[:3000]}


def llm_reviews(task: mle_tasks.MLETask, model, seed: str = "review") -> Tuple[List[Check], Dict[str, Any]]:
    """The judge's four verdicts (strict: a reply without a valid verdict fails every criterion)."""
    from helm_plugins.common.judges import parse_json_verdict

    prompt = model.render("review", shrink=("description", "metric_source", "test_head"), **review_variables(task))
    reply = model.ask(prompt, seed, stage="review")
    verdict = parse_json_verdict(reply.text, ReviewVerdicts) if reply.success else None
    record = {"prompt": prompt, "reply": reply.text, "error": reply.error}
    if verdict is None or not verdict.ok:
        problem = reply.error if verdict is None else f"{verdict.status} verdict: {verdict.error}"
        return [Check("review", c, False, f"no valid review: {problem}") for c in CRITERIA], record
    checks = []
    for criterion in CRITERIA:
        item: Criterion = getattr(verdict.value, criterion)
        checks.append(Check("review", criterion, item.verdict == "pass", item.reason or item.verdict,
                            "brainstormer" if criterion == "suitable_metric" else "designer"))
    return checks, record


def rule_reviews(task: mle_tasks.MLETask) -> List[Check]:
    """Deterministic stand-ins for the four review criteria (offline generation without a review model)."""
    info, key = task.info, task.info.id_column
    text = task.description.lower()
    needed = [key] + info.target_columns + [info.metric.lower(), "submission"]
    absent = [w for w in needed if w.lower() not in text]
    checks = [Check("review", "clear_description", not absent and len(text) >= 200,
                    f"rule check: the description does not mention {absent}" if absent else
                    ("" if len(text) >= 200 else "rule check: the description is too short"))]
    helper = info.notes.get("metric_function", "")
    suits = helper in METRIC_TASK_TYPES and info.task_type in METRIC_TASK_TYPES[helper]
    checks.append(Check("review", "suitable_metric", suits, "" if suits else
                        f"rule check: metric {info.metric!r} does not suit a {info.task_type} task", "brainstormer"))
    test = pd.read_csv(task.public_dir / "test.csv")
    named = [c for c in test.columns if c != key and any(t.lower() in c.lower() for t in info.target_columns)]
    checks.append(Check("review", "no_leakage", not named,
                        f"rule check: test.csv columns named like the target: {named}" if named else ""))
    checks.append(shortcut_check(task))
    return checks


def shortcut_check(task: mle_tasks.MLETask) -> Check:
    """No trivial rule gives the label on train.csv: the id's order, or one feature whose every value maps to one
    label (classification) or that is a near-exact linear copy of the target (regression)."""
    info, key = task.info, task.info.id_column
    train = pd.read_csv(task.public_dir / "train.csv")
    found = []
    for target in info.target_columns:
        y = train[target]
        order = pd.Series(pd.factorize(train[key].astype(str), sort=True)[0])
        codes = pd.Series(pd.factorize(y.astype(str), sort=True)[0]) if info.task_type != "regression" else y
        if len(train) > 10 and y.nunique() > 1 and abs(order.corr(pd.Series(codes), method="spearman")) > 0.8:
            found.append(f"the order of {key} predicts {target}")
        for column in train.columns:
            if column in (key, target) or column in info.target_columns:
                continue
            x = train[column]
            if info.task_type == "regression":
                numbers = pd.to_numeric(x, errors="coerce")
                if numbers.notna().all() and numbers.std() > 0 and abs(numbers.corr(y.astype(float))) > 0.995:
                    found.append(f"column {column!r} is a copy of {target}")
            elif x.nunique() < len(train) / 2:
                purity = train.groupby(column)[target].agg(lambda s: s.value_counts().iloc[0]).sum() / len(train)
                if purity > 0.99 and y.value_counts(normalize=True).iloc[0] < 0.95:
                    found.append(f"column {column!r} determines {target}")
    return Check("review", "no_shortcut", not found, "rule check: " + "; ".join(found) if found else "")
