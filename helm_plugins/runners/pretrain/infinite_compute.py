"""Pre-training under infinite compute (Kim, Kotha, Liang, Hashimoto 2025, arXiv 2509.14786), at CPU scale.

Data is fixed at D tokens (a seeded synthetic corpus, `train_tokens`), and every run repeats it for a number of
epochs, each in a fresh seeded order. Two recipes per model size:
  standard     weight decay 0.1 and the epoch count that is best for the smallest model (searched at wd 0.1)
  regularized  epochs, learning rate and weight decay tuned jointly by coordinate descent at every size, to a
               point no grid neighbour improves
Per recipe, L(N) = A/N^alpha + E is fitted to the seeds' losses over the sizes (N = non-embedding parameters), with a
profile-likelihood interval on E whose coverage is checked by simulation at the study's own design.
Ensembles: the regularized seeds at each size are ensemble members (logits averaged); L(K) = A/K^beta + E_K per size
(L(K) is the mean over all K-subsets of the members); the joint limit fits E_K over the sizes. The paper's member
recipe "2x epochs, 1/2 weight decay" is run at `ensemble_size`.
Data efficiency: the standard recipe's L(D) (at its best size, over `data_multiples` of D); a loss L is worth
D' = ((L - E_D)/A_D)^(-1/alpha_D) tokens of the standard recipe, reported as D'/D.
Distillation: text sampled at T=1 from the ensemble teacher at `ensemble_size` trains one student of a member's size on
real + synthetic rows; retained gain = (L_single - L_student)/(L_single - L_ensemble). Self-distillation samples from
one member, with and without the real rows.
Intervals of everything but E's profile interval: percentile bootstrap over seeds (members resampled at each size,
validation rows resampled for the distillation figures).

Outputs in the study folder: study.json, report.md, infinite_compute.png, the sweep's run folders, distill/;
with a suite, HELM runs in three groups (asymptotes and data efficiency; per-size runs; distillation).
"""

import itertools
import json
import math
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field, model_validator

from helm_plugins.common import configs
from helm_plugins.common.results import RunInstance, RunRecord, make_stat, write_run_directory
from helm_plugins.runners.pretrain.config import PRESETS_DIR, PretrainConfig
from helm_plugins.runners.pretrain.fits import (
    Interval,
    PowerLaw,
    fit_asymptote,
    fit_power_law,
    percentile_interval,
    planted_coverage,
)
from helm_plugins.runners.pretrain.optimizer_study import ModelSize
from helm_plugins.runners.pretrain.sweeps import (
    Axis,
    SweepExecutor,
    apply_point,
    coordinate_descent,
    final_loss,
    non_embedding_parameters,
    point_key,
    run_searches,
)

STUDY_PRESETS_DIR = PRESETS_DIR / "infinite_compute"
GROUP = "hp_infinite_compute_asymptotes"
RUNS_GROUP = "hp_infinite_compute_runs"
DISTILL_GROUP = "hp_infinite_compute_distillation"
EPOCHS = "epochs"  # a study knob: passes over the D training tokens (sets max_steps)
WARMUP_FRACTION = "warmup_fraction"  # a study knob: warm-up steps as a share of the run's steps
STANDARD, REGULARIZED, VARIANT = "standard", "regularized", "ensemble-member-2x-epochs-half-wd"


class DistillConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(True, description="run the distillation and self-distillation students")
    synthetic_multiple: float = Field(1.0, gt=0, description="teacher-sampled tokens as a multiple of D")
    temperature: float = Field(1.0, gt=0, description="sampling temperature of the teacher (the paper: 1)")
    student: Dict[str, Any] = Field(
        default_factory=lambda: {"optimizer.weight_decay": 0.1},
        description="knobs set on top of the regularized point at ensemble_size (the paper's students use wd 0.1)",
    )
    seeds: List[int] = Field([0], min_length=1, description="student seeds")


class InfiniteComputeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field("infinite-compute", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", description="prefix of run names")
    base: Dict[str, Any] = Field(default_factory=dict, description="PretrainConfig fields shared by every run")
    data_seed: int = Field(0, description="seed of the corpus: the same D tokens for every run")
    train_tokens: int = Field(gt=0, description="D, the fixed number of training tokens")
    data_multiples: List[float] = Field([0.5, 1.0, 2.0], description="D multiples of the standard recipe's L(D) fit")
    sizes: List[ModelSize] = Field(min_length=4, description="model sizes, smallest first (>= 4 for the L(N) fits)")
    standard: Dict[str, Any] = Field(description="the standard recipe's knobs (weight decay 0.1, an lr, epochs start)")
    standard_epochs: List[int] = Field(description="epoch grid searched for the standard recipe at the smallest size")
    regularized_start: Dict[str, Any] = Field(description="start point of the joint coordinate descent (every size)")
    axes: List[Axis] = Field(description="grids of the jointly tuned knobs (epochs, optimizer.lr, optimizer.weight_decay)")
    max_cycles: int = Field(4, gt=0, description="coordinate-descent sweeps over the axes at most")
    seeds: List[int] = Field(min_length=3, description="seeds at the final points; the regularized ones are the ensemble members")
    ensemble_size: str = Field(description="size of the member-recipe variant and of the distillation")
    member_variant: bool = Field(True, description="also run the paper's '2x epochs, 1/2 weight decay' member recipe")
    distill: DistillConfig = Field(default_factory=DistillConfig)
    level: float = Field(0.95, gt=0, lt=1, description="confidence level of every interval")
    bootstrap_replicates: int = Field(200, gt=0, description="seed-bootstrap replicates")
    coverage_trials: int = Field(100, ge=0, description="planted fits checking E's interval at this design (0: skip)")
    workers: int = Field(1, gt=0, description="parallel training processes")
    threads_per_worker: int = Field(1, gt=0, description="torch threads of each process")

    @model_validator(mode="after")
    def _consistent(self) -> "InfiniteComputeConfig":
        names = [size.name for size in self.sizes]
        if len(set(names)) < len(names):
            raise ValueError("model size names must differ")
        if self.ensemble_size not in names:
            raise ValueError(f"ensemble_size {self.ensemble_size!r} is not a size; sizes: {', '.join(names)}")
        if len(set(self.data_multiples)) < 3 or 1.0 not in self.data_multiples or min(self.data_multiples) <= 0:
            raise ValueError("data_multiples needs >= 3 distinct positive values including 1 (the L(D) fit has 3 parameters)")
        if len(set(self.seeds)) < len(self.seeds):
            raise ValueError("seeds must differ")
        if len(self.seeds) > 8:
            raise ValueError("at most 8 seeds: every subset of the ensemble members is scored")
        axis_keys = {axis.key for axis in self.axes}
        missing = sorted(axis_keys - set(self.regularized_start))
        if missing:
            raise ValueError(f"regularized_start has no value for the axes {missing}")
        for name, knobs in (("standard", self.standard), ("regularized_start", self.regularized_start)):
            if EPOCHS not in knobs:
                raise ValueError(f"{name} needs an `epochs` value")
        if self.standard[EPOCHS] not in self.standard_epochs:
            raise ValueError(f"standard epochs {self.standard[EPOCHS]} is not on standard_epochs {self.standard_epochs}")
        return self


def study_preset_names() -> List[str]:
    return configs.preset_names(STUDY_PRESETS_DIR)


def load_study_config(preset: Optional[str], config_file: Optional[Path] = None, overrides=()) -> InfiniteComputeConfig:
    return configs.load_yaml_config(InfiniteComputeConfig, STUDY_PRESETS_DIR, preset, config_file, overrides)


def _finite(value: Optional[float]) -> Optional[float]:
    return value if value is not None and math.isfinite(value) else None


class InfiniteComputeStudy:
    def __init__(self, config: InfiniteComputeConfig, output_dir: Path, progress: bool = True, executor: Optional[SweepExecutor] = None):
        self.config = config
        self.output_dir = Path(output_dir)
        self.base = configs.with_overrides(PretrainConfig(), dict(config.base))
        if self.base.data.packing != "concatenate":
            raise ValueError("the data-limited setting counts D in full windows: base.data.packing must be concatenate")
        self.sizes = {size.name: size for size in config.sizes}
        self.executor = executor or SweepExecutor(self.output_dir, config.workers, config.threads_per_worker, progress=progress)
        self.progress = progress
        for knobs in (config.standard, config.regularized_start):
            self.run_config(knobs, config.sizes[0].name, config.seeds[0])  # bad knobs fail before any training

    # ----- points -> configs -----

    def steps_per_epoch(self, data: Dict[str, Any]) -> int:
        context, batch = self.base.model.context_length, self.base.batch_size
        rows = data["data.train_tokens"] // context if data.get("data.real_rows", True) else 0
        rows += data.get("extra_row_count", 0)
        if rows < batch:
            raise ValueError(f"{rows} training rows of {context} tokens are fewer than one batch of {batch}: raise train_tokens")
        return rows // batch

    def run_config(self, knobs: Dict[str, Any], size: str, seed: int, data_multiple: float = 1.0,
                   extra: Optional[Tuple[str, int]] = None, real_rows: bool = True, tag: str = "") -> PretrainConfig:
        """The base config at this size and seed with `knobs`; `epochs` passes over D * data_multiple tokens (plus
        `extra` = (rows file, row count) of synthetic rows)."""
        knobs = dict(knobs)
        epochs = knobs.pop(EPOCHS)
        fraction = knobs.pop(WARMUP_FRACTION, 0.05)
        if not (isinstance(epochs, (int, float)) and epochs > 0):
            raise ValueError(f"epochs must be a positive number, got {epochs!r}")
        if not 0 <= fraction < 1:
            raise ValueError(f"{WARMUP_FRACTION} {fraction} must lie in [0, 1)")
        model = self.sizes[size]
        data = {"data.seed": self.config.data_seed, "data.train_tokens": round(self.config.train_tokens * data_multiple)}
        if extra is not None:
            data.update({"data.extra_rows": extra[0], "data.real_rows": real_rows})
        steps = max(1, round(epochs * self.steps_per_epoch({**data, "extra_row_count": extra[1] if extra else 0})))
        point = {
            "model.n_layer": model.n_layer, "model.n_head": model.n_head, "model.n_embd": model.n_embd, **data, **knobs,
        }
        name = f"{self.config.name}-{size}-D{data_multiple:g}{tag}-s{seed}"
        fixed = {
            "run_name": name, "seed": seed, "threads": None, "sample_tokens": 0, "max_steps": steps,
            "eval_every": steps, "checkpoint_every": max(1, steps // 4), "schedule.warmup_steps": round(fraction * steps),
        }
        try:
            return apply_point(self.base, point, **fixed)
        except ValueError as error:
            raise ValueError(f"size {size}, knobs {knobs}: {error}") from None

    def run_folder(self, config: PretrainConfig) -> Path:
        return self.output_dir / "runs" / point_key(config)

    # ----- running -----

    def _tune(self) -> Tuple[Dict[str, Any], Dict[str, Dict[str, Any]]]:
        config = self.config
        smallest = config.sizes[0].name
        searches = {
            STANDARD: coordinate_descent(dict(config.standard), [Axis(key=EPOCHS, values=list(config.standard_epochs))], config.max_cycles)
        }
        for size in config.sizes:
            searches[size.name] = coordinate_descent(dict(config.regularized_start), config.axes, config.max_cycles)

        def evaluate(points, names):
            configs_ = [self.run_config(p, smallest if n == STANDARD else n, config.seeds[0]) for p, n in zip(points, names)]
            return [final_loss(r) for r in self.executor.run(configs_, "tuning")]

        results = run_searches(searches, evaluate)
        return results.pop(STANDARD), results

    def run(self) -> Dict[str, Any]:
        try:
            return self._run()
        finally:
            self.executor.close()

    def _run(self) -> Dict[str, Any]:
        config = self.config
        standard_search, regularized = self._tune()
        standard_knobs = standard_search["best"]
        knobs = {STANDARD: {size.name: standard_knobs for size in config.sizes},
                 REGULARIZED: {name: result["best"] for name, result in regularized.items()}}
        if config.member_variant:
            point = dict(knobs[REGULARIZED][config.ensemble_size])
            point[EPOCHS] = point[EPOCHS] * 2
            point["optimizer.weight_decay"] = point.get("optimizer.weight_decay", self.base.optimizer.weight_decay) / 2
            knobs[VARIANT] = {config.ensemble_size: point}
        cells = [(recipe, size, seed) for recipe, per_size in knobs.items() for size in per_size for seed in config.seeds]
        records = self.executor.run([self.run_config(knobs[r][s], s, seed) for r, s, seed in cells], "seeds")
        runs = dict(zip(cells, records))
        self._raise_on_failures(runs)
        losses = {(r, s): [runs[(r, s, seed)]["final_val_loss"] for seed in config.seeds] for r, s, _ in cells}
        best_standard_size = min(config.sizes, key=lambda size: np.mean(losses[(STANDARD, size.name)])).name
        data_cells = [(m, seed) for m in sorted(config.data_multiples) for seed in config.seeds]
        data_records = self.executor.run(
            [self.run_config(standard_knobs, best_standard_size, seed, m) for m, seed in data_cells], "data sizes"
        )
        self._raise_on_failures(dict(zip(data_cells, data_records)))
        data_losses = {m: [r["final_val_loss"] for (mm, _), r in zip(data_cells, data_records) if mm == m] for m in config.data_multiples}
        ensembles = self._ensembles(knobs)
        distillation = self._distill(knobs, ensembles[(REGULARIZED, config.ensemble_size)]) if config.distill.enabled else None
        return self.analyse(standard_search, regularized, knobs, losses, best_standard_size, data_losses, ensembles, distillation)

    @staticmethod
    def _raise_on_failures(runs: Dict[Any, Dict[str, Any]]) -> None:
        failed = {cell: record for cell, record in runs.items() if record["status"] != "done"}
        if failed:
            listing = "; ".join(f"{cell}: {r['status']} at step {r['step']}" for cell, r in list(failed.items())[:5])
            raise ValueError(f"{len(failed)} final runs did not finish ({listing}); lower the learning rate grid and rerun")

    # ----- ensembles -----

    def _validation(self, any_config: PretrainConfig) -> Tuple[torch.Tensor, int]:
        from helm_plugins.runners.pretrain.datacache import cached_tokenize

        data, _ = cached_tokenize(any_config, self.executor.data_cache or self.output_dir / "data_cache")
        rows = data.validation_rows[: any_config.eval_batches * min(any_config.batch_size, len(data.validation_rows))]
        return rows, data.tokenizer.eos_token_id

    def _member_folders(self, recipe: str, size: str, knobs) -> List[Path]:
        return [self.run_folder(self.run_config(knobs[recipe][size], size, seed)) for seed in self.config.seeds]

    def _subset_losses(self, folders: Sequence[Path]):
        from helm_plugins.runners.pretrain.ensembles import load_members, member_logits, subset_row_losses

        members = load_members(folders)
        rows, pad = self._validation(members[0].config)
        logits, targets = member_logits(members, rows, members[0].config.batch_size, pad)
        return subset_row_losses(logits, targets)

    def _ensembles(self, knobs) -> Dict[Tuple[str, str], Any]:
        out = {}
        for recipe, per_size in knobs.items():
            if recipe == STANDARD:
                continue
            for size in per_size:
                out[(recipe, size)] = self._subset_losses(self._member_folders(recipe, size, knobs))
        return out

    # ----- distillation -----

    def _distill(self, knobs, member_subsets) -> Dict[str, Any]:
        from helm_plugins.runners.pretrain.ensembles import load_members, sample_rows

        config, size = self.config, self.config.ensemble_size
        folders = self._member_folders(REGULARIZED, size, knobs)
        members = load_members(folders)
        width = self.base.model.context_length + 1
        num_rows = max(1, round(config.distill.synthetic_multiple * config.train_tokens / self.base.model.context_length))
        rows_dir = self.output_dir / "distill"
        rows_dir.mkdir(parents=True, exist_ok=True)
        _, bos = self._validation(members[0].config)
        teachers = {"ensemble": members, "self": members[:1]}
        students = {}
        for teacher, models in teachers.items():
            path = rows_dir / f"{teacher}-{point_key(models[0].config)}-k{len(models)}-{num_rows}x{width}-t{config.distill.temperature:g}.pt"
            if not path.is_file():
                rows = sample_rows(models, num_rows, width, bos, seed=config.data_seed, temperature=config.distill.temperature)
                tmp = path.with_suffix(".tmp")
                torch.save(rows, tmp)
                tmp.replace(path)
            variants = [("real-synthetic", True)] + ([("synthetic-only", False)] if teacher == "self" else [])
            for label, real in variants:
                point = {**knobs[REGULARIZED][size], **config.distill.student}
                students[f"{teacher}-distill-{label}"] = [
                    self.run_config(point, size, seed, extra=(str(path), num_rows), real_rows=real, tag=f"-{teacher}-{label}")
                    for seed in config.distill.seeds
                ]
        names = list(students)
        flat = [c for name in names for c in students[name]]
        records = self.executor.run(flat, "students")
        self._raise_on_failures({c.run_name: r for c, r in zip(flat, records)})
        out = {}
        for name in names:
            folders_ = [self.run_folder(c) for c in students[name]]
            out[name] = {
                "losses": self._single_row_losses(folders_ + folders),
                "students": len(folders_),
                "ensemble": member_subsets[frozenset(range(len(folders)))],
            }
        return out

    def _single_row_losses(self, folders: Sequence[Path]) -> List[Tuple[np.ndarray, np.ndarray]]:
        """Per-row losses of each model on its own (students first, then the members they are compared with)."""
        from helm_plugins.runners.pretrain.ensembles import load_members, member_logits, row_losses

        members = load_members(folders)
        rows, pad = self._validation(members[0].config)
        logits, targets = member_logits(members, rows, members[0].config.batch_size, pad)
        return [row_losses(l, targets) for l in logits]

    # ----- analysis -----

    def parameters(self, size: str) -> int:
        """Non-embedding parameters N of a size (counted on a CPU copy: these models are tiny)."""
        return non_embedding_parameters(self.run_config(self.config.standard, size, self.config.seeds[0]).model, device="cpu")

    def analyse(self, standard_search, regularized, knobs, losses, best_standard_size, data_losses, ensembles, distillation) -> Dict[str, Any]:
        from helm_plugins.runners.pretrain.ensembles import ensemble_curve, mean_loss

        config = self.config
        level = config.level
        sizes = [size.name for size in config.sizes]
        n = {size: self.parameters(size) for size in sizes}
        seeds = len(config.seeds)
        tokens = {m: round(config.train_tokens * m) for m in config.data_multiples}

        # point estimates
        asymptotes = {}
        for recipe in (STANDARD, REGULARIZED):
            xs = [n[s] for s in sizes for _ in range(seeds)]
            ys = [v for s in sizes for v in losses[(recipe, s)]]
            asymptotes[recipe] = fit_asymptote(xs, ys, level)
        d_law = fit_power_law([tokens[m] for m in sorted(tokens)], [float(np.mean(data_losses[m])) for m in sorted(tokens)])
        all_members = list(range(seeds))
        curves = {key: ensemble_curve(subsets, all_members) for key, subsets in ensembles.items()}
        k_laws = {key: _fit_or_none(range(1, seeds + 1), curve) for key, curve in curves.items()}
        joint = _fit_or_none([n[s] for s in sizes], [k_laws[(REGULARIZED, s)].offset if k_laws[(REGULARIZED, s)] else math.nan for s in sizes])

        # seed bootstrap: resample seeds in every cell, members at every size; refit everything
        rng = np.random.default_rng(0)
        boot: Dict[str, List[float]] = {}

        def add(name: str, value: Optional[float]) -> None:
            boot.setdefault(name, []).append(math.nan if value is None else value)

        for _ in range(config.bootstrap_replicates):
            picks = {key: rng.integers(0, seeds, seeds) for key in losses}
            mean = {key: float(np.mean(np.asarray(v)[picks[key]])) for key, v in losses.items()}
            d_means = [float(np.mean(rng.choice(data_losses[m], len(data_losses[m])))) for m in sorted(tokens)]
            law_d = _fit_or_none([tokens[m] for m in sorted(tokens)], d_means, d_law)
            for recipe in (STANDARD, REGULARIZED):
                law = _fit_or_none([n[s] for s in sizes], [mean[(recipe, s)] for s in sizes], asymptotes[recipe].law)
                add(f"E:{recipe}", law.offset if law else None)
                add(f"eff:{recipe}", _efficiency(law_d, law.offset if law else None, config.train_tokens))
            e_k = {}
            for key, subsets in ensembles.items():
                curve = ensemble_curve(subsets, picks[key].tolist())
                law = _fit_or_none(range(1, seeds + 1), curve, k_laws[key])
                e_k[key] = law.offset if law else None
                add(f"EK:{key[0]}:{key[1]}", e_k[key])
                add(f"eff_ens:{key[0]}:{key[1]}", _efficiency(law_d, e_k[key], config.train_tokens))
            values = [e_k[(REGULARIZED, s)] for s in sizes]
            law = _fit_or_none([n[s] for s in sizes], values, joint) if all(v is not None for v in values) else None
            add("E:joint", law.offset if law else None)
            add("eff:joint", _efficiency(law_d, law.offset if law else None, config.train_tokens))

        def interval(estimate: Optional[float], name: str) -> Dict[str, Any]:
            """Percentile interval; an infinite D'/D (a loss at or below the standard recipe's L(D) asymptote) is
            reported with estimate None and `infinite` true."""
            if estimate is None:
                return {**Interval(math.nan, math.nan, math.nan).as_dict(), "infinite": False}
            found = percentile_interval(estimate, boot.get(name, []), level).as_dict()
            return {**found, "infinite": estimate == math.inf}

        recipes = {}
        for recipe in (STANDARD, REGULARIZED):
            fit = asymptotes[recipe]
            recipes[recipe] = {
                "fit": fit.as_dict(),
                "asymptote": fit.interval.as_dict(),
                "asymptote_bootstrap": interval(fit.law.offset, f"E:{recipe}"),
                "data_efficiency": interval(_efficiency(d_law, fit.law.offset, config.train_tokens), f"eff:{recipe}"),
                "monotone": _monotone(sizes, losses, recipe, level),
            }
        ensemble_rows = []
        for key, curve in curves.items():
            law = k_laws[key]
            ensemble_rows.append({
                "recipe": key[0], "size": key[1], "non_embedding_parameters": n[key[1]], "curve": curve,
                "fit": law.as_dict() if law else None,
                "asymptote": interval(law.offset if law else None, f"EK:{key[0]}:{key[1]}"),
                "single_model_loss": curve[0],
                "data_efficiency": interval(_efficiency(d_law, law.offset if law else None, config.train_tokens), f"eff_ens:{key[0]}:{key[1]}"),
            })
        joint_summary = {
            "fit": joint.as_dict() if joint else None,
            "asymptote": interval(joint.offset if joint else None, "E:joint"),
            "data_efficiency": interval(_efficiency(d_law, joint.offset if joint else None, config.train_tokens), "eff:joint"),
        }
        coverage = None
        if config.coverage_trials:
            fit = asymptotes[REGULARIZED]
            coverage = planted_coverage(fit.law, [n[s] for s in sizes], seeds, max(fit.residual_sd, 1e-4), config.coverage_trials, level)
        table = []
        for recipe, per_size in knobs.items():
            for size, point in per_size.items():
                tuned = regularized[size] if recipe == REGULARIZED else standard_search if size == sizes[0] and recipe == STANDARD else None
                table.append({
                    "recipe": recipe, "size": size, "non_embedding_parameters": n[size], "knobs": point,
                    "val_loss_seeds": losses[(recipe, size)], "val_loss": float(np.mean(losses[(recipe, size)])),
                    "tuning_runs": tuned["evaluated"] if tuned else 0, "tuning_path": tuned["path"] if tuned else [],
                })
        summary = {
            "paper": "arXiv 2509.14786",
            "train_tokens": config.train_tokens,
            "seeds": config.seeds,
            "sizes": {s: n[s] for s in sizes},
            "standard_epochs": standard_search["best"][EPOCHS],
            "standard_epoch_search": standard_search["path"],
            "table": table,
            "recipes": recipes,
            "ensembles": ensemble_rows,
            "joint": joint_summary,
            "data_law": {"size": best_standard_size, "fit": d_law.as_dict(), "tokens": tokens,
                         "losses": {str(m): data_losses[m] for m in sorted(tokens)}},
            "coverage_check": coverage,
            "distillation": self._distillation_summary(distillation, d_law, rng) if distillation else None,
            "runs_trained": self.executor.runs_started,
            "level": level,
        }
        summary["claims"] = claims(summary)
        return summary

    def _distillation_summary(self, distillation, d_law: PowerLaw, rng) -> Dict[str, Any]:
        """Student losses and retained gains with a bootstrap over validation rows and seeds (members and students)."""
        from helm_plugins.runners.pretrain.ensembles import mean_loss

        config = self.config
        level = config.level
        seeds = len(config.seeds)
        out = {}
        for name, item in distillation.items():
            per_row, students = item["losses"], item["students"]
            student_rows, member_rows = per_row[:students], per_row[students:]
            ensemble = item["ensemble"]
            rows_count = len(per_row[0][0])

            def figures(rows, student_pick, member_pick):
                student = float(np.mean([mean_loss(student_rows[i], rows) for i in student_pick]))
                single = float(np.mean([mean_loss(member_rows[i], rows) for i in member_pick]))
                ens = mean_loss(ensemble, rows)
                return student, single, ens, retained_gain(single, student, ens)

            estimate = figures(None, range(students), range(seeds))
            replicates = [
                figures(rng.integers(0, rows_count, rows_count), rng.integers(0, students, students), rng.integers(0, seeds, seeds))
                for _ in range(config.bootstrap_replicates)
            ]
            labels = ("student_loss", "single_loss", "ensemble_loss", "retained_gain")
            out[name] = {
                label: percentile_interval(estimate[i], [r[i] for r in replicates], level).as_dict() for i, label in enumerate(labels)
            }
            out[name]["data_efficiency"] = _finite(_efficiency(d_law, estimate[0], config.train_tokens))
            out[name]["student_seeds"] = students
        return out


def retained_gain(single: float, student: float, ensemble: float) -> float:
    """(L_single - L_student) / (L_single - L_ensemble): 1 keeps the ensemble's whole gain, 0 none; NaN without a gain."""
    return (single - student) / (single - ensemble) if single != ensemble else math.nan


def _fit_or_none(x, y, initial: Optional[PowerLaw] = None) -> Optional[PowerLaw]:
    try:
        return fit_power_law(list(x), list(y), initial)
    except ValueError:
        return None


def _efficiency(law: Optional[PowerLaw], loss: Optional[float], tokens: int) -> Optional[float]:
    """D'/D: the standard recipe's tokens for `loss` over D; inf at or below its asymptote."""
    if law is None or loss is None or not math.isfinite(loss):
        return None
    return law.inverse(loss) / tokens


def _welch(a: Sequence[float], b: Sequence[float], level: float) -> Dict[str, float]:
    """mean(b) - mean(a) with its Welch t interval."""
    from scipy import stats

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    diff = float(b.mean() - a.mean())
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    dof = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1)) if va + vb > 0 else len(a) + len(b) - 2
    half = float(stats.t.ppf(0.5 + level / 2, dof)) * math.sqrt(va + vb)
    return {"change": diff, "low": diff - half, "high": diff + half}


