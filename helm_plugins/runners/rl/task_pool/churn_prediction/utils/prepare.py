from pathlib import Path

import numpy as np
import pandas as pd


def prepare(raw: Path, public: Path, private: Path) -> None:
    data = pd.read_csv(raw / "data.csv")
    data.insert(0, "customer", [f"c{i:04d}" for i in range(len(data))])
    rng = np.random.default_rng(7)
    is_test = rng.random(len(data)) < 0.3
    train, test = data[~is_test], data[is_test]
    train.to_csv(public / "train.csv", index=False)
    test.drop(columns=["churned"]).to_csv(public / "test.csv", index=False)
    test[["customer", "churned"]].to_csv(private / "test_answer.csv", index=False)
    pd.DataFrame({"customer": test["customer"], "churned": rng.random(len(test)).round(3)}).to_csv(
        public / "sample_submission.csv", index=False)
