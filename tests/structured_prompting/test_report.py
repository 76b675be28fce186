"""Statistics of the ceiling report on planted data with known answers."""

import dataclasses

import numpy as np
import pytest

from helm_plugins.structured_prompting.report import (
    bootstrap_gain,
    bootstrap_max,
    cross_fitted_ceiling,
    mcnemar_p,
    ranking_change,
)


def test_bootstrap_ci_of_the_max_covers_the_true_ceiling_at_the_nominal_rate():
    rng = np.random.default_rng(0)
    true_means = np.array([0.55, 0.62, 0.75])  # the true ceiling is 0.75
    simulations, covered = 300, 0
    for k in range(simulations):
        scores = (rng.random((3, 300)) < true_means[:, None]).astype(float)
        _, low, high = bootstrap_max(scores, num_samples=500, seed=k)
        covered += low <= 0.75 <= high
    assert 0.90 <= covered / simulations <= 0.99


def test_bootstrap_max_of_identical_methods_is_their_mean():
    scores = np.tile(np.array([1.0, 0.0, 1.0, 1.0]), (3, 1))
    ceiling, low, high = bootstrap_max(scores, num_samples=200)
    assert ceiling == 0.75 and low <= 0.75 <= high


def test_bootstrap_gain_is_paired():
    baseline = np.array([0.0, 1.0] * 50)
    scores = np.vstack([baseline, np.ones(100)])
    gain, low, high = bootstrap_gain(scores, baseline, num_samples=500)
    assert gain == pytest.approx(0.5) and 0.35 < low < 0.5 < high < 0.65


def test_kendall_tau_and_rank_flips_on_a_planted_table():
    baseline = {"a": 0.9, "b": 0.8, "c": 0.7, "d": 0.6}
    ceiling = {"a": 0.85, "b": 0.95, "c": 0.70, "d": 0.75}  # a<->b and c<->d swap: 2 of 6 pairs discordant
    tau, flips = ranking_change(baseline, ceiling)
    assert flips == 2 and tau == pytest.approx((4 - 2) / 6)
    assert ranking_change(baseline, baseline) == (pytest.approx(1.0), 0)
    assert ranking_change({"a": 0.5}, {"a": 0.9}) == (None, 0)


def test_cross_fitted_ceiling_picks_the_method_that_is_better_out_of_sample():
    rng = np.random.default_rng(1)
    good = (rng.random(400) < 0.8).astype(float)
    scores = np.vstack([(rng.random(400) < 0.5).astype(float), good])
    value, held_out, chosen = cross_fitted_ceiling(scores, seed=0)
    assert chosen == [1, 1] and value == pytest.approx(good.mean()) and np.array_equal(held_out, good)


def test_mcnemar_on_known_discordant_counts():
    a = np.array([1] * 10 + [0] * 0 + [1] * 5)
    b = np.array([0] * 10 + [0] * 0 + [1] * 5)
    assert mcnemar_p(a, b) == pytest.approx(2 * 0.5**10)
    assert mcnemar_p(b, b) == 1.0


def method_runs(methods, scores, seeds=None):
    from helm_plugins.structured_prompting.report import MethodRun

    seeds = seeds or [None] * len(methods)
    return [MethodRun("synthetic_arithmetic", "m", method, f"r{method}{seed}", dict(enumerate(s)), {0: 1.0}, {}, {},
                      seed=seed) for method, s, seed in zip(methods, scores, seeds)]


def test_report_renders_cells_with_and_without_a_baseline():
    from helm_plugins.structured_prompting.report import _cell, render_markdown

    with_baseline = _cell("synthetic_arithmetic", "m", method_runs(["helm", "cot"], [[0, 1, 0, 1], [1, 1, 1, 0]]), 200, 0)
    without = _cell("synthetic_arithmetic", "m2", method_runs(["cot", "bfrs"], [[1, 0, 1, 0], [1, 1, 0, 0]], [None, "0"]),
                    200, 0)
    assert with_baseline["in_sample_gain"] == pytest.approx(0.25) and without["gain"] is None
    report = {"suite_dir": "s", "bootstrap_samples": 200, "seed": 0, "cells": [with_baseline, without],
              "rankings": {"synthetic_arithmetic": {"models": 1, "kendall_tau": None, "rank_flips": 0}}, "models": {},
              "benchmarks_with_rank_flips": 0}
    text = render_markdown(report)
    assert "No HELM baseline run" in text and "| synthetic_arithmetic | m | 50.0% | 75.0% | 25.0% |" in text