def _monotone(sizes: List[str], losses, recipe: str, level: float) -> Dict[str, Any]:
    """Does the loss fall with every size step? Each step's change of the seed mean, and the change from the best
    size to the largest, with Welch t intervals."""
    steps = [{"from": small, "to": large, **_welch(losses[(recipe, small)], losses[(recipe, large)], level)}
             for small, large in zip(sizes, sizes[1:])]
    best = sizes[int(np.argmin([np.mean(losses[(recipe, s)]) for s in sizes]))]
    best_to_largest = {"from": best, "to": sizes[-1], **_welch(losses[(recipe, best)], losses[(recipe, sizes[-1])], level)}
    return {
        "steps": steps,
        "best_to_largest": best_to_largest,
        "monotone_decreasing": all(s["change"] < 0 for s in steps),
        "significant_increase": any(s["low"] > 0 for s in steps) or (best != sizes[-1] and best_to_largest["low"] > 0),
        "best_size": best,
    }


def claims(summary: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The paper's effect directions, each marked supported / not supported by its interval at this scale."""
    out = []
    std, reg = summary["recipes"][STANDARD], summary["recipes"][REGULARIZED]
    out.append({
        "claim": "the standard recipe (wd 0.1) gets worse with more parameters at fixed data",
        "supported": std["monotone"]["significant_increase"],
        "evidence": "loss change from the best size {from} to the largest {to}: {change:+.3f} [{low:+.3f}, {high:+.3f}]".format(
            **std["monotone"]["best_to_largest"]),
    })
    out.append({
        "claim": "the regularized recipe's loss falls monotonically with parameters",
        "supported": reg["monotone"]["monotone_decreasing"] and not reg["monotone"]["significant_increase"],
        "evidence": "every size step lowers the seed-mean loss" if reg["monotone"]["monotone_decreasing"] else "some size step raises the loss",
    })
    e_std, e_reg = std["asymptote"], reg["asymptote"]
    out.append({
        "claim": "the regularized asymptote is below the standard one",
        "supported": e_reg["high"] is not None and e_std["low"] is not None and e_reg["high"] < e_std["low"],
        "evidence": f"E regularized {_fmt(e_reg)} vs standard {_fmt(e_std)} (profile intervals)",
    })
    regs = [row for row in summary["ensembles"] if row["recipe"] == REGULARIZED]
    below = [row for row in regs if row["asymptote"]["high"] is not None and e_reg["low"] is not None and row["asymptote"]["high"] < e_reg["low"]]
    out.append({
        "claim": "an ensemble's asymptote E_K is below the single-model asymptote E",
        "supported": bool(below),
        "evidence": f"{len(below)} of {len(regs)} sizes have E_K's interval entirely below E's",
    })
    joint = summary["joint"]["asymptote"]
    out.append({
        "claim": "the joint limit (K -> inf, then N -> inf) is below the regularized asymptote",
        "supported": joint["high"] is not None and e_reg["low"] is not None and joint["high"] < e_reg["low"],
        "evidence": f"joint {_fmt(joint)} vs regularized {_fmt(e_reg)}",
    })
    eff = summary["joint"]["data_efficiency"]
    out.append({
        "claim": "the joint limit is more data-efficient than the standard recipe (D'/D > 1)",
        "supported": eff["low"] is not None and eff["low"] > 1,
        "evidence": f"D'/D {_fmt(eff)}",
    })
    distillation = summary.get("distillation")
    if distillation:
        student = distillation.get("ensemble-distill-real-synthetic")
        if student:
            gain = student["retained_gain"]
            out.append({
                "claim": "the distilled student lies between the single model and the ensemble (0 < retained gain < 1)",
                "supported": gain["low"] is not None and gain["low"] > 0 and gain["high"] is not None and gain["high"] < 1,
                "evidence": f"retained gain {_fmt(gain)}",
            })
        collapse = distillation.get("self-distill-synthetic-only")
        if collapse:
            loss, single = collapse["student_loss"], collapse["single_loss"]
            out.append({
                "claim": "self-distillation without real data is worse than the teacher (collapse)",
                "supported": loss["low"] is not None and single["high"] is not None and loss["low"] > single["high"],
                "evidence": f"student {_fmt(loss)} vs single members {_fmt(single)}",
            })
    return out


def _fmt(interval: Dict[str, Optional[float]]) -> str:
    if interval.get("estimate") is None:
        return "n/a"
    if interval["estimate"] == math.inf:
        return "inf"
    low, high = (f"{v:.4g}" if v is not None and v < 1e6 else "inf" for v in (interval["low"], interval["high"]))
    return f"{interval['estimate']:.4g} [{low}, {high}]"


# ----- outputs -----


def write_outputs(study: InfiniteComputeStudy, summary: Dict[str, Any], suite_dir: Optional[Path]) -> List[Path]:
    output_dir = study.output_dir
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "study.json").write_text(json.dumps(summary, indent=1))
    (output_dir / "report.md").write_text(format_report(summary))
    plot_study(summary, output_dir / "infinite_compute.png")
    if suite_dir is None:
        return []
    return write_helm_runs(study.config.name, summary, suite_dir, output_dir)


