"""A generated tabular task in the MLE layout (public train/test/sample submission, private answers) and its grader."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest


class AccuracyGrader:
    def __init__(self, answers: Path):
        self.answers = str(answers)

    def grade(self, submission: Path) -> dict:
        answers = pd.read_csv(self.answers)
        try:
            predicted = pd.read_csv(submission)
        except Exception as error:
            return {"valid": False, "score": None, "raw_score": None, "reason": f"unreadable: {error}"}
        if list(predicted.columns) != list(answers.columns) or len(predicted) != len(answers):
            return {"valid": False, "score": None, "raw_score": None, "reason": "columns or rows differ"}
        merged = answers.merge(predicted, on="id", suffixes=("", "_pred"))
        accuracy = float((merged["label"].astype(str) == merged["label_pred"].astype(str)).mean())
        return {"valid": True, "score": accuracy, "raw_score": accuracy, "reason": ""}


def make_task(root: Path, rows: int = 300, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=rows), rng.normal(size=rows)
    colour = rng.choice(["red", "green", "blue"], size=rows)
    label = np.where(x1 + 0.5 * x2 * x2 + (colour == "red") > 0.7, "yes", "no")
    frame = pd.DataFrame({"id": np.arange(rows), "x1": x1, "x2": x2, "colour": colour, "label": label})
    public, private = root / "public", root / "private"
    public.mkdir(parents=True)
    private.mkdir(parents=True)
    cut = rows * 2 // 3
    frame.iloc[:cut].to_csv(public / "train.csv", index=False)
    frame.iloc[cut:].drop(columns=["label"]).to_csv(public / "test.csv", index=False)
    frame.iloc[cut:][["id"]].assign(label="no").to_csv(public / "sample_submission.csv", index=False)
    frame.iloc[cut:][["id", "label"]].to_csv(private / "answers.csv", index=False)
    return root


@pytest.fixture(scope="session")
def toy_task(tmp_path_factory):
    return make_task(tmp_path_factory.mktemp("rl_task"))
