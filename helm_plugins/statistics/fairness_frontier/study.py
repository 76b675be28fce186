"""Does the frontier scaling law extrapolate? Model size and data size varied, several seeds, held-out larger models.

Per seed, MLPs of every (width, training-set size D) pair are trained over a lambda grid on the stress-test data
(demo.generate_data, a fresh draw per seed). The pairs with width and D below the largest are the small models;
the largest width at the largest D is held out (N+, D+). Three fits predict its frontier:

- scaling: the seven-constant closed form (C4 free, since D varies), fitted conservatively on every frontier
  point of the small pairs;
- seven: the same fit on seven small models only (the "as few as 7 small models" claim): one frontier model per
  small pair, smallest compute first, alternating between the pair's lowest-loss model and its model nearest parity;
- baseline: the size-independent curve (C2 = 0) on every small frontier point: "the frontier does not move".

Reported over seeds: each fit's mean absolute BCE error on the held-out frontier (paired differences against the
baseline with t intervals), the share of held-out frontier points below each prediction (a mean with a
t interval) and the rate of held-out frontiers that lie below it (more than half of their points; a
Clopper-Pearson interval over the seeds, which are independent replications).
"""

import json
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator
from scipy import stats
from tqdm.auto import tqdm

from helm_plugins.common.intervals import t_interval as t_bounds
from helm_plugins.statistics.fairness_frontier.frontier import FrontierFit, fit_frontier, pareto_frontier

BELOW_TOLERANCE = 1e-9  # a point is below the prediction when its loss is lower by more than this


class FairnessStudyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    samples: int = Field(10_000, ge=200, description="samples drawn per seed (65% train, 15% validation, 20% test)")
    features: int = Field(20, ge=2)
    pi: float = Field(0.2, gt=0, lt=1)
    zeta: float = Field(0.5, ge=0)
    widths: List[int] = Field(default_factory=lambda: [16, 32, 64, 128], min_length=3)
    train_sizes: List[int] = Field(default_factory=lambda: [800, 1600, 3200, 6400], min_length=3,
                                   description="training examples D (the first D of the training split)")
    lambdas: List[float] = Field(default_factory=lambda: [-0.5, 0, 0.1, 0.2, 0.3, 0.45, 0.6, 0.8, 1.2], min_length=4)
    epochs: int = Field(10, gt=0)
    batch_size: int = Field(256, gt=0)
    lr: float = Field(1e-3, gt=0)
    seeds: List[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4, 5], min_length=2)
    few_models: int = Field(7, ge=6, description="models in the few-small-models fit (7: one per constant)")
    starts: int = Field(8, gt=0, description="random starts of each SLSQP fit")
    c4: Optional[float] = Field(None, gt=0, description="the data exponent C4: fitted when None, else fixed "
                                "(the paper's appendix often fixes it at 0.5)")

    @model_validator(mode="after")
    def _grids(self) -> "FairnessStudyConfig":
        for name in ("widths", "train_sizes"):
            values = getattr(self, name)
            if sorted(set(values)) != list(values):
                raise ValueError(f"{name} must be strictly increasing, got {values}")
        if self.train_sizes[-1] > int(0.65 * self.samples):
            raise ValueError(f"the largest training size {self.train_sizes[-1]} exceeds the training split "
                             f"({int(0.65 * self.samples)} of {self.samples} samples)")
        return self


def few_model_points(frontiers: Dict[tuple, np.ndarray], count: int) -> List[tuple]:
    """`count` frontier models spread over the small pairs: pairs in order of compute (width x D), one model each,
    cycling until `count` are chosen; each pair's turn alternates between its lowest-loss model (the frontier's
    unconstrained end) and its model nearest parity, from one chosen model to the next. Returns (pair, delta, loss) triples."""
    order = sorted(frontiers, key=lambda pair: (pair[0] * pair[1], pair))
    used = {pair: set() for pair in order}
    chosen, turn = [], 0
    while len(chosen) < count:
        progressed = False
        for pair in order:
            if len(chosen) == count:
                break
            hull = frontiers[pair]
            ends = [int(np.argmin(hull[:, 1])), int(np.argmin(np.abs(hull[:, 0])))]
            first = (len(chosen) + turn) % 2
            candidates = [i for i in (ends[first], ends[1 - first], *range(len(hull))) if i not in used[pair]]
            if candidates:
                used[pair].add(candidates[0])
                chosen.append((pair, *hull[candidates[0]]))
                progressed = True
        turn += 1
        if not progressed:
            raise ValueError(f"the small models' frontiers hold fewer than {count} points")
    return chosen


