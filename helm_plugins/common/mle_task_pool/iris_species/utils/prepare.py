from pathlib import Path

import numpy as np
import pandas as pd


def prepare(raw: Path, public: Path, private: Path) -> None:
    data = pd.read_csv(raw / "data.csv").rename(columns={"target": "species"})
    data.insert(0, "id", [f"flower_{i:03d}" for i in range(len(data))])
    rng = np.random.default_rng(7)
    order = rng.permutation(len(data))
    n_test = len(data) * 3 // 10
    test, train = data.iloc[order[:n_test]], data.iloc[order[n_test:]]
    train.to_csv(public / "train.csv", index=False)
    test.drop(columns=["species"]).to_csv(public / "test.csv", index=False)
    test[["id", "species"]].to_csv(private / "test_answer.csv", index=False)
    sample = pd.DataFrame({"id": test["id"], "species": rng.choice(sorted(data["species"].unique()), len(test))})
    sample.to_csv(public / "sample_submission.csv", index=False)
