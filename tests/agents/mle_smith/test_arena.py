"""Elo by Bradley-Terry and the agreement statistics of two pools."""

import math

import numpy as np
import pytest
from scipy import stats

from helm_plugins.agents.mle_smith import arena


def planted_scores(strengths, n_tasks, seed, noise=1.0):
    """Per-task scores = strength + Gaussian noise (so P(a beats b) grows with the strength gap)."""
    rng = np.random.default_rng(seed)
    return {f"t{t}": {a: s + noise * rng.normal() for a, s in strengths.items()} for t in range(n_tasks)}


def test_bradley_terry_recovers_planted_strengths():
    # battles drawn from the Bradley-Terry model itself: the fit recovers the planted Elo gaps
    rng = np.random.default_rng(0)
    planted = np.array([0.0, 100.0, 250.0, 400.0])
    pairs = []
    for _ in range(3000):
        i, j = rng.choice(4, 2, replace=False)
        p = 1 / (1 + 10 ** ((planted[j] - planted[i]) / 400))
        pairs.append((i, j, float(rng.random() < p)))
    fitted = arena.bradley_terry(pairs, 4, prior_sd=10_000)
    assert np.allclose(fitted - fitted[0], planted - planted[0], atol=40)
    assert fitted.mean() == pytest.approx(1000)


def test_elo_orders_agents_and_intervals_cover_the_estimate():
    scores = planted_scores({"weak": 0.0, "mid": 1.0, "strong": 2.0, "best": 3.0}, 30, seed=1)
    result = arena.elo(scores, ["weak", "mid", "strong", "best"], bootstrap=100, seed=0)
    order = sorted(result.agents, key=result.elo.get)
    assert order == ["weak", "mid", "strong", "best"]
    for agent in result.agents:
        assert result.low[agent] <= result.elo[agent] <= result.high[agent]
    assert result.n_battles == 30 * 6 and result.n_tasks == 30


def test_invalid_loses_and_equal_scores_tie():
    outcomes = arena.battles({"t": {"a": None, "b": 0.1, "c": 0.1}}, ["a", "b", "c"])
    assert sorted(outcomes) == [("t", 0, 1, 0.0), ("t", 0, 2, 0.0), ("t", 1, 2, 0.5)]


def test_agreement_statistics_match_scipy():
    x = [1255, 1147, 1068, 1065, 1012, 991, 777, 687]  # the paper's human-designed Elo
    y = [1180, 1079, 1115, 1059, 1003, 1030, 809, 742]  # and generated Elo
    values = arena.agreement_statistics(x, y, k=3)
    assert values["pearson"] == pytest.approx(stats.pearsonr(x, y)[0])
    assert values["spearman"] == pytest.approx(stats.spearmanr(x, y)[0])
    assert values["kendall_tau_b"] == pytest.approx(stats.kendalltau(x, y)[0])
    # the paper reports Pearson 0.982 and CCC 0.958; its rounded Elo table gives 0.977 and 0.955
    assert values["pearson"] == pytest.approx(0.977, abs=0.001)
    assert values["spearman"] == pytest.approx(0.952, abs=0.001)
    assert values["kendall_tau_b"] == pytest.approx(0.857, abs=0.001)
    assert values["top3_overlap"] == 1.0
    xa, ya = np.array(x, float), np.array(y, float)
    expected_ccc = 2 * np.cov(xa, ya, bias=True)[0, 1] / (xa.var() + ya.var() + (xa.mean() - ya.mean()) ** 2)
    assert values["ccc"] == pytest.approx(expected_ccc)
    assert arena.ccc(x, x) == pytest.approx(1.0) and arena.ccc(x, [v + 100 for v in x]) < 1


def test_agreement_of_pools_with_the_same_planted_ranking_and_a_reversed_one():
    strengths = {"a": 0.0, "b": 1.0, "c": 2.0, "d": 3.0, "e": 4.0}
    first = arena.elo(planted_scores(strengths, 25, 1), list(strengths), bootstrap=100, seed=0)
    second = arena.elo(planted_scores(strengths, 25, 2), list(strengths), bootstrap=100, seed=1)
    same = arena.agreement(first, second)
    assert same["spearman"]["estimate"] == pytest.approx(1.0) and same["pearson"]["low"] > 0.8
    reversed_pool = arena.elo(planted_scores({k: -v for k, v in strengths.items()}, 25, 3), list(strengths),
                              bootstrap=100, seed=2)
    opposite = arena.agreement(first, reversed_pool)
    assert opposite["spearman"]["estimate"] == pytest.approx(-1.0) and opposite["pearson"]["high"] < 0
    for value in same.values():
        assert value["low"] <= value["estimate"] + 1e-9 and value["estimate"] <= value["high"] + 1e-9 or math.isnan(value["low"])
    with pytest.raises(ValueError, match="at least 3 agents"):
        arena.agreement(arena.elo(planted_scores({"a": 0, "b": 1}, 5, 0), ["a", "b"], bootstrap=5),
                        arena.elo(planted_scores({"a": 0, "b": 1}, 5, 1), ["a", "b"], bootstrap=5))