def _errors(fit: FrontierFit, held: np.ndarray, n: float, d: float) -> dict:
    predicted = fit.loss(held[:, 0], n, d)
    finite = np.isfinite(predicted)
    below = held[:, 1] < predicted - BELOW_TOLERANCE
    return {"mean_abs": float(np.mean(np.abs(predicted[finite] - held[finite, 1]))) if finite.any() else None,
            "share_below": float(np.mean(below[finite])) if finite.any() else None,
            "outside_domain": int((~finite).sum())}


def analyse_seed(runs: Sequence[dict], few_models: int = 7, starts: int = 12, seed: int = 0,
                 c4: Optional[float] = None) -> dict:
    """One seed's runs (dicts with parameters, train_size, dp_gap, bce): frontiers per (N, D), the three fits
    on the small pairs and their errors on the held-out (N+, D+) frontier."""
    sizes = sorted({r["parameters"] for r in runs})
    datas = sorted({r["train_size"] for r in runs})
    if len(sizes) < 3 or len(datas) < 3:
        raise ValueError(f"{len(sizes)} model sizes and {len(datas)} data sizes: the study needs >= 3 of each "
                         "(the largest of both is held out)")
    frontiers = {}
    for n in sizes:
        for d in datas:
            points = np.array([(r["dp_gap"], r["bce"]) for r in runs if r["parameters"] == n and r["train_size"] == d])
            if len(points):
                frontiers[n, d] = pareto_frontier(points)
    held_pair = (sizes[-1], datas[-1])
    if held_pair not in frontiers:
        raise ValueError(f"no runs of the held-out pair N = {sizes[-1]:,}, D = {datas[-1]:,}")
    small = {pair: hull for pair, hull in frontiers.items() if pair[0] < sizes[-1] and pair[1] < datas[-1]}
    rows = np.array([(delta, loss, n, d) for (n, d), hull in small.items() for delta, loss in hull])
    fits = {
        "scaling": fit_frontier(rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3], fixed_c4=c4, starts=starts, seed=seed),
        "baseline": fit_frontier(rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3], fixed_c4=c4, starts=starts, seed=seed,
                                 size_independent=True),
    }
    few = np.array([(delta, loss, n, d) for (n, d), delta, loss in few_model_points(small, few_models)])
    fits["seven"] = fit_frontier(few[:, 0], few[:, 1], few[:, 2], few[:, 3], fixed_c4=c4, starts=starts, seed=seed)
    held = frontiers[held_pair]
    return {
        "held_out": {"parameters": held_pair[0], "train_size": held_pair[1], "frontier": held.tolist()},
        "small_pairs": [list(pair) for pair in small],
        "few_models": few.tolist(),
        "fits": {name: fit.as_dict() for name, fit in fits.items()},
        "errors": {name: _errors(fit, held, *held_pair) for name, fit in fits.items()},
        "frontiers": {f"{n}:{d}": hull.tolist() for (n, d), hull in frontiers.items()},
    }


def t_interval(values: Sequence[float], level: float = 0.95) -> dict:
    """Mean over seeds with its t interval (None bounds with fewer than two values)."""
    values = [float(v) for v in values if v is not None]
    low, high = t_bounds(values, level) or (None, None)
    return {"mean": float(np.mean(values)) if values else None, "ci_low": low, "ci_high": high, "n": len(values)}


