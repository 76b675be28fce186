import json
from collections import defaultdict

import pytest

from helm_plugins.common.results import read_stats
from helm_plugins.runners.speculative.config import load_speculate_config
from helm_plugins.runners.speculative.runner import run_speculation

SMALL = ["problems=2", "rollouts_per_problem=2", "epochs=2", "temperature=1", "max_new_tokens=120", "decoding=both"]


@pytest.fixture(scope="module")
def sampled_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("speculate")
    config = load_speculate_config("demo", None, SMALL)
    summaries = run_speculation(config, root / "out", suite_dir=root / "runs" / "s", progress=False)
    return config, root, summaries


def test_sampled_rollouts_are_the_same_token_sequences_for_every_drafter(sampled_run):
    config, root, summaries = sampled_run
    by_rollout = defaultdict(dict)
    for line in (root / "out" / "rollouts.jsonl").read_text().splitlines():
        record = json.loads(line)
        by_rollout[(record["epoch"], record["problem_id"], record["sample"])][record["drafter"]] = record["tokens"]
    assert len(by_rollout) == 2 * 2 * 2
    for sequences in by_rollout.values():
        assert set(sequences) == {d.name for d in config.drafters}
        assert all(tokens == sequences["none"] for tokens in sequences.values())
    assert len({tuple(s["none"]) for s in by_rollout.values()}) > 2  # sampled: not one repeated sequence
    das = next(s for s in summaries if s.name == "das")
    assert das.epochs[-1].tokens_per_pass > 1.5  # the problems recur: their history drafts well


def test_rollout_lengths_have_a_long_tail(sampled_run):
    """Rollouts end at the model's end of text: most right after the answer line, some run on to the limit."""
    config, root, summaries = sampled_run
    lengths = [len(json.loads(line)["tokens"]) for line in (root / "out" / "rollouts.jsonl").read_text().splitlines()]
    assert max(lengths) >= 2 * sorted(lengths)[len(lengths) // 2]


def test_both_decodings_are_timed_with_intervals(sampled_run):
    config, root, summaries = sampled_run
    for summary in summaries:
        stats = summary.stats()
        assert stats["batch_seconds"] > 0 and stats["rollout_seconds"] > 0
        assert stats["batch_speedup_ci_low"] <= stats["batch_speedup"] <= stats["batch_speedup_ci_high"]
        assert stats["tokens_per_pass_ci_low"] <= stats["tokens_per_pass"] <= stats["tokens_per_pass_ci_high"]
    baseline = summaries[0].stats()
    assert baseline["batch_speedup"] == 1.0 and baseline["tokens_per_pass"] == 1.0


def test_replay_of_sampled_rollouts_reproduces_the_model_run(sampled_run):
    """Verification by exact match against the logged tokens is what seeded sampling does: same counts."""
    config, root, summaries = sampled_run
    replayed = run_speculation(config, root / "replay", replay_file=root / "out" / "rollouts.jsonl", progress=False)
    for live, offline in zip(summaries, replayed):
        assert [(e.tokens, e.passes, e.drafted, e.accepted) for e in live.epochs] == [
            (e.tokens, e.passes, e.drafted, e.accepted) for e in offline.epochs
        ]


def test_helm_runs_and_plots_are_written(sampled_run):
    config, root, summaries = sampled_run
    runs = sorted((root / "runs" / "s").iterdir())
    assert [r.name for r in runs] == sorted(
        f"hp_speculate:drafter={d.name},temperature=1.0,mode=model,model=helm-plugins_tiny-default+{d.name}"
        for d in config.drafters
    )
    stats = read_stats(next(r for r in runs if "drafter=none" in r.name))
    assert stats["tokens_per_pass"] == 1.0 and stats["batch_speedup"] == 1.0 and stats["speedup_vs_no_speculation"] == 1.0
    assert all((r / "speculation.png").is_file() for r in runs)
    assert (root / "out" / "speculation.png").is_file()


def test_bad_configs_are_rejected():
    with pytest.raises(ValueError, match="the first entry must be the no-speculation baseline"):
        load_speculate_config("demo", None, ["drafters=[{name: a, kind: ngram}]"])
    with pytest.raises(ValueError, match="a suffix drafter needs scopes"):
        load_speculate_config("demo", None, ["drafters=[{name: n, kind: none, budget: none}, {name: s, kind: suffix}]"])
    with pytest.raises(FileNotFoundError, match="no checkpoint folder"):
        run_speculation(load_speculate_config("demo", None, SMALL + ["model=/nowhere"]), "/tmp/unused-speculate")
