from pathlib import Path

import numpy as np
import pandas as pd


def prepare(raw: Path, public: Path, private: Path) -> None:
    data = pd.read_csv(raw / "data.csv").drop(columns=["stars"])  # the stars give the sentiment away
    data.insert(0, "review_id", np.arange(len(data)) * 7 + 13)
    rng = np.random.default_rng(303)
    is_test = rng.random(len(data)) < 0.3
    train, test = data[~is_test], data[is_test]
    train.to_csv(public / "train.csv", index=False)
    test.drop(columns=["sentiment"]).to_csv(public / "test.csv", index=False)
    test[["review_id", "sentiment"]].to_csv(private / "test_answer.csv", index=False)
    pd.DataFrame({"review_id": test["review_id"], "sentiment": rng.choice(["negative", "positive"], len(test))}).to_csv(
        public / "sample_submission.csv", index=False)
