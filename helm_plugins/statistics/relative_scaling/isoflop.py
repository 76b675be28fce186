"""An IsoFLOP mini-suite for relative scaling laws: several model sizes per compute budget, the compute-optimal
point of each budget, and the relative law fitted on the compute-optimal points.

At a budget C every size N is trained for T = C / (6 N) tokens (a separate run from scratch with its own
schedule), so a small model sees many tokens and a large one few. Per budget, the validation loss of the
training mixture against log N is fitted by a parabola (least squares, as IsoFLOP analyses do); its vertex is
the compute-optimal size N*(C). Each subgroup's held-out error at N*(C) is read from its own parabola in log N
over the same runs. The relative law G = E_t / E_b = gamma C^dbeta is then the least-squares line of
log G on log C over the budgets' optima, with the regression's t interval (laws.relative_law); N*(C) = k C^a
gets the same kind of interval.

The suite trains with the pretraining runner's sweep layer (sweeps.SweepExecutor: one folder per run keyed by
its config, finished runs reused, interrupted ones resumed, tokenized data shared through datacache.py).
A budget whose lowest loss sits at the edge of its sizes is extended by the next size of the ladder on that
side until the minimum is inside (or the ladder ends, which is flagged), so the vertex is interpolated.
"""

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator
from tqdm.auto import tqdm

from helm_plugins.statistics.relative_scaling.laws import fit_power_law, relative_law, slope_interval


@dataclass
class BudgetOptimum:
    """The compute-optimal point of one budget: the vertex of the loss parabola in log N."""

    budget: float  # nominal FLOPs of the budget
    flops: float  # mean 6 N T of its runs
    sizes: List[float]  # parameters of its runs
    n_opt: float
    loss_opt: float
    curvature: float  # the parabola's coefficient of (log N)^2; > 0 for a minimum
    inside: bool  # the vertex lies within the sampled sizes (else it is clamped to the nearest end and flagged)
    errors: Dict[str, float]  # each subgroup's error at n_opt, from its own parabola in log N

    def as_dict(self) -> dict:
        return asdict(self)


def _parabola(log_n: np.ndarray, values: np.ndarray) -> np.ndarray:
    if len(np.unique(log_n)) < 3:
        raise ValueError(f"a parabola in log N needs >= 3 distinct sizes per budget, got {len(np.unique(log_n))}")
    return np.polyfit(log_n, values, 2)


def budget_optimum(budget: float, parameters: Sequence[float], flops: Sequence[float], loss: Sequence[float],
                   errors: Dict[str, Sequence[float]]) -> BudgetOptimum:
    """Fit loss = a (log N)^2 + b log N + c over one budget's runs; N* = exp(-b / 2a) when a > 0 and inside the
    sampled sizes, else the sampled end nearest the vertex (flagged `inside = False`); every subgroup's error is
    its own parabola evaluated at log N*."""
    parameters, loss = np.asarray(parameters, dtype=float), np.asarray(loss, dtype=float)
    values = [loss, *(np.asarray(v, dtype=float) for v in errors.values())]
    if not all(np.all(np.isfinite(v)) for v in values) or not np.all(parameters > 0):
        raise ValueError(f"budget {budget:.3g}: sizes must be positive and losses finite")
    log_n = np.log(parameters)
    a, b, c = _parabola(log_n, loss)
    low, high = log_n.min(), log_n.max()
    if a > 0:
        vertex = -b / (2 * a)
        inside = bool(low <= vertex <= high)
        vertex = float(np.clip(vertex, low, high))
    else:  # no minimum: the sampled size with the lowest loss
        vertex, inside = float(log_n[np.argmin(loss)]), False
    at = {name: float(np.polyval(_parabola(log_n, np.asarray(v, dtype=float)), vertex)) for name, v in errors.items()}
    return BudgetOptimum(float(budget), float(np.mean(flops)), sorted(parameters.tolist()), float(math.exp(vertex)),
                         float(np.polyval((a, b, c), vertex)), float(a), inside, at)


def compute_optimal(runs: Sequence[dict], subgroups: Sequence[str], loss_key: str = "val_loss") -> List[BudgetOptimum]:
    """One optimum per budget of `runs` (dicts with budget, parameters, flops, `loss_key` and each subgroup's
    error), in budget order."""
    budgets = sorted({r["budget"] for r in runs})
    optima = []
    for budget in budgets:
        rows = [r for r in runs if r["budget"] == budget]
        optima.append(budget_optimum(budget, [r["parameters"] for r in rows], [r["flops"] for r in rows],
                                     [r[loss_key] for r in rows], {s: [r[s] for r in rows] for s in subgroups}))
    return optima


