"""`run_speculation`: load the policy, run the rollout benchmark (or a replay), write history, plots and one
HELM run per drafter configuration (rows of the "Speculative decoding" group)."""

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import scipy.stats

from helm_plugins.common.intervals import t_interval
from helm_plugins.common.results import RunInstance, RunRecord, make_stat, write_run_directory
from helm_plugins.runners.speculative.config import SpeculateConfig
from helm_plugins.runners.speculative.decoding import fit_pass_cost
from helm_plugins.runners.speculative.rollouts import EpochMetrics, replay, run_rollout_benchmark

SPECULATIVE_GROUP = "hp_speculative_decoding"
PER_EPOCH_STATS = ("tokens_per_pass", "acceptance_rate", "passes_per_rollout", "makespan_passes", "max_length")


def ratio_interval(numerators: Sequence[float], denominators: Sequence[float], level: float = 0.95) -> Tuple[float, float]:
    """t interval of the ratio sum(numerators) / sum(denominators) over independent clusters (linearised: the
    standard error of the mean of n_i - R d_i, over the mean denominator); (nan, nan) with fewer than 2."""
    n = len(numerators)
    if n < 2:
        return math.nan, math.nan
    numerators, denominators = np.asarray(numerators, float), np.asarray(denominators, float)
    ratio = numerators.sum() / denominators.sum()
    residuals = numerators - ratio * denominators
    standard_error = residuals.std(ddof=1) / math.sqrt(n) / denominators.mean()
    half = scipy.stats.t.ppf(0.5 + level / 2, n - 1) * standard_error
    return float(ratio - half), float(ratio + half)


def mean_interval(values: Sequence[float], level: float = 0.95) -> Tuple[float, float]:
    """t interval of the mean of independent values (e.g. one per seed); (nan, nan) with fewer than 2."""
    return t_interval(values, level) or (math.nan, math.nan)


def log_ratio_interval(ratios: Sequence[float], level: float = 0.95) -> Tuple[float, float]:
    """t interval of the geometric mean of paired ratios (e.g. per RL step); (nan, nan) with fewer than 2."""
    low, high = mean_interval(np.log(np.asarray(ratios, float)), level)
    return math.exp(low), math.exp(high)


SUMMED_OVER_SEEDS = ("drafter_seconds", "batch_seconds", "rollout_seconds")


def _with_time_cut(stats: Dict[str, float]) -> Dict[str, float]:
    """Adds the rollout time cut, 1 - 1 / batch speedup (DAS's headline: rollout time saved), with the interval
    the speedup's maps to (a monotone transform)."""
    if "batch_speedup" in stats:
        stats["rollout_time_cut"] = 1 - 1 / stats["batch_speedup"]
        stats["rollout_time_cut_ci_low"] = 1 - 1 / stats.get("batch_speedup_ci_low", math.nan)
        stats["rollout_time_cut_ci_high"] = 1 - 1 / stats.get("batch_speedup_ci_high", math.nan)
    return {name: value for name, value in stats.items() if math.isfinite(value)}


