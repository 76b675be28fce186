import math

import numpy as np
import pytest

from helm_plugins.statistics.relative_scaling.isoflop import (
    IsoFlopConfig,
    analyse_optima,
    budget_optimum,
    compute_optimal,
    next_width,
)

BUDGETS = (1e18, 3e18, 1e19, 3e19, 1e20)
BETA = {"frequent": 0.08, "rare": 0.11}  # planted: the rare subgroup's gap closes, dbeta = -0.03
ALPHA = {"frequent": 20.0, "rare": 60.0}


def n_star(budget):
    return 0.09 * budget**0.5  # planted compute-optimal size: N* = k C^0.5


def planted_runs(noise=0.0, seed=0, offsets=(-0.9, -0.2, 0.4, 1.1)):
    """Every quantity is a parabola in log N with its vertex at N*(C): the mixture's loss and each subgroup's
    error, whose value at the vertex is alpha_d C^-beta_d. The sizes are not symmetric around N*."""
    rng = np.random.default_rng(seed)
    runs = []
    for budget in BUDGETS:
        for offset in offsets:
            n = n_star(budget) * math.exp(offset)
            row = {"budget": budget, "parameters": n, "flops": budget,
                   "val_loss": 40 * budget**-0.09 + 0.3 * offset**2}
            for name in BETA:
                row[name] = ALPHA[name] * budget ** -BETA[name] * (1 + 0.2 * offset**2) * math.exp(rng.normal(0, noise))
            runs.append(row)
    return runs


def test_planted_isoflop_optimum_and_relative_law_are_recovered_exactly():
    optima = compute_optimal(planted_runs(), ("rare", "frequent"))
    assert [o.budget for o in optima] == list(BUDGETS)
    for optimum in optima:
        assert optimum.inside and optimum.curvature > 0
        assert optimum.n_opt == pytest.approx(n_star(optimum.budget), rel=1e-6)
        for name in BETA:
            assert optimum.errors[name] == pytest.approx(ALPHA[name] * optimum.budget ** -BETA[name], rel=1e-6)
    result = analyse_optima(optima, "rare", "frequent")
    assert result["n_opt_exponent"]["a"] == pytest.approx(0.5, abs=1e-6)
    assert result["relative"]["delta_beta"] == pytest.approx(BETA["frequent"] - BETA["rare"], abs=1e-6)
    assert result["power_laws"]["rare"]["beta"] == pytest.approx(BETA["rare"], abs=1e-6)
    assert result["power_laws"]["rare"]["beta_ci_low"] == pytest.approx(BETA["rare"], abs=1e-6)  # exact: zero width


def test_noisy_planted_suite_recovers_the_optimum_and_covers_dbeta():
    """Multiplicative noise of 1% on every run's subgroup errors: the optimum (read from the noise-free mixture
    loss) stays exact, and the t interval over the five budgets' optima covers the planted dbeta in about 95% of
    planted suites."""
    from helm_plugins.statistics.relative_scaling.laws import relative_law

    covered, trials = 0, 200
    for seed in range(trials):
        optima = compute_optimal(planted_runs(noise=0.01, seed=seed), ("rare", "frequent"))
        rel = relative_law([o.flops for o in optima], {k: [o.errors[k] for o in optima] for k in BETA}, "rare", "frequent")
        covered += rel.ci_low <= BETA["frequent"] - BETA["rare"] <= rel.ci_high
        assert all(o.n_opt == pytest.approx(n_star(o.budget), rel=1e-6) for o in optima)
    assert 0.9 <= covered / trials <= 0.99


def test_optimum_outside_the_sizes_is_clamped_and_flagged():
    one_side = budget_optimum(1e18, [1e3, 2e3, 4e3], [1e18] * 3, [3.0, 2.8, 2.7], {"a": [1.0, 0.9, 0.85]})
    assert not one_side.inside and one_side.n_opt == pytest.approx(4e3)
    concave = budget_optimum(1e18, [1e3, 2e3, 4e3], [1e18] * 3, [3.0, 3.2, 3.1], {"a": [1.0, 1.1, 1.0]})
    assert not concave.inside and concave.n_opt == pytest.approx(1e3)  # no minimum: the lowest sampled loss
    assert concave.errors["a"] == pytest.approx(1.0)


