"""Agents on MLE tasks through HAL's harness: only public files reach the agent; graded skills come out in order."""

import shutil

import pytest

from helm_plugins.agents.mle_smith import harness, pools
from helm_plugins.common import mle_tasks

pytestmark = pytest.mark.skipif(not shutil.which("bwrap"), reason="bubblewrap is not installed")


@pytest.fixture(scope="module")
def iris(tmp_path_factory):
    """The iris task prepared once for this module (a pool folder of two tasks, the first one taken)."""
    root = tmp_path_factory.mktemp("iris")
    for name in ("iris_species", "wine_cultivar"):
        shutil.copytree(mle_tasks.HUMAN_POOL / name, root / "pool" / name)
    return pools.prepared_pool(str(root / "pool"), root / "out", num_tasks=1)


def test_scripted_agents_on_a_prepared_task(iris, tmp_path):
    tasks = iris
    assert [t.name for t in tasks] == ["iris_species"] and tasks[0].prepared
    task = tasks[0]
    public = harness.harness_task(task)
    assert set(public.files) == {"train.csv", "test.csv", "sample_submission.csv", "description.txt", "task.json"}
    answers = task.answers_path.read_text().splitlines()[1:]
    assert not any(line in public.files["test.csv"] for line in answers)  # no "id,species" answer row leaks
    records = {agent: harness.run_pool(tasks, agent, {}, tmp_path / "runs" / agent)["iris_species"]
               for agent in ("sample", "constant", "knn")}
    assert all(r["valid"] and not r["error_kind"] for r in records.values())
    assert records["constant"]["normalized"] == pytest.approx(0.0)
    assert records["knn"]["normalized"] > 0.8 > records["sample"]["normalized"]
    again = harness.run_pool(tasks, "knn", {}, tmp_path / "runs" / "knn")["iris_species"]  # resumed from the checkpoint
    assert again["raw_score"] == records["knn"]["raw_score"]
    with pytest.raises(ValueError, match="agent='oracle'"):
        harness.agent_target("oracle")


GOOD_PROGRAM = """
import pandas as pd
train, test = pd.read_csv("train.csv"), pd.read_csv("test.csv")
features = [c for c in test.columns if c != "id"]
centroids = train.groupby("species")[features].mean()
distance = ((test[features].to_numpy()[:, None, :] - centroids.to_numpy()[None]) ** 2).sum(-1)
pd.DataFrame({"id": test["id"], "species": centroids.index[distance.argmin(1)]}).to_csv("submission.csv", index=False)
print("nearest centroid")
"""


def test_the_model_driven_coder_fixes_its_program_from_the_error(iris, tmp_path):
    from helm_plugins.agents.hal.harness import Models

    class Coder(Models):
        def __init__(self):
            self.prompts = []

        def complete(self, payload):
            self.prompts.append(payload["messages"][-1]["content"])
            program = "import pandas as pd\nprint(undefined_name)\n" if len(self.prompts) == 1 else GOOD_PROGRAM
            return {"text": f"Plan: centroids.\n```python\n{program}```", "model": "fake/coder", "prompt_tokens": 50,
                    "completion_tokens": 40, "cached": False, "estimated": False}

    tasks = iris
    coder = Coder()
    record = harness.run_pool(tasks, "coder", {"max_steps": 3}, tmp_path / "runs", models=coder)["iris_species"]
    assert len(coder.prompts) == 2 and "NameError" in coder.prompts[1]  # the error went back to the model
    assert "train.csv" in coder.prompts[0] and "species" in coder.prompts[0]
    assert record["valid"] and record["normalized"] > 0.8 and record["steps"] == 2 and record["lm_calls"] == 2
    assert record["usage"]["fake/coder"]["prompt_tokens"] == 100
