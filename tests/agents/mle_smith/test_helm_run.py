"""hp_mle_task through helm-run on two small pools, then mle-report and helm-plugins summarize."""

import json
import shutil

import pytest

from helm_plugins.common import mle_tasks
from tests.conftest import BIN, run_command

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not shutil.which("bwrap"), reason="bubblewrap is not installed")]


def test_agents_on_two_pools_elo_and_leaderboard(tmp_path):
    other = tmp_path / "other_pool"
    for name in ("iris_species", "wine_cultivar"):
        shutil.copytree(mle_tasks.HUMAN_POOL / name, other / name)
    entries = [f"hp_mle_task:pool={pool},{extra}agent={agent},model=simulated/scripted"
               for pool, extra in (("human", "num_tasks=2,"), (str(other), "pool_label=generated,"))
               for agent in ("sample", "constant", "knn", "ensemble")]
    run_command([BIN / "helm-run", "--run-entries", *entries, "--suite", "m", "-m", "5"], cwd=tmp_path)
    suite = tmp_path / "benchmark_output" / "runs" / "m"
    knn = json.loads((suite / "hp_mle_task:pool=human,agent=knn,model=simulated_scripted" / "stats.json").read_text())
    means = {s["name"]["name"]: s["mean"] for s in knn if s["name"]["split"] == "test" and "mean" in s
             and not s["name"].get("perturbation")}
    assert means["valid_submission"] == 1.0 and means["normalized_score"] > 0.8 and means["error"] == 0.0
    out = run_command([BIN / "helm-plugins", "mle-report", "--suite", "m", "--bootstrap", "50"], cwd=tmp_path).stdout
    assert "| pearson |" in out
    report = json.loads((tmp_path / "benchmark_output" / "mle_report" / "m" / "report.json").read_text())
    elo = {row["agent"]: row for row in report["agents"]}
    for pool in ("human", "generated"):
        assert elo["sample"][pool]["elo"] < elo["knn"][pool]["elo"] and elo["constant"][pool]["elo"] < elo["knn"][pool]["elo"]
    assert report["agreement"]["spearman"]["estimate"] > 0.5
    assert (tmp_path / "benchmark_output" / "mle_report" / "m" / "elo_agreement.png").is_file()
    summary = run_command([BIN / "helm-plugins", "summarize", "--suite", "m", "--num-threads", "1"], cwd=tmp_path)
    assert "does not have any stat matched" not in summary.stdout + summary.stderr
    for group in ("hp_mle_task_human", "hp_mle_task_generated", "hp_mle_elo", "hp_mle_agreement"):
        assert (suite / "groups" / f"{group}.json").is_file(), group
