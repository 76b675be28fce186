from pathlib import Path

import numpy as np
import pandas as pd


def prepare(raw: Path, public: Path, private: Path) -> None:
    data = pd.read_csv(raw / "data.csv")
    data.insert(0, "id", [f"b{i}" for i in range(len(data))])
    rng = np.random.default_rng(404)
    order = rng.permutation(len(data))
    test, train = data.iloc[order[:240]], data.iloc[order[240:]]
    train.to_csv(public / "train.csv", index=False)
    test.drop(columns=["energy_kwh"]).to_csv(public / "test.csv", index=False)
    test[["id", "energy_kwh"]].to_csv(private / "test_answer.csv", index=False)
    guesses = rng.uniform(0, train["energy_kwh"].max(), len(test)).round(1)
    pd.DataFrame({"id": test["id"], "energy_kwh": guesses}).to_csv(public / "sample_submission.csv", index=False)
