"""CPU demonstration of the fairness-frontier scaling law on the paper's stress-test data.

Data: x ~ N(0, I_20); the group a thresholds a random projection of x[:2] (so X and A are dependent, which the
theorem does not assume) with P(A = 1) = pi; y ~ Bernoulli(sigmoid(g(x) - zeta a)) with g a random two-layer
MLP (hidden 32). Models: ReLU MLPs [w, w] on (x, a), trained with BCE + lambda * soft DP gap over a grid of
lambda (Adam, batch 256, best validation epoch kept), split 65/15/20. Each width's empirical frontier is the
lower convex hull of its test (gap, BCE) points; the closed form is fitted conservatively on the smaller widths
and extrapolated to the largest, whose own frontier checks it.
"""

import json
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import nn
from tqdm.auto import tqdm

from helm_plugins.statistics.fairness_frontier.frontier import (
    FrontierFit,
    bce,
    empirical_alternatives,
    fit_frontier,
    less_discriminatory_alternative,
    pareto_frontier,
    soft_dp_gap,
)


class FairnessDemoConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    samples: int = Field(10_000, ge=200)
    features: int = Field(20, ge=2)
    pi: float = Field(0.2, gt=0, lt=1, description="P(A = 1)")
    zeta: float = Field(0.5, ge=0, description="how much group membership lowers the label's logit")
    widths: List[int] = Field(default_factory=lambda: [80, 160, 320, 640], min_length=3)
    lambdas: List[float] = Field(
        default_factory=lambda: [-0.5, -0.2, 0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.6, 0.8],
        min_length=3, description="DP-penalty weights: positive ones move toward parity (the paper: 100 in [-3, 5])",
    )
    epochs: int = Field(10, gt=0)
    batch_size: int = Field(256, gt=0)
    lr: float = Field(1e-3, gt=0)
    epsilon: float = Field(0.005, ge=0, description="loss tolerance of the less-discriminatory-alternative check")
    seed: int = 0
    threads: Optional[int] = Field(None, gt=0)


def generate_data(config: FairnessDemoConfig):
    generator = torch.Generator().manual_seed(config.seed)
    x = torch.randn(config.samples, config.features, generator=generator)
    projection = x[:, :2] @ torch.randn(2, generator=generator)
    a = (projection > torch.quantile(projection, 1 - config.pi)).float()
    g = nn.Sequential(nn.Linear(config.features, 32), nn.ReLU(), nn.Linear(32, 1))
    with torch.no_grad():
        for layer in (g[0], g[2]):
            layer.weight.copy_(torch.randn(layer.weight.shape, generator=generator) / layer.weight.shape[1] ** 0.5)
            layer.bias.zero_()
        logits = g(x)[:, 0] * 2 - config.zeta * a
    y = torch.bernoulli(torch.sigmoid(logits), generator=generator)
    order = torch.randperm(config.samples, generator=generator)
    cut1, cut2 = int(0.65 * config.samples), int(0.80 * config.samples)
    inputs = torch.cat([x, a[:, None]], dim=1)
    parts = (order[:cut1], order[cut1:cut2], order[cut2:])
    return [(inputs[p], a[p], y[p]) for p in parts]


