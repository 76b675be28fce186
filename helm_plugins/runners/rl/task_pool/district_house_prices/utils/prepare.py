from pathlib import Path

import numpy as np
import pandas as pd


def prepare(raw: Path, public: Path, private: Path) -> None:
    data = pd.read_csv(raw / "data.csv")
    data.insert(0, "house", np.arange(5000, 5000 + len(data)))
    rng = np.random.default_rng(5)
    is_test = rng.random(len(data)) < 0.3
    train, test = data[~is_test], data[is_test]
    train.to_csv(public / "train.csv", index=False)
    test.drop(columns=["price"]).to_csv(public / "test.csv", index=False)
    test[["house", "price"]].to_csv(private / "test_answer.csv", index=False)
    low, high = train["price"].min(), train["price"].max()
    pd.DataFrame({"house": test["house"], "price": rng.uniform(low, high, len(test)).round(-2)}).to_csv(
        public / "sample_submission.csv", index=False)
