from pathlib import Path

import numpy as np
import pandas as pd


def prepare(raw: Path, public: Path, private: Path) -> None:
    data = pd.read_csv(raw / "data.csv")
    data["malignant"] = (data.pop("target") == "malignant").astype(int)
    data.insert(0, "id", [f"case{i}" for i in range(len(data))])
    rng = np.random.default_rng(3)
    test_ids = set(rng.choice(data["id"], size=len(data) // 4, replace=False))
    is_test = data["id"].isin(test_ids)
    train, test = data[~is_test], data[is_test]
    train.to_csv(public / "train.csv", index=False)
    test.drop(columns=["malignant"]).to_csv(public / "test.csv", index=False)
    test[["id", "malignant"]].to_csv(private / "test_answer.csv", index=False)
    pd.DataFrame({"id": test["id"], "malignant": rng.random(len(test)).round(3)}).to_csv(
        public / "sample_submission.csv", index=False)