def mlp(features: int, width: int) -> nn.Module:
    return nn.Sequential(nn.Linear(features, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(), nn.Linear(width, 1))


def penalised_loss(model, inputs, a, y, lam):
    scores = torch.sigmoid(model(inputs)[:, 0])
    gap = scores[a == 0].mean() - scores[a == 1].mean()
    return nn.functional.binary_cross_entropy(scores, y) + lam * gap


def train_one(config: FairnessDemoConfig, data, width: int, lam: float, seed: int) -> Dict[str, float]:
    (train_x, train_a, train_y), (val_x, val_a, val_y), (test_x, test_a, test_y) = data
    torch.manual_seed(seed)
    model = mlp(train_x.shape[1], width)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    best, best_state = float("inf"), None
    for _ in range(config.epochs):
        model.train()
        for batch in torch.randperm(len(train_x)).split(config.batch_size):
            if train_a[batch].min() == train_a[batch].max():
                continue  # a batch without both groups has no gap
            loss = penalised_loss(model, train_x[batch], train_a[batch], train_y[batch], lam)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            val = float(penalised_loss(model, val_x, val_a, val_y, lam))
        if val < best:
            best, best_state = val, {k: v.clone() for k, v in model.state_dict().items()}
    model.load_state_dict(best_state)
    with torch.no_grad():
        scores = torch.sigmoid(model(test_x)[:, 0]).numpy()
    return {
        "width": width,
        "parameters": sum(p.numel() for p in model.parameters()),
        "lambda": lam,
        "dp_gap": soft_dp_gap(scores, test_a.numpy().astype(int)),
        "bce": bce(scores, test_y.numpy()),
    }


def run_demo(config: FairnessDemoConfig, output_dir: Path, progress: bool = True) -> dict:
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    if config.threads:
        torch.set_num_threads(config.threads)
    data = generate_data(config)
    runs = []
    jobs = [(w, lam) for w in config.widths for lam in config.lambdas]
    for width, lam in tqdm(jobs, desc="models", disable=not progress):
        runs.append(train_one(config, data, width, lam, seed=config.seed))
    (output_dir / "models.jsonl").write_text("".join(json.dumps(r) + "\n" for r in runs))
    return analyse(runs, train_size=len(data[0][0]), output_dir=output_dir, epsilon=config.epsilon)


def extrapolation_error(predicted: np.ndarray, held: np.ndarray) -> dict:
    return {
        "mean_abs": float(np.nanmean(np.abs(predicted - held[:, 1]))),
        "max_abs": float(np.nanmax(np.abs(predicted - held[:, 1]))),
        "points_outside_domain": int(np.sum(~np.isfinite(predicted))),
        "share_of_points_at_or_above_curve": float(np.mean(held[:, 1] >= predicted - 1e-9)),
        "share_of_points_below_curve": float(np.mean(held[:, 1] < predicted - 1e-9)),
    }


def analyse(runs: List[dict], train_size: int, output_dir: Path, epsilon: float = 0.005) -> dict:
    """Frontiers per size, a conservative fit on all but the largest size, its extrapolation to the largest
    against a size-independent baseline (the same closed form with C2 = 0 fitted on the same points), and the
    less-discriminatory-alternative check, at loss tolerance `epsilon`, of the largest size's unconstrained
    model (lambda = 0, or the lambda nearest 0): a model of the sweep, not the lowest-loss one by construction."""
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    sizes = sorted({r["parameters"] for r in runs})
    hulls = {}
    for size in sizes:
        points = np.array([(r["dp_gap"], r["bce"]) for r in runs if r["parameters"] == size])
        hulls[size] = pareto_frontier(points)
        if len(hulls[size]) < 2:
            raise ValueError(f"{size:,}-parameter models: fewer than 2 frontier points; add lambdas toward parity")
    fit_sizes, held_out = sizes[:-1], sizes[-1]
    rows = np.array([(delta, loss, size) for size in fit_sizes for delta, loss in hulls[size]])
    fit = fit_frontier(rows[:, 0], rows[:, 1], rows[:, 2], np.full(len(rows), train_size))
    baseline = fit_frontier(rows[:, 0], rows[:, 1], rows[:, 2], np.full(len(rows), train_size), size_independent=True)
    held = hulls[held_out]
    predicted = fit.loss(held[:, 0], held_out, train_size)  # NaN where a held-out gap is outside the fit's domain
    held_models = [r for r in runs if r["parameters"] == held_out]
    contested = min(held_models, key=lambda r: (abs(r.get("lambda", 0.0)), r["bce"]))
    result = {
        "fit": fit.as_dict(),
        "fit_sizes": fit_sizes,
        "held_out_size": held_out,
        "extrapolation_error": extrapolation_error(predicted, held),
        "baseline_error": extrapolation_error(baseline.loss(held[:, 0], held_out, train_size), held),
        "baseline_fit": baseline.as_dict(),
        "frontiers": {str(size): hull.tolist() for size, hull in hulls.items()},
        "less_discriminatory_alternative": {
            "contested": contested,
            "contested_is_lowest_loss": contested is min(held_models, key=lambda r: r["bce"]),
            **less_discriminatory_alternative(fit, contested["dp_gap"], contested["bce"], held_out, train_size, epsilon),
            "trained_alternatives": len(empirical_alternatives(held_models, contested, epsilon)),
        },
    }
    (output_dir / "results.json").write_text(json.dumps(result, indent=1))
    plot(runs, hulls, fit, held_out, train_size, output_dir / "fairness_frontier.png")
    return result


def plot(runs, hulls, fit: FrontierFit, held_out: int, train_size: int, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7.5, 5))
    colors = plt.cm.viridis(np.linspace(0, 0.9, len(hulls)))
    for color, (size, hull) in zip(colors, sorted(hulls.items())):
        points = np.array([(r["dp_gap"], r["bce"]) for r in runs if r["parameters"] == size])
        label = f"{size:,} params" + (" (held out)" if size == held_out else "")
        axis.scatter(points[:, 0], points[:, 1], s=10, color=color, alpha=0.5)
        axis.plot(hull[:, 0], hull[:, 1], "o-", color=color, markersize=3, label=label)
        grid = np.linspace(hull[:, 0].min(), hull[:, 0].max(), 200)
        axis.plot(grid, fit.loss(grid, size, train_size), ":" if size == held_out else "--", color=color, linewidth=1.5)
    axis.set(xlabel="soft demographic-parity gap (test)", ylabel="BCE (test)",
             title="Loss-fairness frontiers; dashed: conservative fit, dotted: extrapolated")
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
