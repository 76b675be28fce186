from pathlib import Path

import numpy as np
import pandas as pd


def prepare(raw: Path, public: Path, private: Path) -> None:
    data = pd.read_csv(raw / "data.csv").rename(columns={"target": "cultivar"})
    data = data.sample(frac=1.0, random_state=21).reset_index(drop=True)  # the raw table is sorted by class
    data.insert(0, "id", [f"w{i:03d}" for i in range(len(data))])
    test = data.groupby("cultivar", group_keys=False).sample(frac=0.3, random_state=21)  # stratified
    train = data.drop(index=test.index)
    train.to_csv(public / "train.csv", index=False)
    test.drop(columns=["cultivar"]).to_csv(public / "test.csv", index=False)
    test[["id", "cultivar"]].to_csv(private / "test_answer.csv", index=False)
    rng = np.random.default_rng(21)
    pd.DataFrame({"id": test["id"], "cultivar": rng.choice(sorted(data["cultivar"].unique()), len(test))}).to_csv(
        public / "sample_submission.csv", index=False)