def _interval_stats(prefix: str, interval: Dict[str, Any], split: str = "valid") -> list:
    """`prefix`, `prefix_ci_low`, `prefix_ci_high`; a missing (or infinite) value is written with no samples, so the
    leaderboard shows an empty cell rather than a made-up number."""
    stats = []
    for suffix, key in (("", "estimate"), ("_ci_low", "low"), ("_ci_high", "high")):
        value = interval.get(key)
        stats.append(make_stat(prefix + suffix, [value] if value is not None and math.isfinite(value) else [], split=split))
    return stats


def headline_rows(summary: Dict[str, Any]) -> List[Dict[str, Any]]:
    """One row per recipe figure: the two fitted recipes, each ensemble asymptote, the joint limit."""
    rows = []
    for recipe in (STANDARD, REGULARIZED):
        item = summary["recipes"][recipe]
        rows.append({"recipe": recipe, "size": "all", "asymptote": item["asymptote"], "data_efficiency": item["data_efficiency"],
                     "what": f"L(N) = A/N^alpha + E over {len(summary['sizes'])} sizes; E's interval: profile likelihood"})
    for row in summary["ensembles"]:
        rows.append({"recipe": f"ensemble-{row['recipe']}", "size": row["size"], "asymptote": row["asymptote"],
                     "data_efficiency": row["data_efficiency"],
                     "what": f"L(K) = A/K^beta + E_K over K = 1..{len(row['curve'])}; interval: member bootstrap"})
    rows.append({"recipe": "joint-limit", "size": "all", "asymptote": summary["joint"]["asymptote"],
                 "data_efficiency": summary["joint"]["data_efficiency"], "what": "E_K over sizes: A/N^alpha + E_joint"})
    return rows