@dataclass
class DrafterSummary:
    name: str
    epochs: List[EpochMetrics]  # every RL run's steps (one run per seed)
    baseline: List[EpochMetrics]  # the no-speculation baseline's, in the same order

    @property
    def seeds(self) -> List[int]:
        return list(dict.fromkeys(e.seed for e in self.epochs))

    def for_seed(self, seed: int) -> "DrafterSummary":
        return DrafterSummary(
            self.name, [e for e in self.epochs if e.seed == seed], [e for e in self.baseline if e.seed == seed]
        )

    def total(self, field: str, epochs: Optional[List[EpochMetrics]] = None) -> float:
        return sum(getattr(e, field) for e in (epochs if epochs is not None else self.epochs))

    def stats(self) -> Dict[str, float]:
        """One seed: `run_stats` (intervals over problems and RL steps). Several seeds: every drafter ran on the
        same work within each seed, and the headline numbers get 95% t intervals over seeds: tokens per pass (mean
        of the per-seed values), measured batch speedup and speedup one sequence at a time (geometric means of
        the per-seed speedups), rollout time cut (1 - 1 / batch speedup); other rates are means over seeds,
        times sums, `max_length` the maximum."""
        seeds = self.seeds
        if len(seeds) == 1:
            return _with_time_cut({**self.run_stats(), "seeds": 1.0})
        runs = [self.for_seed(seed).run_stats() for seed in seeds]
        stats: Dict[str, float] = {"seeds": float(len(seeds))}
        for name in runs[0]:
            if name.endswith(("_ci_low", "_ci_high")) or not all(name in run for run in runs):
                continue
            values = [run[name] for run in runs]
            if name in SUMMED_OVER_SEEDS:
                stats[name] = float(sum(values))
            elif name == "max_length":
                stats[name] = float(max(values))
            elif name in ("batch_speedup", "speedup_vs_no_speculation"):
                stats[name] = float(math.exp(np.mean(np.log(values))))
                stats[f"{name}_ci_low"], stats[f"{name}_ci_high"] = log_ratio_interval(values)
            else:
                stats[name] = float(np.mean(values))
                if name == "tokens_per_pass":
                    stats[f"{name}_ci_low"], stats[f"{name}_ci_high"] = mean_interval(values)
        return _with_time_cut(stats)

    def run_stats(self) -> Dict[str, float]:
        """One RL run, pooled over its steps. Intervals (95%): tokens per pass over problems (the same rollouts
        for every drafter, so the work is paired), measured batch speedup over RL steps."""
        tokens, passes = self.total("tokens"), self.total("passes")
        drafted = self.total("drafted")
        baseline_makespan = self.total("makespan_passes", self.baseline)
        problems = sorted({p for e in self.epochs for p in e.problem_tokens})
        low, high = ratio_interval(
            [sum(e.problem_tokens.get(p, 0) for e in self.epochs) for p in problems],
            [sum(e.problem_passes.get(p, 0) for e in self.epochs) for p in problems],
        )
        stats = {
            "tokens_per_pass": tokens / passes,
            "tokens_per_pass_ci_low": low,
            "tokens_per_pass_ci_high": high,
            "final_tokens_per_pass": self.epochs[-1].tokens_per_pass,
            "acceptance_rate": self.total("accepted") / drafted if drafted else 0.0,
            "passes_per_rollout": passes / self.total("rollouts"),
            "makespan_passes": self.total("makespan_passes") / len(self.epochs),
            "makespan_reduction": 1 - self.total("makespan_passes") / baseline_makespan,
            "max_length": max(e.max_length for e in self.epochs),
            "median_length": float(np.median([e.median_length for e in self.epochs])),
            "drafter_seconds": self.total("drafter_seconds"),
            "mean_reward": self.total("mean_reward") / len(self.epochs),
        }
        if all(e.batch_seconds is not None for e in self.epochs + self.baseline):
            low, high = log_ratio_interval([b.batch_seconds / e.batch_seconds for b, e in zip(self.baseline, self.epochs)])
            stats.update(
                batch_seconds=self.total("batch_seconds"),
                batch_speedup=self.total("batch_seconds", self.baseline) / self.total("batch_seconds"),
                batch_speedup_ci_low=low,
                batch_speedup_ci_high=high,
            )
        if all(e.rollout_seconds is not None for e in self.epochs + self.baseline):
            stats.update(
                rollout_seconds=self.total("rollout_seconds"),
                speedup_vs_no_speculation=self.total("rollout_seconds", self.baseline) / self.total("rollout_seconds"),
            )
        return {name: value for name, value in stats.items() if math.isfinite(value)}


def summarize(metrics: List[EpochMetrics]) -> List[DrafterSummary]:
    names = list(dict.fromkeys(m.drafter for m in metrics))
    by_name = {name: [m for m in metrics if m.drafter == name] for name in names}
    return [DrafterSummary(name, by_name[name], by_name[names[0]]) for name in names]


def load_policy(model: str):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from helm_plugins.models.registration import TINY_DEFAULT_DIR

    path = TINY_DEFAULT_DIR if model == "tiny-default" else Path(model)
    if not Path(path).is_dir():
        raise FileNotFoundError(f"model {model!r}: no checkpoint folder {path}")
    return AutoModelForCausalLM.from_pretrained(path, local_files_only=True), AutoTokenizer.from_pretrained(
        path, local_files_only=True
    )