def test_bad_suites_are_rejected():
    with pytest.raises(ValueError, match=">= 3 distinct sizes per budget"):
        budget_optimum(1e18, [1e3, 1e3, 2e3], [1e18] * 3, [3.0, 2.9, 2.8], {})
    with pytest.raises(ValueError, match="losses finite"):
        budget_optimum(1e18, [1e3, 2e3, 4e3], [1e18] * 3, [3.0, float("nan"), 2.8], {})
    with pytest.raises(ValueError, match="needs >= 3"):
        analyse_optima(compute_optimal(planted_runs()[:8], ("rare", "frequent")), "rare", "frequent")
    with pytest.raises(ValueError, match="strictly increasing"):
        IsoFlopConfig(widths=[16, 8, 32])
    with pytest.raises(ValueError, match="multiple of n_head"):
        IsoFlopConfig(widths=[8, 15, 32])


def test_isoflop_suite_through_the_cli_with_tiny_models(tmp_path, capsys):
    """Three budgets of tiny GPTs trained by the sweep layer: >= 3 sizes each, every run's compute within rounding
    of its budget, one optimum per budget, the relative law over them, and a rerun that trains nothing."""
    import json

    from helm_plugins.cli import main

    sets = ["documents=200", "held_out=20", "budgets=[3e8,6e8,1.2e9]", "widths=[8,12,16]", "batch_size=8",
            "min_steps=3", "tokens_per_parameter=2"]
    args = ["relative-scaling", "--isoflop", "--output", str(tmp_path / "iso"), "--no-progress", "--suite", "s",
            "-o", str(tmp_path / "bo")] + [item for s in sets for item in ("--set", s)]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "relative law rare / frequent over the compute-optimal models" in printed
    result = json.loads((tmp_path / "iso" / "results.json").read_text())
    assert [o["budget"] for o in result["optima"]] == [3e8, 6e8, 1.2e9]
    for optimum in result["optima"]:
        runs = [r for r in result["runs"] if r["budget"] == optimum["budget"]]
        assert len(runs) >= 3 and len({r["width"] for r in runs}) == len(runs)
        assert all(abs(r["flops"] / r["budget"] - 1) < 0.35 for r in runs)  # whole steps, ragged documents
        low, high = min(r["parameters"] for r in runs), max(r["parameters"] for r in runs)
        assert low * (1 - 1e-9) <= optimum["n_opt"] <= high * (1 + 1e-9)  # clamped to the sizes when at an edge
    lines = (tmp_path / "iso" / "compute_optimal.jsonl").read_text().splitlines()
    assert len(lines) == 3 and all({"flops", "rare", "frequent"} <= set(json.loads(line)) for line in lines)
    assert len(list((tmp_path / "bo" / "runs" / "s").iterdir())) == 3
    trained = len(list((tmp_path / "iso" / "sweep" / "runs").iterdir()))
    assert main(args) == 0  # finished runs are reused
    assert len(list((tmp_path / "iso" / "sweep" / "runs").iterdir())) == trained
    assert json.loads((tmp_path / "iso" / "results.json").read_text())["relative"] == result["relative"]


def test_a_window_grows_toward_the_side_of_its_lowest_loss():
    ladder = [6, 8, 12, 16, 24]
    assert next_width([8, 12, 16], [2.0, 2.1, 2.3], ladder) == 6  # lowest at the small end: one size smaller
    assert next_width([8, 12, 16], [2.3, 2.1, 2.0], ladder) == 24  # at the large end: the next larger
    assert next_width([8, 12, 16], [2.3, 2.0, 2.1], ladder) is None  # inside: done
    assert next_width([6, 8, 12], [2.0, 2.1, 2.3], ladder) is None  # the ladder ends
    assert next_width([12, 16, 24], [2.3, 2.1, float("inf")], ladder) is None  # a diverged edge run is not a minimum