def write_helm_runs(study_name: str, summary: Dict[str, Any], suite_dir: Path, output_dir: Path) -> List[Path]:
    written = []
    for row in headline_rows(summary):
        model = f"helm-plugins/{study_name}-{row['recipe']}-{row['size']}"
        stats = _interval_stats("asymptote_E", row["asymptote"]) + _interval_stats("data_efficiency", row["data_efficiency"])
        written.append(write_run_directory(suite_dir, RunRecord(
            name=f"hp_infinite_compute:recipe={row['recipe']},size={row['size']},model={model}",
            scenario_name="hp_infinite_compute",
            scenario_description=(
                f"Pre-training under infinite compute (arXiv 2509.14786) with D = {summary['train_tokens']:,} tokens: "
                f"{row['what']}; data efficiency D'/D against the standard recipe's L(D) (study folder {output_dir})."
            ),
            scenario_class="helm_plugins.runners.pretrain.infinite_compute.InfiniteComputeStudy",
            scenario_args={"recipe": row["recipe"], "size": row["size"]},
            model=model, method="pretraining", groups=[GROUP], stats=stats,
        )))
    for row in summary["table"]:
        model = f"helm-plugins/{study_name}-{row['recipe']}-{row['size']}"
        knobs = row["knobs"]
        stats = [
            make_stat("val_loss", row["val_loss_seeds"], split="valid"),
            make_stat("epochs", knobs[EPOCHS], split="train"),
            make_stat("learning_rate", knobs.get("optimizer.lr", math.nan), split="train"),
            make_stat("weight_decay", knobs.get("optimizer.weight_decay", math.nan), split="train"),
            make_stat("non_embedding_parameters", row["non_embedding_parameters"], split="train"),
            make_stat("tuning_runs", row["tuning_runs"], split="train"),
        ]
        instances = [RunInstance(id=f"seed{i}", input=f"{row['recipe']} at {row['size']}, knobs {json.dumps(knobs, sort_keys=True)}",
                                 output=f"final validation loss {loss:.4f}", stats={"val_loss": loss}, split="valid")
                     for i, loss in enumerate(row["val_loss_seeds"])]
        written.append(write_run_directory(suite_dir, RunRecord(
            name=f"hp_infinite_compute_runs:recipe={row['recipe']},size={row['size']},model={model}",
            scenario_name="hp_infinite_compute_runs",
            scenario_description=f"{row['recipe']} recipe at size {row['size']} ({row['non_embedding_parameters']:,} non-embedding parameters), D = {summary['train_tokens']:,} tokens; one instance per seed.",
            scenario_class="helm_plugins.runners.pretrain.infinite_compute.InfiniteComputeStudy",
            scenario_args={"recipe": row["recipe"], "size": row["size"]},
            model=model, method="pretraining", groups=[RUNS_GROUP], stats=stats, instances=instances,
        )))
    for name, item in (summary.get("distillation") or {}).items():
        model = f"helm-plugins/{study_name}-{name}"
        stats = _interval_stats("student_loss", item["student_loss"]) + _interval_stats("retained_gain", item["retained_gain"])
        stats += [make_stat("teacher_loss", [item["ensemble_loss"]["estimate"]] if name.startswith("ensemble") else [item["single_loss"]["estimate"]], split="valid")]
        written.append(write_run_directory(suite_dir, RunRecord(
            name=f"hp_infinite_compute_distillation:student={name},model={model}",
            scenario_name="hp_infinite_compute_distillation",
            scenario_description=f"Student {name}: trained on text sampled at T=1 from its teacher (plus the real D tokens unless synthetic-only); retained gain = (L_single - L_student)/(L_single - L_ensemble).",
            scenario_class="helm_plugins.runners.pretrain.infinite_compute.InfiniteComputeStudy",
            scenario_args={"student": name},
            model=model, method="pretraining", groups=[DISTILL_GROUP], stats=stats,
        )))
    return written


