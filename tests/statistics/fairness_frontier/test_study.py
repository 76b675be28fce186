import json

import numpy as np
import pytest

from helm_plugins.cli import main
from helm_plugins.statistics.fairness_frontier.frontier import frontier_loss
from helm_plugins.statistics.fairness_frontier.study import analyse_seed, few_model_points, summarise, t_interval

TRUE = (-0.285, 55.0, 0.7, 0.5, 0.16, 0.11, 0.92)  # the paper's Fig. 10 constants (pi = 0.2, zeta = 0.5)
SIZES = (8_080, 28_960, 109_120, 423_040)
DATAS = (800, 1_600, 3_200, 6_400)


def planted_runs(seed=0, noise=0.002, held_shift=0.0, per_pair=6):
    """Models on the planted frontier of each (N, D) pair (loss raised by |noise|: observed models are never below
    the true frontier) plus dominated ones; the held-out pair (largest N and D) is optionally shifted down."""
    rng = np.random.default_rng(seed)
    pairs = [(n, d) for n in SIZES[:-1] for d in DATAS[:-1]] + [(SIZES[-1], DATAS[-1])]
    runs = []
    for n, d in pairs:
        shift = held_shift if (n, d) == (SIZES[-1], DATAS[-1]) else 0.0
        for delta in np.linspace(0.0, 0.45, per_pair):
            loss = frontier_loss(delta, n, d, TRUE) + shift + abs(rng.normal(0, noise))
            runs.append({"parameters": n, "train_size": d, "dp_gap": float(delta), "bce": float(loss)})
        low = frontier_loss(0.45, n, d, TRUE) + shift
        runs.append({"parameters": n, "train_size": d, "dp_gap": 0.6, "bce": float(low + 0.05)})  # more unfair, worse
        runs.append({"parameters": n, "train_size": d, "dp_gap": 0.2, "bce": float(low + 0.3)})  # inside the hull
    return runs


def test_planted_scaling_fit_predicts_the_held_out_frontier_better_than_the_size_independent_baseline():
    result = analyse_seed(planted_runs(), starts=4)
    errors = result["errors"]
    assert result["held_out"]["parameters"] == SIZES[-1] and result["held_out"]["train_size"] == DATAS[-1]
    assert len(result["small_pairs"]) == 9 and len(result["few_models"]) == 7
    assert errors["scaling"]["mean_abs"] < 0.01
    assert errors["baseline"]["mean_abs"] > 3 * errors["scaling"]["mean_abs"]  # the planted frontiers move with N, D
    assert errors["seven"]["mean_abs"] < errors["baseline"]["mean_abs"]
    # conservative fits on points at or above the true frontier: the held-out frontier is not below the prediction
    assert errors["scaling"]["share_below"] <= 0.5
    assert result["fits"]["scaling"]["max_violation"] <= 1e-6


def test_rate_of_held_out_frontiers_below_the_prediction_has_an_exact_interval():
    """Held-out frontiers planted 0.03 below the law: every seed's frontier lies below the prediction, so the rate
    is 1 with the Clopper-Pearson interval [0.025^(1/k), 1]; unshifted, none does."""
    seeds = {s: analyse_seed(planted_runs(seed=s, held_shift=-0.03), starts=3, seed=s) for s in range(2)}
    below = summarise(seeds)["scaling_frontiers_below"]
    assert (below["count"], below["of"], below["rate"]) == (2, 2, 1.0)
    assert below["ci_low"] == pytest.approx(0.025 ** (1 / 2), abs=1e-6) and below["ci_high"] == 1.0
    above = summarise({s: analyse_seed(planted_runs(seed=s), starts=3, seed=s) for s in range(2)})
    assert above["scaling_frontiers_below"]["count"] == 0
    assert above["scaling_frontiers_below"]["ci_high"] == pytest.approx(1 - 0.025 ** (1 / 2), abs=1e-6)
    assert above["scaling_minus_baseline"]["mean"] < 0  # the scaling law beats the baseline, paired by seed


def test_seven_models_span_the_small_pairs_and_both_frontier_ends():
    hulls = {(n, d): np.array([[0.0, 0.7], [0.1, 0.65], [0.3, 0.6]]) for n in SIZES[:3] for d in DATAS[:3]}
    chosen = few_model_points(hulls, 7)
    pairs = [pair for pair, _, _ in chosen]
    assert len(chosen) == 7 and len(set(pairs)) == 7  # one model per pair, the cheapest pairs first
    assert pairs[0] == (SIZES[0], DATAS[0])
    assert {delta for _, delta, _ in chosen} == {0.0, 0.3}  # lowest-loss end and the end nearest parity
    with pytest.raises(ValueError, match="fewer than 7 points"):
        few_model_points({(1, 1): np.array([[0.0, 0.7], [0.1, 0.6]])}, 7)


def test_t_interval_and_bad_studies():
    summary = t_interval([1.0, 2.0, 3.0])
    assert summary["mean"] == 2.0 and summary["ci_low"] == pytest.approx(2 - 4.302653 / np.sqrt(3), abs=1e-5)
    with pytest.raises(ValueError, match="needs >= 3 of each"):
        analyse_seed([r for r in planted_runs() if r["train_size"] in (DATAS[0], DATAS[-1])])


def test_study_through_the_cli_with_tiny_models(tmp_path, capsys):
    sets = ["samples=900", "widths=[4,8,12]", "train_sizes=[150,300,580]", "lambdas=[-0.5,0,0.3,0.8,1.5]",
            "epochs=3", "batch_size=64", "seeds=[0,1]", "starts=1"]
    args = ["fairness-frontier", "--study", "--output", str(tmp_path / "study"), "--no-progress"]
    assert main(args + [item for s in sets for item in ("--set", s)]) == 0
    printed = capsys.readouterr().out
    assert "held-out frontiers below the prediction" in printed and "size-independent baseline" in printed
    result = json.loads((tmp_path / "study" / "study.json").read_text())
    assert result["summary"]["seeds"] == 2 and (tmp_path / "study" / "fairness_study.png").is_file()
    runs = [json.loads(line) for line in (tmp_path / "study" / "runs_seed0.jsonl").read_text().splitlines()]
    assert len(runs) == (2 * 2 + 1) * 5 and {r["train_size"] for r in runs} == {150, 300, 580}
    assert main(args + [item for s in sets + ["c4=0.5"] for item in ("--set", s)]) == 0  # the seeds' runs are reused
    fixed = json.loads((tmp_path / "study" / "study.json").read_text())["per_seed"]["0"]["fits"]
    assert {fit["C4"] for fit in fixed.values()} == {0.5} and "C4 fixed at 0.5" in capsys.readouterr().out
    assert main(args + ["--set", "train_sizes=[300,150,580]"]) == 2
    assert "strictly increasing" in capsys.readouterr().err