def plot(summaries: List[DrafterSummary], path: Path, title: str) -> None:
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 3, figsize=(15, 4))
    for summary in summaries:  # several seeds: the mean over seeds of each step
        epochs = sorted({e.epoch for e in summary.epochs})
        for axis, field in ((axes[0], "tokens_per_pass"), (axes[1], "makespan_passes")):
            values = [np.mean([getattr(e, field) for e in summary.epochs if e.epoch == epoch]) for epoch in epochs]
            axis.plot(epochs, values, "o-", label=summary.name)
    for axis in axes[:2]:
        axis.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    axes[0].set(xlabel="RL step", ylabel="accepted tokens per target pass", title="tokens per pass")
    axes[1].set(xlabel="RL step", ylabel="passes of the slowest rollout", title="batch makespan")
    names = [s.name for s in summaries]
    timings = {
        "batch_seconds": "lockstep batch wall time",
        "rollout_seconds": "rollout wall time (one at a time)",
        "drafter_seconds": "drafter time (replay)",
    }
    timed = next(f for f in timings if all(getattr(e, f) is not None for s in summaries for e in s.epochs))
    axes[2].bar(names, [s.total(timed) for s in summaries], color="tab:gray")
    axes[2].set(ylabel="seconds", title=timings[timed])
    axes[2].tick_params(axis="x", rotation=30)
    axes[0].legend(fontsize=8)
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def write_helm_runs(config: SpeculateConfig, summaries: List[DrafterSummary], mode: str, suite_dir: Path, plot_path: Path):
    import shutil

    run_dirs = []
    for summary in summaries:
        several = len(summary.seeds) > 1  # a replayed log may hold other seeds than the config names
        instances = [
            RunInstance(
                id=f"seed{e.seed}-epoch{e.epoch}" if several else f"epoch{e.epoch}",
                input=(f"{f'seed {e.seed}, ' if several else ''}RL step {e.epoch}: {e.rollouts} rollouts "
                       f"({config.problems} problems x {config.rollouts_per_problem})"),
                output=f"{e.tokens} tokens in {e.passes} passes, {e.accepted}/{e.drafted} draft tokens accepted",
                stats={name: getattr(e, name) for name in PER_EPOCH_STATS},
            )
            for e in summary.epochs
        ]
        model = f"helm-plugins/{config.model if config.model == 'tiny-default' else Path(config.model).name}+{summary.name}"
        record = RunRecord(
            name=f"hp_speculate:drafter={summary.name},temperature={config.temperature},mode={mode},model={model}",
            scenario_name="hp_speculate",
            scenario_description=(
                f"RL rollouts of synthetic arithmetic: {config.problems} problems x {config.rollouts_per_problem} "
                f"rollouts x {config.epochs} steps x {len(summary.seeds)} seed(s), decoded with drafter "
                f"'{summary.name}' (helm-plugins speculate)."
            ),
            scenario_class="helm_plugins.runners.speculative.runner.run_speculation",
            scenario_args={"drafter": summary.name, "temperature": config.temperature, "mode": mode},
            model=model,
            method="speculative_decoding",
            groups=[SPECULATIVE_GROUP],
            stats=[make_stat(name, value) for name, value in summary.stats().items()],
            instances=instances,
            max_tokens=config.max_new_tokens,
        )
        run_dir = write_run_directory(suite_dir, record)
        shutil.copy(plot_path, run_dir / "speculation.png")
        run_dirs.append(run_dir)
    return run_dirs


def run_speculation(
    config: SpeculateConfig,
    output_dir: Path,
    suite_dir: Optional[Path] = None,
    replay_file: Optional[Path] = None,
    progress: bool = True,
) -> List[DrafterSummary]:
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    pass_cost = None
    if replay_file is not None:
        records = [json.loads(line) for line in Path(replay_file).read_text().splitlines() if line.strip()]
        metrics, mode = replay(config, records), "replay"
    else:
        import torch

        from helm_plugins.synthetic.arithmetic import generate_arithmetic_problems
        from helm_plugins.synthetic.prompts import render_arithmetic_prompt

        if config.threads:
            torch.set_num_threads(config.threads)
        metrics = []
        for index, seed in enumerate(config.run_seeds):  # one RL run per seed: fresh policy, problems, updates
            run_config = config.for_seed(seed)
            torch.manual_seed(seed)
            model, tokenizer = load_policy(config.model)
            problems = generate_arithmetic_problems(config.problems, seed, split="test")
            prompts = [tokenizer.encode(render_arithmetic_prompt(problem)) for problem in problems]
            stop_tokens = [tokenizer.eos_token_id] + (tokenizer.encode("\n") if config.stop == "newline" else [])
            if config.token_cost_ratio is None and any(d.budget == "cost_model" for d in config.drafters):
                pass_cost = fit_pass_cost(model)  # the same policy architecture for every seed: fitted once
                config = config.model_copy(update={"token_cost_ratio": pass_cost[1] / pass_cost[0]})
                run_config = config.for_seed(seed)
            metrics += run_rollout_benchmark(
                run_config,
                model,
                prompts,
                [problem.answer for problem in problems],
                tokenizer.decode,
                stop_tokens,
                progress=progress,
                log_path=output_dir / "rollouts.jsonl",
                append_log=index > 0,
            )
        mode = "model"
    (output_dir / "config.json").write_text(json.dumps(config.model_dump(mode="json"), indent=2))
    summaries = summarize(metrics)
    history = {"pass_cost": pass_cost, "epochs": [m.as_dict() for m in metrics]}
    (output_dir / "history.json").write_text(json.dumps(history, indent=1))
    report = {  # the headline numbers (intervals over seeds with several) and each seed's own
        summary.name: {
            "stats": summary.stats(),
            "per_seed": {str(seed): _with_time_cut(summary.for_seed(seed).run_stats()) for seed in summary.seeds},
        }
        for summary in summaries
    }
    (output_dir / "summary.json").write_text(json.dumps(report, indent=1))
    plot_path = output_dir / "speculation.png"
    plot(summaries, plot_path, f"{config.run_name}: {mode}, temperature {config.temperature}")
    if suite_dir is not None:
        write_helm_runs(config, summaries, mode, Path(suite_dir), plot_path)
    return summaries
