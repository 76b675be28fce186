from pathlib import Path

import numpy as np
import pandas as pd


def prepare(raw: Path, public: Path, private: Path) -> None:
    data = pd.read_csv(raw / "data.csv").rename(columns={"target": "digit"})
    data.insert(0, "image", [f"img{i:04d}" for i in range(len(data))])
    rng = np.random.default_rng(2)
    is_test = rng.random(len(data)) < 0.3
    train, test = data[~is_test], data[is_test]
    train.to_csv(public / "train.csv", index=False)
    test.drop(columns=["digit"]).to_csv(public / "test.csv", index=False)
    test[["image", "digit"]].to_csv(private / "test_answer.csv", index=False)
    pd.DataFrame({"image": test["image"], "digit": rng.integers(0, 10, len(test))}).to_csv(
        public / "sample_submission.csv", index=False)
