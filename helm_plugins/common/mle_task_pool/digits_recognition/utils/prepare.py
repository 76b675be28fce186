from pathlib import Path

import numpy as np
import pandas as pd


def prepare(raw: Path, public: Path, private: Path) -> None:
    data = pd.read_csv(raw / "data.csv").rename(columns={"target": "digit"})
    rng = np.random.default_rng(5)
    data = data.iloc[rng.permutation(len(data))].reset_index(drop=True)
    data.insert(0, "image_id", np.arange(len(data)) + 50000)
    train, test = data.iloc[:1300], data.iloc[1300:]
    train.to_csv(public / "train.csv", index=False)
    test.drop(columns=["digit"]).to_csv(public / "test.csv", index=False)
    test[["image_id", "digit"]].to_csv(private / "test_answer.csv", index=False)
    pd.DataFrame({"image_id": test["image_id"], "digit": rng.integers(0, 10, len(test))}).to_csv(
        public / "sample_submission.csv", index=False)
