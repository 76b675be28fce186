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


def _epoch(drafter, seed, epoch, tokens, passes, batch_seconds):
    from helm_plugins.runners.speculative.rollouts import EpochMetrics

    return EpochMetrics(drafter=drafter, epoch=epoch, rollouts=2, tokens=tokens, passes=passes, drafted=passes,
                        accepted=tokens - passes, makespan_passes=passes // 2, drafter_seconds=0.1, rollout_seconds=None,
                        mean_reward=0.5, batch_seconds=batch_seconds, max_length=tokens // 2, median_length=tokens / 4,
                        problem_tokens={"0": tokens // 2, "1": tokens - tokens // 2},
                        problem_passes={"0": passes // 2, "1": passes - passes // 2}, seed=seed)


def test_headline_intervals_are_over_seeds():
    """Planted per-seed results: tokens per pass 2, 3 and 4 and batch speedups 1, 2 and 4 over three seeds give
    their mean (3), geometric mean (2), cut 1 - 1/2, and t intervals over the three values."""
    import math

    import numpy as np
    import scipy.stats

    from helm_plugins.runners.speculative.runner import summarize

    metrics = []
    for seed, (ratio, speedup) in enumerate([(2, 1.0), (3, 2.0), (4, 4.0)]):
        for epoch in range(2):
            metrics.append(_epoch("none", seed, epoch, 100, 100, 8.0))
            metrics.append(_epoch("das", seed, epoch, 100 * ratio, 100, 8.0 / speedup))
    none, das = summarize(metrics)
    stats = das.stats()
    half = scipy.stats.t.ppf(0.975, 2) * np.std([2, 3, 4], ddof=1) / math.sqrt(3)
    assert stats["seeds"] == 3
    assert stats["tokens_per_pass"] == pytest.approx(3.0)
    assert (stats["tokens_per_pass_ci_low"], stats["tokens_per_pass_ci_high"]) == pytest.approx((3 - half, 3 + half))
    assert stats["batch_speedup"] == pytest.approx(2.0)
    logs = np.log([1.0, 2.0, 4.0])
    log_half = scipy.stats.t.ppf(0.975, 2) * logs.std(ddof=1) / math.sqrt(3)
    assert stats["batch_speedup_ci_low"] == pytest.approx(2.0 * math.exp(-log_half))
    assert stats["rollout_time_cut"] == pytest.approx(0.5)
    assert stats["rollout_time_cut_ci_low"] == pytest.approx(1 - 1 / stats["batch_speedup_ci_low"])
    assert stats["rollout_time_cut_ci_high"] == pytest.approx(1 - 1 / stats["batch_speedup_ci_high"])
    assert stats["batch_seconds"] == pytest.approx(2 * 8.0 * (1 + 1 / 2 + 1 / 4))  # summed over runs
    baseline = none.stats()
    assert baseline["batch_speedup"] == 1.0 and baseline["rollout_time_cut"] == 0.0
    assert (baseline["tokens_per_pass_ci_low"], baseline["tokens_per_pass_ci_high"]) == (1.0, 1.0)
    one_seed = das.for_seed(1).stats()  # one seed: intervals over problems and steps, as before
    assert one_seed["seeds"] == 1 and one_seed["tokens_per_pass"] == pytest.approx(3.0)


def test_several_seeds_run_the_same_work_per_seed_and_differ_across_seeds(tmp_path):
    config = load_speculate_config("demo", None, [
        "problems=1", "rollouts_per_problem=2", "epochs=2", "max_new_tokens=40", "decoding=batch", "seeds=[3, 4]",
        "drafters=[{name: none, kind: none, budget: none}, {name: das, kind: suffix, scopes: [request, problem], "
        "budget: length_aware}]",
    ])
    summaries = run_speculation(config, tmp_path / "out", suite_dir=tmp_path / "runs" / "s", progress=False)
    by_rollout = defaultdict(dict)
    for line in (tmp_path / "out" / "rollouts.jsonl").read_text().splitlines():
        record = json.loads(line)
        by_rollout[(record["seed"], record["epoch"], record["sample"])][record["drafter"]] = record["tokens"]
    assert sorted({key[0] for key in by_rollout}) == [3, 4] and len(by_rollout) == 2 * 2 * 2
    assert all(sequences["das"] == sequences["none"] for sequences in by_rollout.values())
    assert by_rollout[(3, 0, 0)]["none"] != by_rollout[(4, 0, 0)]["none"]
    das = summaries[1]
    assert das.seeds == [3, 4] and das.stats()["seeds"] == 2
    assert "batch_speedup_ci_low" in das.stats() and "rollout_time_cut" in das.stats()
    stats = read_stats(next(r for r in (tmp_path / "runs" / "s").iterdir() if "drafter=das" in r.name))
    assert stats["seeds"] == 2 and stats["tokens_per_pass_ci_low"] <= stats["tokens_per_pass"]
    report = json.loads((tmp_path / "out" / "summary.json").read_text())["das"]
    per_seed = [report["per_seed"][seed]["tokens_per_pass"] for seed in ("3", "4")]
    assert report["stats"]["tokens_per_pass"] == pytest.approx(sum(per_seed) / 2)
    replayed = run_speculation(config, tmp_path / "replay", replay_file=tmp_path / "out" / "rollouts.jsonl", progress=False)
    assert [(e.seed, e.tokens, e.passes) for e in replayed[1].epochs] == [(e.seed, e.tokens, e.passes) for e in das.epochs]
    with pytest.raises(ValueError, match="seeds must be distinct"):
        load_speculate_config("demo", None, ["seeds=[1, 1]"])
