import json

import pytest

from helm_plugins.common.results import read_stats
from helm_plugins.runners.speculative.config import load_speculate_config
from helm_plugins.runners.speculative.runner import run_speculation

SMALL = ["problems=3", "rollouts_per_problem=2", "epochs=3", "temperature=0", "policy_lr=0"]


@pytest.fixture(scope="module")
def greedy_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("speculate")
    config = load_speculate_config("demo", None, SMALL)
    summaries = run_speculation(config, root / "out", suite_dir=root / "runs" / "s", progress=False)
    return config, root, summaries


def test_greedy_rollouts_are_the_same_for_every_drafter(greedy_run):
    config, root, summaries = greedy_run
    history = json.loads((root / "out" / "history.json").read_text())["epochs"]
    for epoch in range(3):
        rows = [h for h in history if h["epoch"] == epoch]
        assert len({h["tokens"] for h in rows}) == 1 and len({h["mean_reward"] for h in rows}) == 1
    das = next(s for s in summaries if s.name == "das")
    assert das.epochs[-1].tokens_per_pass > 2.0  # the problems recur: their history drafts well


def test_replay_of_greedy_rollouts_reproduces_the_model_run(greedy_run):
    config, root, summaries = greedy_run
    replayed = run_speculation(config, root / "replay", replay_file=root / "out" / "rollouts.jsonl", progress=False)
    for live, offline in zip(summaries, replayed):
        assert [(e.tokens, e.passes, e.drafted, e.accepted) for e in live.epochs] == [
            (e.tokens, e.passes, e.drafted, e.accepted) for e in offline.epochs
        ]


def test_helm_runs_and_plots_are_written(greedy_run):
    config, root, summaries = greedy_run
    runs = sorted((root / "runs" / "s").iterdir())
    assert [r.name for r in runs] == sorted(
        f"hp_speculate:drafter={d.name},temperature=0.0,mode=model,model=helm-plugins_tiny-default+{d.name}"
        for d in config.drafters
    )
    stats = read_stats(next(r for r in runs if "drafter=none" in r.name))
    assert stats["tokens_per_pass"] == 1.0 and stats["speedup_vs_no_speculation"] == 1.0
    assert all((r / "speculation.png").is_file() for r in runs)
    assert (root / "out" / "speculation.png").is_file()


def test_bad_configs_are_rejected():
    with pytest.raises(ValueError, match="the first entry must be the no-speculation baseline"):
        load_speculate_config("demo", None, ["drafters=[{name: a, kind: ngram}]"])
    with pytest.raises(ValueError, match="a suffix drafter needs scopes"):
        load_speculate_config("demo", None, ["drafters=[{name: n, kind: none, budget: none}, {name: s, kind: suffix}]"])
    with pytest.raises(FileNotFoundError, match="no checkpoint folder"):
        run_speculation(load_speculate_config("demo", None, SMALL + ["model=/nowhere"]), "/tmp/unused-speculate")