def test_the_headline_gain_is_held_out_and_excludes_the_baseline():
    from helm_plugins.structured_prompting.report import _cell

    rng = np.random.default_rng(0)
    helm = (rng.random(400) < 0.8).astype(float)
    noisy = [(rng.random(400) < 0.55).astype(float) for _ in range(4)]  # four methods, all truly worse than helm
    cell = _cell("synthetic_arithmetic", "m", method_runs(["helm", "predict", "cot", "bfrs", "miprov2"], [helm, *noisy],
                                                          [None, None, None, "0", "0"]), 500, 0)
    assert cell["gain"] < 0 and cell["gain_ci"][1] < 0  # held out: structured prompting is worse here
    assert cell["in_sample_gain"] < 0 and cell["ceiling_method"] != "helm"  # the ceiling never includes HELM's prompt
    assert cell["gain"] <= cell["in_sample_gain"] + 0.05  # selection on the scored data cannot inflate it


def test_optimiser_seeds_are_averaged_not_replaced():
    from helm_plugins.structured_prompting.report import _cell

    runs = method_runs(["cot", "bfrs", "bfrs", "bfrs"], [[0, 0, 0, 0], [1, 1, 1, 1], [1, 1, 0, 0], [0, 0, 0, 0]],
                       [None, "0", "1", "2"])
    cell = _cell("synthetic_arithmetic", "m", runs, 200, 0)
    assert cell["scores"]["bfrs"] == pytest.approx(0.5)
    assert cell["seeds"]["bfrs"] == {"0": 1.0, "1": 0.5, "2": 0.0}


def test_prompt_sensitivity_with_and_without_reasoning_on_a_planted_grid():
    from helm_plugins.structured_prompting.report import _cell

    rng = np.random.default_rng(3)
    n = 600
    rates = {"helm": 0.45, "predict": 0.75, "cot": 0.80, "bfrs": 0.82, "miprov2": 0.81, "gepa": 0.80}
    scores = [(rng.random(n) < rate).astype(float) for rate in rates.values()]
    cell = _cell("synthetic_arithmetic", "m", method_runs(list(rates), scores, [None, None, None, "0", "0", "0"]), 500, 0)
    without, with_ = cell["sensitivity"]["without_reasoning"], cell["sensitivity"]["with_reasoning"]
    assert without["methods"] == ["helm", "predict"] and with_["methods"] == ["cot", "bfrs", "miprov2", "gepa"]
    assert without["range_ci"][0] <= 0.30 <= without["range_ci"][1] and without["range"] == pytest.approx(0.3, abs=0.06)
    assert with_["range"] < 0.08 and cell["sensitivity"]["difference_ci"][1] < 0  # reasoning lowers sensitivity


def test_the_mean_gain_across_benchmarks_carries_an_interval():
    from helm_plugins.structured_prompting.report import _cell, model_summary

    rng = np.random.default_rng(5)
    cells = []
    for benchmark, lift in (("synthetic_arithmetic", 0.2), ("synthetic_fact_world", 0.1)):
        helm = (rng.random(300) < 0.5).astype(float)
        cot = (rng.random(300) < 0.5 + lift).astype(float)
        runs = [r for r in method_runs(["helm", "cot"], [helm, cot])]
        runs = [dataclasses.replace(r, benchmark=benchmark) for r in runs]
        cells.append(_cell(benchmark, "m", runs, 500, 0))
    summary = model_summary(cells)["m"]
    assert summary["benchmarks"] == 2
    low, high = summary["mean_gain_ci"]
    assert low < summary["mean_gain"] < high and low < 0.15 < high and low > 0.05
    from helm_plugins.structured_prompting.report import render_markdown

    for cell in cells:
        cell.pop("_gain_draws")
    text = render_markdown({"suite_dir": "s", "bootstrap_samples": 500, "seed": 0, "cells": cells, "rankings": {},
                            "models": {"m": summary}, "benchmarks_with_rank_flips": 0})
    assert f"| m | 2 | {100 * summary['mean_gain']:.1f}% | {100 * low:.1f}%–{100 * high:.1f}% |" in text
