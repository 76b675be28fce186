"""Agents on MLE tasks through HAL's harness: only public files reach the agent; graded skills come out in order."""

import shutil

import pytest

from helm_plugins.agents.mle_smith import harness, pools
from helm_plugins.common import mle_tasks

pytestmark = pytest.mark.skipif(not shutil.which("bwrap"), reason="bubblewrap is not installed")


def test_scripted_agents_on_a_prepared_task(tmp_path):
    source = tmp_path / "pool"
    for name in ("iris_species", "wine_cultivar"):
        shutil.copytree(mle_tasks.HUMAN_POOL / name, source / name)
    tasks = pools.prepared_pool(str(source), tmp_path / "out", num_tasks=1)
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
