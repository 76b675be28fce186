from pathlib import Path

import numpy as np
import pandas as pd


def prepare(raw: Path, public: Path, private: Path) -> None:
    data = pd.read_csv(raw / "data.csv")
    data["churned"] = (data["churned"] == "yes").astype(int)
    rng = np.random.default_rng(101)
    data.insert(0, "customer_id", [f"C{n}" for n in rng.choice(900000, len(data), replace=False) + 100000])
    is_test = rng.random(len(data)) < 0.3
    train, test = data[~is_test], data[is_test]
    train.to_csv(public / "train.csv", index=False)
    test.drop(columns=["churned"]).to_csv(public / "test.csv", index=False)
    test[["customer_id", "churned"]].to_csv(private / "test_answer.csv", index=False)
    pd.DataFrame({"customer_id": test["customer_id"], "churned": rng.random(len(test)).round(3)}).to_csv(
        public / "sample_submission.csv", index=False)
