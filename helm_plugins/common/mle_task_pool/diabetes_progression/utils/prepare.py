from pathlib import Path

import numpy as np
import pandas as pd


def prepare(raw: Path, public: Path, private: Path) -> None:
    data = pd.read_csv(raw / "data.csv").rename(columns={"target": "progression"})
    data.insert(0, "patient", np.arange(1000, 1000 + len(data)))
    rng = np.random.default_rng(11)
    is_test = rng.random(len(data)) < 0.25
    train, test = data[~is_test], data[is_test]
    train.to_csv(public / "train.csv", index=False)
    test.drop(columns=["progression"]).to_csv(public / "test.csv", index=False)
    test[["patient", "progression"]].to_csv(private / "test_answer.csv", index=False)
    low, high = train["progression"].min(), train["progression"].max()
    sample = pd.DataFrame({"patient": test["patient"], "progression": rng.uniform(low, high, len(test)).round(1)})
    sample.to_csv(public / "sample_submission.csv", index=False)