def format_report(summary: Dict[str, Any]) -> str:
    lines = [f"# Pre-training under infinite compute (arXiv 2509.14786) at CPU scale", "",
             f"D = {summary['train_tokens']:,} training tokens; seeds {summary['seeds']}; intervals at {summary['level']:.0%}.",
             f"Standard recipe: weight decay 0.1, {summary['standard_epochs']} epochs (best for the smallest size).", "",
             "| recipe | size | N | epochs | lr | wd | val loss (seed mean) | seeds |", "|---|---|---|---|---|---|---|---|"]
    for row in summary["table"]:
        k = row["knobs"]
        lines.append(f"| {row['recipe']} | {row['size']} | {row['non_embedding_parameters']:,} | {k[EPOCHS]} | {k.get('optimizer.lr', '')} | "
                     f"{k.get('optimizer.weight_decay', '')} | {row['val_loss']:.4f} | {', '.join(f'{v:.4f}' for v in row['val_loss_seeds'])} |")
    lines += ["", "| figure | size | asymptote (E) | D'/D |", "|---|---|---|---|"]
    for row in headline_rows(summary):
        lines.append(f"| {row['recipe']} | {row['size']} | {_fmt(row['asymptote'])} | {_fmt_eff(row['data_efficiency'])} |")
    law = summary["data_law"]
    lines += ["", f"Standard recipe L(D) at size {law['size']}: {law['fit']['alpha']:.4g}/D^{law['fit']['exponent']:.3f} + {law['fit']['offset']:.4f}."]
    coverage = summary.get("coverage_check")
    if coverage:
        lines.append(f"Coverage of E's {coverage['level']:.0%} profile interval on {coverage['trials']} planted curves at this design "
                     f"(the regularized fit, its residual sd): {coverage['coverage']:.2f}.")
    if summary.get("distillation"):
        lines += ["", "| student | student loss | single-model loss | teacher ensemble loss | retained gain |", "|---|---|---|---|---|"]
        for name, item in summary["distillation"].items():
            lines.append(f"| {name} | {_fmt(item['student_loss'])} | {_fmt(item['single_loss'])} | {_fmt(item['ensemble_loss'])} | {_fmt(item['retained_gain'])} |")
    lines += ["", "| the paper's claim | supported here? | evidence |", "|---|---|---|"]
    for claim in summary["claims"]:
        lines.append(f"| {claim['claim']} | {'yes' if claim['supported'] else 'no'} | {claim['evidence']} |")
    return "\n".join(lines) + "\n"


