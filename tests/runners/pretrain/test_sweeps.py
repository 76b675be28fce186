import json
import math

import pytest

from helm_plugins.runners.pretrain.fits import PowerLaw, fit_power_law, speedup
from helm_plugins.runners.pretrain.sweeps import (
    Axis,
    SweepExecutor,
    apply_point,
    budget_tokens,
    coordinate_descent,
    non_embedding_parameters,
    point_key,
    run_point,
    run_searches,
    with_budget,
)
from helm_plugins.runners.pretrain.trainer import Trainer


def planted_surface(point):
    """Minimum at lr 0.004, weight decay 0.2, beta2 0.95."""
    return (math.log2(point["optimizer.lr"] / 0.004)) ** 2 + 10 * (point["optimizer.weight_decay"] - 0.2) ** 2 + abs(point["b2"] - 0.95)


def test_coordinate_descent_finds_the_planted_optimum_and_records_its_path():
    axes = [
        Axis(key="optimizer.lr", factor=2),
        Axis(key="optimizer.weight_decay", values=[0.0, 0.1, 0.2, 0.3]),
        Axis(key="b2", values=[0.9, 0.95, 0.99]),
    ]
    calls = []

    def evaluate(points, names):
        calls.append(len(points))
        return [planted_surface(p) for p in points]

    start = {"optimizer.lr": 0.064, "optimizer.weight_decay": 0.0, "b2": 0.99}
    other = {"optimizer.lr": 0.001, "optimizer.weight_decay": 0.3, "b2": 0.9}
    results = run_searches({"a": coordinate_descent(start, axes), "b": coordinate_descent(other, axes)}, evaluate)
    for result in results.values():
        assert result["best"] == {"optimizer.lr": 0.004, "optimizer.weight_decay": 0.2, "b2": 0.95}
        assert result["loss"] == pytest.approx(0.0)
        losses = [step["loss"] for step in result["path"]]
        assert losses == sorted(losses, reverse=True) and len(set(losses)) == len(losses)  # every move improves
    path = results["a"]["path"]
    assert [step["to"] for step in path if step["axis"] == "optimizer.lr"] == [0.032, 0.016, 0.008, 0.004]
    assert max(calls) > 2  # both searches' requests were evaluated together


def test_a_diverged_point_counts_as_infinitely_bad():
    axes = [Axis(key="optimizer.lr", factor=2)]
    results = run_searches(
        {"s": coordinate_descent({"optimizer.lr": 0.01}, axes)},
        lambda points, names: [math.nan if p["optimizer.lr"] > 0.01 else 1 + p["optimizer.lr"] for p in points],
    )
    assert results["s"]["best"]["optimizer.lr"] < 0.01


def test_power_law_fit_recovers_planted_parameters_and_speedup():
    law = PowerLaw(alpha=40.0, exponent=0.35, offset=1.7)
    tokens = [1e5, 2e5, 4e5, 8e5]
    fitted = fit_power_law(tokens, [law(d) for d in tokens])
    assert fitted.alpha == pytest.approx(40.0, rel=1e-3) and fitted.exponent == pytest.approx(0.35, rel=1e-3)
    assert fitted.offset == pytest.approx(1.7, abs=1e-4)
    for d in tokens:  # an optimizer that needs 1.4x less data than AdamW for every loss
        assert speedup(fitted, law(1.4 * d), d) == pytest.approx(1.4, rel=1e-3)
    assert math.isinf(speedup(fitted, 1.6, 1e5))  # below the asymptote: no finite amount of AdamW data
    # the paper's 130M AdamW losses at 1/2/4/8x Chinchilla give its fit and Muon's speedups
    paper = fit_power_law([1, 2, 4, 8], [3.529, 3.408, 3.322, 3.261])
    assert (paper.alpha, paper.exponent, paper.offset) == pytest.approx((0.419, 0.492, 3.110), abs=0.003)
    muon = [speedup(paper, loss, d) for d, loss in zip([1, 2, 4, 8], [3.464, 3.369, 3.295, 3.237])]
    assert [round(s, 2) for s in muon] == [1.41, 1.33, 1.32, 1.42]
    with pytest.raises(ValueError, match="needs >= 3 distinct x"):
        fit_power_law([1, 2], [3.0, 2.5])


