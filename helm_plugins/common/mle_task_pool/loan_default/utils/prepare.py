from pathlib import Path

import numpy as np
import pandas as pd


def prepare(raw: Path, public: Path, private: Path) -> None:
    data = pd.read_csv(raw / "data.csv")
    rng = np.random.default_rng(505)
    data.insert(0, "application", rng.permutation(len(data)) + 7000)
    is_test = data["application"] % 4 == 0  # the application number is random: a random quarter
    train, test = data[~is_test], data[is_test]
    train.to_csv(public / "train.csv", index=False)
    test.drop(columns=["defaulted"]).to_csv(public / "test.csv", index=False)
    test[["application", "defaulted"]].to_csv(private / "test_answer.csv", index=False)
    pd.DataFrame({"application": test["application"], "defaulted": rng.choice(["no", "yes"], len(test))}).to_csv(
        public / "sample_submission.csv", index=False)
