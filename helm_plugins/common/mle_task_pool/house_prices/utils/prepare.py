from pathlib import Path

import numpy as np
import pandas as pd


def prepare(raw: Path, public: Path, private: Path) -> None:
    data = pd.read_csv(raw / "data.csv")
    data.insert(0, "house_id", [f"H-{i:04d}" for i in range(len(data))])  # the raw rows are in random order
    test = data.sample(n=200, random_state=202)
    train = data.drop(index=test.index)
    train.to_csv(public / "train.csv", index=False)
    test.drop(columns=["price"]).to_csv(public / "test.csv", index=False)
    test[["house_id", "price"]].to_csv(private / "test_answer.csv", index=False)
    rng = np.random.default_rng(202)
    guesses = rng.uniform(train["price"].min(), train["price"].max(), len(test)).round(-2)
    pd.DataFrame({"house_id": test["house_id"], "price": guesses}).to_csv(public / "sample_submission.csv", index=False)
