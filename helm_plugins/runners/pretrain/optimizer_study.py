"""Pretraining optimizers tuned fairly (Wen, Hall, Ma, Liang 2025, arXiv 2509.02046), at CPU scale.

For every model size x token budget (multiples of Chinchilla's 20 tokens per non-embedding parameter) each
optimizer is tuned by coordinate descent on the final validation loss: phase I over all `phase1_axes` at the first
(size, budget) cell, phase II over the scale-sensitive `phase2_axes` at every other cell, starting from phase I's
point. The tuned points are rerun with more seeds, next to an untuned AdamW control (a GPT-3-style recipe).
Per size, AdamW's final losses give L(D) = alpha * D^-B + beta; an optimizer reaching loss L with D tokens has
D_eff = ((L - beta) / alpha)^(-1/B) and speedup D_eff / D. Intervals: percentile bootstrap over seeds (each
replicate resamples the seeds of every cell and refits AdamW's law). Rankings at 50% and 100% of the budget are
compared with Kendall's tau.

Outputs in the study folder: study.json, loss_curves.png, speedup.png, and the sweep's run folders; one HELM run
per optimizer x size x budget when a suite is given.
"""

import json
import math
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from helm_plugins.common import configs
from helm_plugins.common.results import RunInstance, RunRecord, make_stat, write_run_directory
from helm_plugins.runners.pretrain.config import PRESETS_DIR, PretrainConfig
from helm_plugins.runners.pretrain.fits import PowerLaw, fit_power_law, percentile_interval, speedup
from helm_plugins.runners.pretrain.optimizers import OPTIMIZERS
from helm_plugins.runners.pretrain.sweeps import (
    Axis,
    SweepExecutor,
    apply_point,
    budget_tokens,
    coordinate_descent,
    final_loss,
    non_embedding_parameters,
    run_searches,
    with_budget,
)

STUDY_PRESETS_DIR = PRESETS_DIR / "optimizers"
GROUP = "hp_pretraining_optimizers"
CONTROL = "adamw-untuned"
REFERENCE = "adamw"
WARMUP_FRACTION = "warmup_fraction"  # a study knob: warm-up steps as a share of the run's steps