def test_budgets_in_chinchilla_multiples_end_the_schedule_at_the_budget(small_config):
    config = small_config()
    parameters = non_embedding_parameters(config.model)
    assert parameters == 12 * 32 * 32 + 13 * 32 + 2 * 32  # one block (weights, biases, norms) and the final norm
    tokens = budget_tokens(config.model, 2.0)
    assert tokens == 40 * parameters
    budgeted = with_budget(config, tokens)
    assert budgeted.max_steps == round(tokens / (8 * 32))
    with pytest.raises(ValueError, match="smaller than one batch"):
        with_budget(config, 100)


def test_bad_hyperparameters_are_rejected_with_the_valid_names(small_config):
    config = small_config()
    with pytest.raises(ValueError, match=r"unknown hyperparameter 'optimizer.lrr': optimizer has no 'lrr'; valid: betas, eps"):
        apply_point(config, {"optimizer.lrr": 0.1})
    with pytest.raises(ValueError, match=r"optimizer.lr: Input should be greater than 0"):
        apply_point(config, {"optimizer.lr": -0.1})
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\)"):
        apply_point(config, {"optimizer.betas": [0.9, 1.5]})
    with pytest.raises(ValueError, match="give either values or factor"):
        Axis(key="optimizer.lr")


def test_points_are_reused_and_an_interrupted_point_resumes(tmp_path, small_config):
    configs = [apply_point(small_config(), {"optimizer.lr": lr}, max_steps=12) for lr in (0.01, 0.02)]
    executor = SweepExecutor(tmp_path, progress=False)
    first = executor.run(configs[:1])
    assert executor.runs_started == 1 and first[0]["status"] == "done"
    # the second point was interrupted after 5 steps: its checkpoint is picked up, not restarted
    Trainer(configs[1], tmp_path / "runs" / point_key(configs[1]), data_cache=executor.data_cache).train(
        stop_at_step=5, progress=False, export=False
    )
    both = executor.run(configs)
    assert executor.runs_started == 2 and both[0] == first[0]
    straight = run_point(configs[1], tmp_path / "straight")
    assert both[1]["final_val_loss"] == straight["final_val_loss"] and both[1]["curve"] == straight["curve"]
    stored = json.loads((tmp_path / "runs" / both[1]["key"] / "result.json").read_text())
    assert stored["status"] == "done" and stored["step"] == 12


def test_a_diverging_run_is_recorded_with_its_step(tmp_path, small_config):
    config = apply_point(small_config(), {"optimizer.name": "lion", "optimizer.lr": 1e30, "optimizer.grad_clip": 0}, max_steps=8)
    record = run_point(config, tmp_path)
    assert record["status"] == "diverged" and 1 < record["step"] <= 8 and record["final_val_loss"] is None
    assert run_point(config, tmp_path) == record  # stored: a rerun does not train it again


def test_parallel_workers_share_the_data_cache_and_match_a_serial_run(tmp_path, small_config):
    configs = [apply_point(small_config(), {"optimizer.lr": lr}, max_steps=6) for lr in (0.01, 0.02, 0.04)]
    with SweepExecutor(tmp_path / "parallel", workers=2, progress=False) as executor:
        parallel = executor.run(configs)
    serial = SweepExecutor(tmp_path / "serial", workers=1, progress=False, share_data=False).run(configs)
    assert [r["final_val_loss"] for r in parallel] == [r["final_val_loss"] for r in serial]
    assert len(list((tmp_path / "parallel" / "data_cache").iterdir())) == 1  # tokenized once for all three