def analyse_optima(optima: Sequence[BudgetOptimum], subgroup: str, baseline: str, level: float = 0.95) -> dict:
    """Per-subgroup power laws and the relative law over the compute-optimal points, and N*(C) = k C^a with the
    t interval of a."""
    if len(optima) < 3:
        raise ValueError(f"{len(optima)} budgets: the relative law over compute-optimal points needs >= 3")
    flops = np.array([o.flops for o in optima])
    errors = {name: np.array([o.errors[name] for o in optima]) for name in (subgroup, baseline)}
    relative = relative_law(flops, errors, subgroup, baseline, level)
    slope, intercept, stderr, low, high, _ = slope_interval(np.log(flops), np.log([o.n_opt for o in optima]), level)
    laws = {}
    for name, values in errors.items():  # each subgroup's exponent with its t interval (beta = -slope)
        _, _, _, beta_low, beta_high, _ = slope_interval(np.log(flops), np.log(values), level)
        laws[name] = {**vars(fit_power_law(flops, values, name)), "beta_ci_low": float(-beta_high), "beta_ci_high": float(-beta_low)}
    return {
        "power_laws": laws,
        "relative": relative.as_dict(),
        "n_opt_exponent": {"a": float(slope), "k": float(math.exp(intercept)), "stderr": float(stderr),
                           "ci_low": float(low), "ci_high": float(high)},
        "optima": [o.as_dict() for o in optima],
        "all_inside": all(o.inside for o in optima),
    }


# ----- the suite -----


class IsoFlopConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    documents: int = Field(6000, ge=100)
    rare_share: float = Field(0.05, gt=0, lt=0.5, description="share of the rare dialect in training")
    held_out: int = Field(300, ge=20, description="held-out documents per dialect")
    budgets: List[float] = Field(default_factory=lambda: [2.5e10, 5e10, 1e11, 2e11], min_length=3,
                                 description="compute budgets C (FLOPs, 6 N T)")
    widths: List[int] = Field(default_factory=lambda: [6, 8, 12, 16, 24, 32, 48, 64], min_length=3,
                              description="the size ladder (n_embd, increasing); each budget trains a window of it")
    sizes_per_budget: int = Field(3, ge=3, description="sizes trained first at each budget (more if the minimum is at an edge)")
    tokens_per_parameter: float = Field(60.0, gt=0, description="where the first window is centred: T / N nearest this "
                                        "(about where these tiny GPTs on this corpus are compute-optimal)")
    n_layer: int = Field(2, gt=0)
    n_head: int = Field(2, gt=0)
    context_length: int = Field(128, gt=1)
    batch_size: int = Field(16, gt=0)
    min_steps: int = Field(10, gt=0, description="sizes that would get fewer steps at a budget are not trained there")
    seed: int = 0
    workers: int = Field(1, gt=0, description="training processes (one torch thread each)")

    @model_validator(mode="after")
    def _ladder(self) -> "IsoFlopConfig":
        if sorted(set(self.widths)) != list(self.widths):
            raise ValueError(f"widths must be strictly increasing, got {self.widths}")
        if any(w % self.n_head for w in self.widths):
            raise ValueError(f"every width must be a multiple of n_head={self.n_head}, got {self.widths}")
        if sorted(set(self.budgets)) != list(self.budgets) or min(self.budgets) <= 0:
            raise ValueError(f"budgets must be positive and strictly increasing, got {self.budgets}")
        if self.sizes_per_budget > len(self.widths):
            raise ValueError(f"sizes_per_budget={self.sizes_per_budget} exceeds the {len(self.widths)} widths of the ladder")
        return self


def next_width(widths: Sequence[int], losses: Sequence[float], ladder: Sequence[int]) -> Optional[int]:
    """The ladder's next width beyond the window's edge where the lowest loss sits, or None when the minimum is
    inside the window (or the ladder has no width on that side)."""
    best = int(np.argmin(losses))
    side = -1 if best == 0 else 1 if best == len(widths) - 1 else 0
    if not side or widths[best] not in ladder:
        return None
    index = list(ladder).index(widths[best]) + side
    return ladder[index] if 0 <= index < len(ladder) else None


def _base_overrides(config: IsoFlopConfig, corpus: Path) -> List[str]:
    return [
        f"seed={config.seed}", "data.source=jsonl", f"data.paths=[{corpus}]", "data.packing=document",
        "data.validation_fraction=0.02", f"model.n_layer={config.n_layer}", f"model.n_head={config.n_head}",
        f"model.context_length={config.context_length}", f"batch_size={config.batch_size}", "sample_tokens=0",
        "eval_batches=1000",
    ]