def summarise(seeds: Dict[int, dict], level: float = 0.95) -> dict:
    """Across seeds: each fit's error, paired differences against the baseline, the share of held-out frontier
    points below the scaling prediction, and the rate of held-out frontiers below it (Clopper-Pearson)."""
    results = list(seeds.values())
    summary = {"seeds": len(results)}
    for name in ("scaling", "seven", "baseline"):
        summary[f"{name}_mean_abs"] = t_interval([r["errors"][name]["mean_abs"] for r in results], level)
    for name in ("scaling", "seven"):
        paired = [r["errors"][name]["mean_abs"] - r["errors"]["baseline"]["mean_abs"] for r in results
                  if r["errors"][name]["mean_abs"] is not None and r["errors"]["baseline"]["mean_abs"] is not None]
        summary[f"{name}_minus_baseline"] = t_interval(paired, level)
    for name in ("scaling", "seven", "baseline"):
        shares = [r["errors"][name]["share_below"] for r in results]
        summary[f"{name}_share_below"] = t_interval(shares, level)
        below = sum(1 for s in shares if s is not None and s > 0.5)
        counted = sum(1 for s in shares if s is not None)
        interval = stats.binomtest(below, counted).proportion_ci(level, method="exact") if counted else None
        summary[f"{name}_frontiers_below"] = {"count": below, "of": counted, "rate": below / counted if counted else None,
                                              "ci_low": interval.low if interval else None,
                                              "ci_high": interval.high if interval else None}
    return summary


def run_study(config: FairnessStudyConfig, output_dir: Path, progress: bool = True) -> dict:
    """Train (or reuse, per seed: runs_seed<k>.jsonl) every seed's models, analyse each seed, summarise."""
    from helm_plugins.statistics.fairness_frontier.demo import FairnessDemoConfig, generate_data, train_one

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    per_seed = {}
    for seed in tqdm(config.seeds, desc="seeds", disable=not progress):
        path = output_dir / f"runs_seed{seed}.jsonl"
        if path.is_file():
            runs = [json.loads(line) for line in path.read_text().splitlines()]
        else:
            demo = FairnessDemoConfig(samples=config.samples, features=config.features, pi=config.pi, zeta=config.zeta,
                                      widths=config.widths, lambdas=config.lambdas, epochs=config.epochs,
                                      batch_size=config.batch_size, lr=config.lr, seed=seed)
            train, validation, test = generate_data(demo)
            runs = []
            # the small pairs, then the held-out one (the largest width and data size are trained only together)
            pairs = [(w, d) for w in config.widths[:-1] for d in config.train_sizes[:-1]]
            for width, d in pairs + [(config.widths[-1], config.train_sizes[-1])]:
                subset = tuple(part[:d] for part in train)
                for lam in config.lambdas:
                    runs.append({**train_one(demo, (subset, validation, test), width, lam, seed), "train_size": d})
            path.write_text("".join(json.dumps(r) + "\n" for r in runs))
        per_seed[seed] = analyse_seed(runs, config.few_models, config.starts, seed, config.c4)
    result = {"config": config.model_dump(), "summary": summarise(per_seed), "per_seed": {str(k): v for k, v in per_seed.items()}}
    (output_dir / "study.json").write_text(json.dumps(result, indent=1))
    plot_study(per_seed, output_dir / "fairness_study.png")
    return result


def plot_study(per_seed: Dict[int, dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    seed, first = next(iter(per_seed.items()))
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    held = np.array(first["held_out"]["frontier"])
    n, d = first["held_out"]["parameters"], first["held_out"]["train_size"]
    for key, hull in first["frontiers"].items():
        hull = np.array(hull)
        left.plot(hull[:, 0], hull[:, 1], "-", color="0.7", linewidth=0.8)
    left.plot(held[:, 0], held[:, 1], "o-", color="black", label=f"held out: N = {n:,}, D = {d:,}")
    grid = np.linspace(held[:, 0].min(), held[:, 0].max(), 100)
    for name, style in (("scaling", "--"), ("seven", ":"), ("baseline", "-.")):
        fit = FrontierFit(**first["fits"][name])
        left.plot(grid, fit.loss(grid, n, d), style, label=f"{name} prediction")
    left.set(xlabel="soft demographic-parity gap (test)", ylabel="BCE (test)", title=f"seed {seed}: small frontiers (grey)")
    left.legend(fontsize=8)
    names = ("scaling", "seven", "baseline")
    errors = np.array([[r["errors"][k]["mean_abs"] or np.nan for k in names] for r in per_seed.values()])
    for row in errors:
        right.plot(range(3), row, "o-", color="tab:blue", alpha=0.4)
    right.set(xticks=range(3), xticklabels=names, ylabel="mean |BCE error| on the held-out frontier",
              title="per seed (lines join one seed)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