class ModelSize(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", description="names the size in runs and tables")
    n_layer: int = Field(gt=0)
    n_head: int = Field(gt=0)
    n_embd: int = Field(gt=0)


class OptimizerStudyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field("optimizers", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", description="prefix of run names")
    base: Dict[str, Any] = Field(default_factory=dict, description="PretrainConfig fields shared by every run")
    sizes: List[ModelSize] = Field(min_length=1, description="model sizes (the width and depth of each)")
    chinchilla_multiples: List[float] = Field(min_length=1, description="token budgets as multiples of Chinchilla")
    tokens_per_parameter: float = Field(20.0, gt=0, description="Chinchilla's tokens per non-embedding parameter")
    optimizers: Dict[str, Dict[str, Any]] = Field(description="optimizer -> start point (dotted config keys)")
    axes: List[Axis] = Field(default_factory=list, description="grids of the tuned hyperparameters")
    phase1_axes: List[str] = Field(default_factory=list, description="axes tuned at the first (size, budget)")
    phase2_axes: List[str] = Field(default_factory=list, description="axes re-tuned at every other cell")
    seeds: List[int] = Field([0, 1], min_length=1, description="the first tunes; all run at the tuned points")
    control: Dict[str, Any] = Field(default_factory=dict, description="the untuned AdamW recipe (no tuning)")
    workers: int = Field(2, gt=0, description="parallel training processes")
    threads_per_worker: int = Field(1, gt=0, description="torch threads of each process")
    bootstrap_replicates: int = Field(200, gt=0, description="seed-bootstrap replicates of the intervals")

    @model_validator(mode="after")
    def _known_names(self) -> "OptimizerStudyConfig":
        unknown = [name for name in self.optimizers if name not in OPTIMIZERS]
        if unknown:
            raise ValueError(f"unknown optimizers {unknown}; registered: {', '.join(OPTIMIZERS.names())}")
        if REFERENCE not in self.optimizers:
            raise ValueError(f"the study needs {REFERENCE!r} among its optimizers (speedups are relative to it)")
        axis_keys = [axis.key for axis in self.axes]
        for listed in (self.phase1_axes, self.phase2_axes):
            missing = [key for key in listed if key not in axis_keys]
            if missing:
                raise ValueError(f"phase axes {missing} have no grid in `axes` (grids: {', '.join(axis_keys) or 'none'})")
        if len(set(self.chinchilla_multiples)) < 3:
            raise ValueError("chinchilla_multiples needs >= 3 distinct budgets to fit AdamW's L(D) (3 parameters)")
        if len({size.name for size in self.sizes}) < len(self.sizes):
            raise ValueError("model size names must differ")
        return self


def study_preset_names() -> List[str]:
    return configs.preset_names(STUDY_PRESETS_DIR)


def load_study_config(preset: Optional[str], config_file: Optional[Path] = None, overrides=()) -> OptimizerStudyConfig:
    return configs.load_yaml_config(OptimizerStudyConfig, STUDY_PRESETS_DIR, preset, config_file, overrides)


Cell = Tuple[str, float]  # (size name, Chinchilla multiple)


class OptimizerStudy:
    def __init__(self, config: OptimizerStudyConfig, output_dir: Path, progress: bool = True, executor: Optional[SweepExecutor] = None):
        """`executor` runs the points (default: a SweepExecutor over `output_dir` with the config's workers)."""
        self.config = config
        self.output_dir = Path(output_dir)
        self.base = configs.with_overrides(PretrainConfig(), {k: v for k, v in config.base.items()})
        self.sizes = {size.name: size for size in config.sizes}
        self.cells: List[Cell] = [(s.name, m) for s in config.sizes for m in sorted(config.chinchilla_multiples)]
        self.executor = executor or SweepExecutor(self.output_dir, config.workers, config.threads_per_worker, progress=progress)
        self._check_points()

    # ----- points -> configs -----

    def cell_config(self, cell: Cell, seed: int, knobs: Optional[Dict[str, Any]] = None) -> PretrainConfig:
        """The base config at this size and seed with `knobs` set, trained for the cell's token budget."""
        size = self.sizes[cell[0]]
        model = {"model.n_layer": size.n_layer, "model.n_head": size.n_head, "model.n_embd": size.n_embd}
        config = apply_point(self.base, {**model, **(knobs or {})}, seed=seed)
        tokens = budget_tokens(config.model, cell[1], self.config.tokens_per_parameter)
        try:
            return with_budget(config, tokens)  # after the knobs: batch_size may be one of them
        except ValueError as error:
            raise ValueError(f"size {cell[0]} at {cell[1]}x Chinchilla: {error}") from None

    def run_config(self, optimizer: str, knobs: Dict[str, Any], cell: Cell, seed: int) -> PretrainConfig:
        knobs = dict(knobs)
        fraction = knobs.pop(WARMUP_FRACTION, None)
        knobs["optimizer.name"] = REFERENCE if optimizer == CONTROL else optimizer
        config = self.cell_config(cell, seed, knobs)
        fixed: Dict[str, Any] = {"run_name": f"{self.config.name}-{optimizer}-{cell[0]}-{cell[1]:g}x-s{seed}", "threads": None, "sample_tokens": 0}
        if fraction is not None:
            if not 0 <= fraction < 1:
                raise ValueError(f"{optimizer}: {WARMUP_FRACTION} {fraction} must lie in [0, 1)")
            fixed["schedule.warmup_steps"] = round(fraction * config.max_steps)
        return apply_point(config, {}, **fixed)

    def _check_points(self) -> None:
        """Every start point and grid value builds a valid config and optimizer (errors name the optimizer)."""
        import torch

        from helm_plugins.runners.pretrain.model import GPT

        cell = self.cells[0]
        starts = {**self.config.optimizers, CONTROL: self.config.control}
        for optimizer, start in starts.items():
            config = self.run_config(optimizer, start, cell, self.config.seeds[0])
            with torch.device("meta"):
                OPTIMIZERS.get(config.optimizer.name)(GPT(config.model), config.optimizer)
            for axis in self.config.axes:
                if optimizer == CONTROL or axis.key not in start:
                    continue
                for value in axis.values or [start[axis.key]]:
                    try:
                        self.run_config(optimizer, {**start, axis.key: value}, cell, 0)
                    except ValueError as error:
                        raise ValueError(f"axis {axis.key} value {value!r} for {optimizer}: {error}") from None

    # ----- running -----

    def _evaluate(self, requests: List[Tuple[str, Cell, Dict[str, Any]]], description: str) -> List[Dict[str, Any]]:
        seed = self.config.seeds[0]
        return self.executor.run([self.run_config(o, k, c, seed) for o, c, k in requests], description)

    def _tune(self, starts: Dict[Tuple[str, Cell], Dict[str, Any]], axis_keys: List[str], description: str):
        axes = [axis for axis in self.config.axes if axis.key in axis_keys]
        searches = {}
        for (optimizer, cell), start in starts.items():
            tuned_axes = [axis for axis in axes if axis.key in start]
            searches[json.dumps([optimizer, cell])] = coordinate_descent(start, tuned_axes)

        def evaluate(points, names):
            requests = [(json.loads(n)[0], tuple(json.loads(n)[1]), p) for p, n in zip(points, names)]
            return [final_loss(r) for r in self._evaluate(requests, description)]

        results = run_searches(searches, evaluate)
        return {tuple((key[0], tuple(key[1]))): value for key, value in ((json.loads(k), v) for k, v in results.items())}

    def run(self) -> Dict[str, Any]:
        try:
            return self._run()
        finally:
            self.executor.close()

    def _run(self) -> Dict[str, Any]:
        optimizers = self.config.optimizers
        first = self.cells[0]
        phase1 = self._tune({(o, first): dict(s) for o, s in optimizers.items()}, self.config.phase1_axes, "tuning, phase I")
        phase2 = self._tune(
            {(o, c): dict(phase1[(o, first)]["best"]) for o in optimizers for c in self.cells[1:]},
            self.config.phase2_axes,
            "tuning, phase II",
        )
        tuned = {**phase1, **phase2}
        final_points = {(o, c): tuned[(o, c)]["best"] for o in optimizers for c in self.cells}
        final_points.update({(CONTROL, c): dict(self.config.control) for c in self.cells})
        keys = [(o, c, s) for (o, c) in final_points for s in self.config.seeds]
        records = self.executor.run([self.run_config(o, final_points[(o, c)], c, s) for o, c, s in keys], "seeds")
        runs = {key: record for key, record in zip(keys, records)}
        return self.analyse(tuned, final_points, runs)

    # ----- analysis -----

    def analyse(self, tuned, final_points, runs) -> Dict[str, Any]:
        config = self.config
        names = list(config.optimizers) + [CONTROL]
        tokens = {c: self.cell_config(c, config.seeds[0]).tokens_per_step * self.cell_config(c, config.seeds[0]).max_steps for c in self.cells}
        finals: Dict[Tuple[str, Cell], List[float]] = {}
        mids: Dict[Tuple[str, Cell], List[float]] = {}
        failures = []
        for (optimizer, cell, seed), record in runs.items():
            if record["status"] != "done":
                failures.append({"optimizer": optimizer, "size": cell[0], "multiple": cell[1], "seed": seed, "status": record["status"], "step": record["step"]})
                continue
            finals.setdefault((optimizer, cell), []).append(record["final_val_loss"])
            mids.setdefault((optimizer, cell), []).append(mid_run_loss(record))

        rng = np.random.default_rng(0)
        table = []
        laws = {}
        for size in config.sizes:
            cells = [c for c in self.cells if c[0] == size.name]
            point_laws = {ref: _fit(finals, ref, cells, tokens) for ref in (REFERENCE, CONTROL)}
            replicates: Dict[Tuple[str, str, Cell], List[float]] = {}
            law_replicates: Dict[str, List[PowerLaw]] = {REFERENCE: [], CONTROL: []}
            for _ in range(config.bootstrap_replicates):
                resampled = {key: float(np.mean(rng.choice(v, size=len(v)))) for key, v in finals.items() if key[1][0] == size.name}
                for ref in (REFERENCE, CONTROL):
                    try:
                        law = fit_power_law([tokens[c] for c in cells], [resampled[(ref, c)] for c in cells], point_laws[ref])
                    except (ValueError, KeyError):
                        law = None
                    if law is not None:
                        law_replicates[ref].append(law)
                    for optimizer in names:
                        for cell in cells:
                            value = resampled.get((optimizer, cell))
                            estimate = speedup(law, value, tokens[cell]) if law is not None and value is not None else math.nan
                            replicates.setdefault((ref, optimizer, cell), []).append(estimate)
            laws[size.name] = {
                ref: _law_summary(point_laws[ref], law_replicates[ref]) for ref in (REFERENCE, CONTROL)
            }
            laws[size.name]["non_embedding_parameters"] = non_embedding_parameters(self.cell_config(cells[0], 0).model)
            for optimizer in names:
                for cell in cells:
                    losses = finals.get((optimizer, cell), [])
                    row = {
                        "optimizer": optimizer,
                        "size": cell[0],
                        "multiple": cell[1],
                        "tokens": tokens[cell],
                        "non_embedding_parameters": laws[size.name]["non_embedding_parameters"],
                        "seeds": len(losses),
                        "final_val_loss": float(np.mean(losses)) if losses else None,
                        "final_val_loss_seeds": losses,
                        "mid_run_val_loss": float(np.mean(mids[(optimizer, cell)])) if losses else None,
                        "knobs": final_points[(optimizer, cell)],
                        "tuning_runs": tuned[(optimizer, cell)]["evaluated"] if (optimizer, cell) in tuned else 0,
                        "tuning_path": tuned[(optimizer, cell)]["path"] if (optimizer, cell) in tuned else [],
                    }
                    for ref, label in ((REFERENCE, "speedup"), (CONTROL, "speedup_vs_untuned")):
                        law = point_laws[ref]
                        estimate = speedup(law, row["final_val_loss"], tokens[cell]) if law and losses else math.nan
                        row[label] = percentile_interval(estimate, replicates[(ref, optimizer, cell)]).as_dict()
                    table.append(row)
        rankings = ranking_flips(finals, mids, list(config.optimizers), self.cells)
        return {
            "config": config.model_dump(mode="json"),
            "laws": laws,
            "table": table,
            "rankings": rankings,
            "failures": failures,
            "runs_trained": self.executor.runs_started,
        }


def mid_run_loss(record: Dict[str, Any]) -> float:
    """Validation loss at the evaluation closest to half the run's steps."""
    half = record["step"] / 2
    return min(record["curve"], key=lambda e: abs(e["step"] - half))["val_loss"]


def _fit(finals, reference: str, cells: List[Cell], tokens) -> Optional[PowerLaw]:
    try:
        return fit_power_law([tokens[c] for c in cells], [float(np.mean(finals[(reference, c)])) for c in cells])
    except (KeyError, ValueError):
        return None


def _law_summary(law: Optional[PowerLaw], replicates: List[PowerLaw]) -> Dict[str, Any]:
    if law is None:
        return {"fit": None}
    summary: Dict[str, Any] = {"fit": law.as_dict()}
    for field in ("alpha", "exponent", "offset"):
        summary[f"{field}_interval"] = percentile_interval(getattr(law, field), [getattr(r, field) for r in replicates]).as_dict()
    return summary


def ranking_flips(finals, mids, optimizers: List[str], cells: List[Cell]) -> Dict[str, Any]:
    """Kendall's tau between the optimizers' order at 50% and at 100% of each budget (seed means)."""
    from scipy.stats import kendalltau

    per_cell = []
    for cell in cells:
        present = [o for o in optimizers if (o, cell) in finals]
        if len(present) < 2:
            continue
        final = [float(np.mean(finals[(o, cell)])) for o in present]
        mid = [float(np.mean(mids[(o, cell)])) for o in present]
        tau = kendalltau(mid, final).statistic
        per_cell.append(
            {
                "size": cell[0],
                "multiple": cell[1],
                "kendall_tau": None if math.isnan(tau) else float(tau),
                "mid_order": [o for _, o in sorted(zip(mid, present))],
                "final_order": [o for _, o in sorted(zip(final, present))],
            }
        )
    taus = [c["kendall_tau"] for c in per_cell if c["kendall_tau"] is not None]
    return {
        "per_cell": per_cell,
        "mean_tau": float(np.mean(taus)) if taus else None,
        "min_tau": float(np.min(taus)) if taus else None,
        "cells_with_flips": sum(c["mid_order"] != c["final_order"] for c in per_cell),
    }


# ----- outputs -----


def write_outputs(study: OptimizerStudy, summary: Dict[str, Any], suite_dir: Optional[Path]) -> List[Path]:
    output_dir = study.output_dir
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "study.json").write_text(json.dumps(summary, indent=1))
    plot_loss_curves(study, output_dir / "loss_curves.png")
    plot_speedups(summary, output_dir / "speedup.png")
    if suite_dir is None:
        return []
    return [write_helm_run(study.config.name, row, summary, suite_dir, output_dir) for row in summary["table"]]


def run_name(study_name: str, row: Dict[str, Any]) -> str:
    return (
        f"hp_optimizers:optimizer={row['optimizer']},size={row['size']},budget={row['multiple']:g}x,"
        f"model=helm-plugins/{study_name}-{row['optimizer']}-{row['size']}-{row['multiple']:g}x"
    )


def write_helm_run(study_name: str, row: Dict[str, Any], summary: Dict[str, Any], suite_dir: Path, output_dir: Path) -> Path:
    stats = [make_stat("train_tokens", row["tokens"], split="train"), make_stat("non_embedding_parameters", row["non_embedding_parameters"], split="train")]
    # every run carries every stat of its table; one without a value (a diverged run, an interval beyond the
    # reference's fit) carries it with no value, so the leaderboard shows an empty cell
    losses = row["final_val_loss_seeds"]
    stats += [make_stat("val_loss", losses, split="valid"),
              make_stat("mid_run_val_loss", [row["mid_run_val_loss"]] if losses else [], split="valid")]
    for label, prefix in (("speedup", "speedup_vs_adamw"), ("speedup_vs_untuned", "speedup_vs_untuned_adamw")):
        interval = row[label]
        for suffix, key in (("", "estimate"), ("_ci_low", "low"), ("_ci_high", "high")):
            known = interval[key] is not None and math.isfinite(interval[key])
            stats.append(make_stat(prefix + suffix, interval[key] if known else [], split="valid"))
    stats.append(make_stat("tuning_runs", row["tuning_runs"], split="train"))
    instances = [
        RunInstance(
            id=f"seed{i}",
            input=f"{row['optimizer']} at {row['size']}, {row['multiple']:g}x Chinchilla ({row['tokens']:,} tokens), knobs {json.dumps(row['knobs'], sort_keys=True)}",
            output=f"final validation loss {loss:.4f}",
            stats={"val_loss": loss},
            split="valid",
        )
        for i, loss in enumerate(row["final_val_loss_seeds"])
    ]
    model = f"helm-plugins/{study_name}-{row['optimizer']}-{row['size']}-{row['multiple']:g}x"
    return write_run_directory(
        suite_dir,
        RunRecord(
            name=run_name(study_name, row),
            scenario_name="hp_optimizers",
            scenario_description=(
                f"{row['optimizer']} tuned by coordinate descent at size {row['size']} ({row['non_embedding_parameters']:,} "
                f"non-embedding parameters), {row['multiple']:g}x Chinchilla; speedup = AdamW-equivalent data / data "
                f"(helm-plugins optimizers, study folder {output_dir})."
            ),
            scenario_class="helm_plugins.runners.pretrain.optimizer_study.OptimizerStudy",
            scenario_args={"optimizer": row["optimizer"], "size": row["size"], "multiple": row["multiple"]},
            model=model,
            method="pretraining",
            groups=[GROUP],
            stats=stats,
            instances=instances,
        ),
    )


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_loss_curves(study: OptimizerStudy, path: Path) -> None:
    """Validation loss against tokens of the tuned runs (first seed) at each size's largest budget."""
    plt = _pyplot()
    sizes = study.config.sizes
    multiple = max(study.config.chinchilla_multiples)
    figure, axes = plt.subplots(1, len(sizes), figsize=(5 * len(sizes), 4), squeeze=False)
    summary = json.loads((study.output_dir / "study.json").read_text())
    for axis, size in zip(axes[0], sizes):
        cell = (size.name, multiple)
        axis.axvline(0.5 * study.cell_config(cell, 0).max_steps * study.base.tokens_per_step, color="grey", lw=0.5)
        for row in summary["table"]:
            if row["size"] != size.name or row["multiple"] != multiple or not row["final_val_loss_seeds"]:
                continue
            config = study.run_config(row["optimizer"], row["knobs"], cell, study.config.seeds[0])
            record = study.executor.run([config], "curves")[0]
            curve = record["curve"]
            style = "--" if row["optimizer"] == CONTROL else "-"
            axis.plot([e["tokens"] for e in curve], [e["val_loss"] for e in curve], style, marker=".", label=row["optimizer"])
        axis.set_xlabel("training tokens")
        axis.set_ylabel("validation loss (nats/token)")
        axis.set_title(f"{size.name}, {multiple:g}x Chinchilla (tuned, seed {study.config.seeds[0]})")
        axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def plot_speedups(summary: Dict[str, Any], path: Path) -> None:
    """Speedup over tuned AdamW against the budget (one panel per size) and against model size."""
    plt = _pyplot()
    rows = summary["table"]
    sizes = list(dict.fromkeys(r["size"] for r in rows))
    optimizers = list(dict.fromkeys(r["optimizer"] for r in rows))
    figure, axes = plt.subplots(1, len(sizes) + 1, figsize=(4.5 * (len(sizes) + 1), 4), squeeze=False)
    for axis, size in zip(axes[0], sizes):
        for optimizer in optimizers:
            points = [r for r in rows if r["size"] == size and r["optimizer"] == optimizer and r["speedup"]["estimate"] is not None]
            _errorbar(axis, [r["multiple"] for r in points], [r["speedup"] for r in points], optimizer)
        axis.set_xscale("log", base=2)
        axis.set_xlabel("budget (x Chinchilla)")
        axis.set_title(f"size {size}")
    axis = axes[0][-1]
    largest = max(r["multiple"] for r in rows)
    for optimizer in optimizers:
        points = [r for r in rows if r["multiple"] == largest and r["optimizer"] == optimizer and r["speedup"]["estimate"] is not None]
        _errorbar(axis, [r["non_embedding_parameters"] for r in points], [r["speedup"] for r in points], optimizer)
    axis.set_xscale("log")
    axis.set_xlabel("non-embedding parameters")
    axis.set_title(f"{largest:g}x Chinchilla")
    for axis in axes[0]:
        axis.axhline(1.0, color="grey", lw=0.5)
        axis.set_ylabel("speedup over tuned AdamW (D_eff / D)")
    axes[0][0].legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def _errorbar(axis, x, intervals, label) -> None:
    if not x:
        return
    y = [i["estimate"] for i in intervals]
    low = [i["estimate"] - i["low"] if i["low"] is not None else 0 for i in intervals]
    high = [i["high"] - i["estimate"] if i["high"] is not None else 0 for i in intervals]
    axis.errorbar(x, y, yerr=[low, high], marker="o", capsize=3, label=label, ls="--" if label == CONTROL else "-")