def _fmt_eff(interval: Dict[str, Any]) -> str:
    if interval.get("infinite"):
        low = interval.get("low")
        return f"inf (below the L(D) asymptote; low {low:.2f})" if low is not None else "inf (below the L(D) asymptote)"
    return _fmt(interval)


def plot_study(summary: Dict[str, Any], path: Path) -> None:
    """Loss against N per recipe with the fitted laws and asymptotes; L(K) per size; D'/D bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    axis = axes[0]
    sizes = summary["sizes"]
    n_values = np.array(sorted(sizes.values()), dtype=float)
    grid = np.geomspace(n_values.min(), n_values.max() * 4, 100)
    for recipe, color in ((STANDARD, "tab:red"), (REGULARIZED, "tab:blue")):
        rows = [r for r in summary["table"] if r["recipe"] == recipe]
        x = [r["non_embedding_parameters"] for r in rows]
        y = [r["val_loss"] for r in rows]
        spread = [np.std(r["val_loss_seeds"], ddof=1) for r in rows]
        axis.errorbar(x, y, yerr=spread, marker="o", color=color, ls="none", capsize=3, label=f"{recipe} (seed mean ± sd)")
        fit = summary["recipes"][recipe]["fit"]["fit"]
        law = PowerLaw(fit["alpha"], fit["exponent"], fit["offset"])
        axis.plot(grid, [law(v) for v in grid], color=color, lw=1)
        e = summary["recipes"][recipe]["asymptote"]
        axis.axhline(e["estimate"], color=color, ls=":", lw=1)
        if e["low"] is not None and e["high"] is not None:
            axis.axhspan(e["low"], e["high"], color=color, alpha=0.1)
    joint = summary["joint"]["asymptote"]
    if joint["estimate"] is not None:
        axis.axhline(joint["estimate"], color="tab:green", ls="--", lw=1, label="joint limit (ensembles)")
    axis.set_xscale("log")
    axis.set_xlabel("non-embedding parameters N")
    axis.set_ylabel("validation loss (nats/token)")
    axis.set_title("loss vs N; dotted: asymptote E (band: interval)")
    axis.legend(fontsize=7)
    axis = axes[1]
    for row in summary["ensembles"]:
        k = np.arange(1, len(row["curve"]) + 1)
        line = axis.plot(k, row["curve"], marker="o", label=f"{row['recipe'][:11]} {row['size']}")[0]
        if row["fit"]:
            law = PowerLaw(row["fit"]["alpha"], row["fit"]["exponent"], row["fit"]["offset"])
            kk = np.linspace(1, len(row["curve"]) * 3, 60)
            axis.plot(kk, [law(v) for v in kk], color=line.get_color(), lw=0.8)
            axis.axhline(row["fit"]["offset"], color=line.get_color(), ls=":", lw=0.8)
    axis.set_xlabel("ensemble members K")
    axis.set_ylabel("validation loss (nats/token)")
    axis.set_title("logit-averaged ensembles: L(K) and E_K")
    axis.legend(fontsize=6)
    axis = axes[2]
    bars = [(r["recipe"] if r["size"] == "all" else f"{r['recipe']}\n{r['size']}", r["data_efficiency"]) for r in headline_rows(summary)]
    for name, item in (summary.get("distillation") or {}).items():
        value = item.get("data_efficiency")
        bars.append((name.replace("-distill-", "\n"), {"estimate": value, "low": None, "high": None}))
    labels = [b[0] for b in bars]
    values = [b[1]["estimate"] if b[1].get("estimate") is not None else 0.0 for b in bars]
    low = [max(v - b[1]["low"], 0) if b[1].get("low") is not None and b[1].get("estimate") is not None else 0 for v, b in zip(values, bars)]
    high = [max(b[1]["high"] - v, 0) if b[1].get("high") is not None and b[1].get("estimate") is not None else 0 for v, b in zip(values, bars)]
    axis.bar(range(len(bars)), values, yerr=[low, high], capsize=3, color="tab:purple")
    for i, b in enumerate(bars):
        if b[1].get("infinite"):
            axis.text(i, 0, "inf", ha="center", va="bottom", fontsize=7)
    axis.axhline(1.0, color="grey", lw=0.5)
    axis.set_xticks(range(len(bars)))
    axis.set_xticklabels(labels, fontsize=6, rotation=60, ha="right")
    axis.set_ylabel("data efficiency D'/D vs the standard recipe")
    axis.set_yscale("symlog", linthresh=1)
    axis.set_title("equivalent data of the standard recipe")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