class IsoFlopSuite:
    """Plans, trains (through the sweep executor) and scores the runs of the suite."""

    def __init__(self, config: IsoFlopConfig, output_dir: Path, progress: bool = True):
        import torch

        from helm_plugins.runners.pretrain.config import load_config
        from helm_plugins.runners.pretrain.datacache import cached_tokenize
        from helm_plugins.runners.pretrain.data import IGNORE_INDEX
        from helm_plugins.runners.pretrain.sweeps import SweepExecutor
        from helm_plugins.statistics.relative_scaling.demo import write_corpus

        self.config, self.output_dir, self.progress = config, Path(output_dir), progress
        corpus, self.held_out = write_corpus(config, self.output_dir)
        self.base = load_config("demo", overrides=_base_overrides(config, corpus))
        self.executor = SweepExecutor(self.output_dir / "sweep", workers=config.workers, progress=progress)
        data, _ = cached_tokenize(self.base, self.executor.data_cache)
        self.vocab_size = len(data.tokenizer)
        # document rows: a step trains on batch_size documents' tokens (no padding), on average this many
        targets = (data.train_rows[:, 1:] != IGNORE_INDEX).sum(dim=1).double().mean().item()
        self.tokens_per_step = config.batch_size * targets
        self._parameters: Dict[int, int] = {}
        self._torch = torch

    def parameters(self, width: int) -> int:
        from helm_plugins.runners.pretrain.model import GPT

        if width not in self._parameters:
            model = self.base.model.model_copy(update={"n_embd": width, "vocab_size": self.vocab_size})
            with self._torch.device("meta"):
                self._parameters[width] = GPT(model).num_parameters()
        return self._parameters[width]

    def steps(self, budget: float, width: int) -> int:
        return round(budget / (6 * self.parameters(width) * self.tokens_per_step))

    def point(self, budget: float, width: int):
        steps = self.steps(budget, width)
        return self.base.model_copy(update={
            "run_name": f"isoflop-{budget:.3g}-d{width}",
            "model": self.base.model.model_copy(update={"n_embd": width}),
            "max_steps": steps, "eval_every": steps, "checkpoint_every": steps,
            "schedule": self.base.schedule.model_copy(update={"warmup_steps": max(1, steps // 10)}),
        })

    def first_window(self, budget: float) -> List[int]:
        """`sizes_per_budget` consecutive widths centred on the one whose T / N is nearest tokens_per_parameter,
        among the widths with at least min_steps steps."""
        usable = [w for w in self.config.widths if self.steps(budget, w) >= self.config.min_steps]
        if len(usable) < self.config.sizes_per_budget:
            raise ValueError(f"budget {budget:.3g}: only {len(usable)} widths get >= {self.config.min_steps} steps "
                             f"({usable}); raise the budget or add smaller widths")
        ratio = [abs(math.log(budget / (6 * self.parameters(w) ** 2) / self.config.tokens_per_parameter)) for w in usable]
        centre = int(np.argmin(ratio))
        start = min(max(centre - self.config.sizes_per_budget // 2, 0), len(usable) - self.config.sizes_per_budget)
        return usable[start : start + self.config.sizes_per_budget]

    def train(self, budget_widths: Dict[float, List[int]]) -> Dict[tuple, dict]:
        jobs = [(b, w) for b, widths in budget_widths.items() for w in widths]
        records = self.executor.run([self.point(b, w) for b, w in jobs], description="isoflop runs")
        return {job: record for job, record in zip(jobs, records)}

    def score(self, budget: float, width: int, record: dict) -> dict:
        """The run's row: compute, the mixture's validation loss and each dialect's held-out loss (cached)."""
        from helm_plugins.runners.pretrain.model import GPT
        from helm_plugins.runners.pretrain.sweeps import point_key
        from helm_plugins.runners.pretrain.tokenizer import load_tokenizer
        from helm_plugins.runners.pretrain.trainer import read_checkpoint
        from helm_plugins.statistics.relative_scaling.demo import dialect_losses

        if record["status"] != "done":
            raise ValueError(f"run {record['run_name']} diverged at step {record['step']}; lower the learning rate "
                             "or drop the width")
        point = self.point(budget, width)
        folder = self.executor.root / "runs" / point_key(point)
        cache = folder / "subgroup_losses.json"
        if cache.is_file():
            losses = json.loads(cache.read_text())
        else:
            tokenizer = load_tokenizer(folder / "tokenizer")
            model = GPT(point.model.model_copy(update={"vocab_size": len(tokenizer)}))
            model.load_state_dict(read_checkpoint(folder / "checkpoint.pt")["model"])
            losses = {name: dialect_losses(model, tokenizer, point.model.context_length, texts).tolist()
                      for name, texts in self.held_out.items()}
            cache.write_text(json.dumps(losses))
        row = {"budget": budget, "width": width, "parameters": record["num_parameters"], "steps": record["step"],
               "tokens": record["tokens"], "flops": 6.0 * record["num_parameters"] * record["tokens"],
               "val_loss": record["final_val_loss"], "train_seconds": record["train_seconds"]}
        for name, values in losses.items():
            row[name] = float(np.mean(values))
        return row

    def run(self) -> List[dict]:
        """Train every budget's window, extend windows whose lowest loss is at an edge, return the scored rows."""
        windows = {b: self.first_window(b) for b in self.config.budgets}
        while True:
            records = self.train(windows)
            extended = False
            for budget, widths in windows.items():
                losses = [records[budget, w]["final_val_loss"] if records[budget, w]["status"] == "done" else math.inf
                          for w in widths]
                usable = [w for w in self.config.widths if self.steps(budget, w) >= self.config.min_steps]
                new = next_width(widths, losses, usable)
                if new is not None:
                    widths.insert(0 if new < widths[0] else len(widths), new)
                    extended = True
            if not extended:
                break
        bar = tqdm(total=sum(map(len, windows.values())), desc="held-out losses", disable=not self.progress)
        rows = []
        for budget, widths in windows.items():
            for width in widths:
                rows.append(self.score(budget, width, records[budget, width]))
                bar.update(1)
        bar.close()
        self.executor.close()
        return rows


def run_isoflop(config: IsoFlopConfig, output_dir: Path, progress: bool = True) -> dict:
    """The whole suite: runs.jsonl (every run), compute_optimal.jsonl (one model per budget, a models file of
    `relative-scaling --models`), results.json and isoflop.png."""
    output_dir = Path(output_dir)
    rows = IsoFlopSuite(config, output_dir, progress).run()
    optima = compute_optimal(rows, ("rare", "frequent"))
    result = {"config": config.model_dump(), "runs": rows, **analyse_optima(optima, "rare", "frequent")}
    (output_dir / "runs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (output_dir / "compute_optimal.jsonl").write_text("".join(
        json.dumps({"budget": o.budget, "flops": o.flops, "parameters": o.n_opt, "val_loss": o.loss_opt, **o.errors}) + "\n"
        for o in optima))
    (output_dir / "results.json").write_text(json.dumps(result, indent=1))
    plot(rows, optima, result, output_dir / "isoflop.png")
    return result


def plot(rows: Sequence[dict], optima: Sequence[BudgetOptimum], result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    colors = plt.cm.viridis(np.linspace(0, 0.85, len(optima)))
    for color, optimum in zip(colors, optima):
        budget_rows = [r for r in rows if r["budget"] == optimum.budget]
        n = np.array([r["parameters"] for r in budget_rows], dtype=float)
        loss = np.array([r["val_loss"] for r in budget_rows])
        left.semilogx(n, loss, "o", color=color, label=f"C = {optimum.budget:.2g}")
        grid = np.geomspace(n.min(), n.max(), 50)
        left.semilogx(grid, np.polyval(np.polyfit(np.log(n), loss, 2), np.log(grid)), "-", color=color, linewidth=1)
        left.semilogx([optimum.n_opt], [optimum.loss_opt], "*", color=color, markersize=12,
                      markeredgecolor="black" if optimum.inside else "red")
    left.set(xlabel="parameters N", ylabel="validation loss (training mixture)", title="IsoFLOP curves and optima (*)")
    left.legend(fontsize=8)
    rel = result["relative"]
    flops = np.array([o.flops for o in optima])
    ratio = np.array([o.errors["rare"] / o.errors["frequent"] for o in optima])
    grid = np.geomspace(flops.min(), flops.max(), 50)
    right.semilogx(flops, ratio, "o", color="tab:purple")
    right.semilogx(grid, rel["gamma"] * grid ** rel["delta_beta"], "--", color="tab:purple")
    right.set(xlabel="compute (FLOPs)", ylabel="rare / frequent loss at the optimum",
              title=f"dbeta = {rel['delta_beta']:+.3f} [{rel['ci_low']:+.3f}, {rel['ci_high']:+.3f}], {rel['label']}")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
