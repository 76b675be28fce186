"""The ceiling report over a suite of structured-prompting runs (`helm-plugins ceiling --suite S`).

For each benchmark x model: HELM's baseline score and each method's score (an optimiser's runs with several seeds
are averaged per instance, and each seed's score is listed); the in-sample ceiling (max over the structured-prompting
methods, HELM's prompt excluded) with a bootstrap 95% CI that resamples instances and recomputes the max; the
cross-fitted ceiling (the method is chosen on one half of the instances and scored on the other, both ways, so the
choice cannot fit the noise it is scored on). The headline gain is that held-out ceiling − baseline, with a paired
bootstrap CI and an exact McNemar test; the in-sample gain is listed next to it. Prompt sensitivity (claim iv):
the range of the scores of the methods without reasoning (helm, predict) and of those with it (cot, bfrs, miprov2,
gepa), with bootstrap CIs and their paired difference. Failure rates (parse, request, optimisation); LM calls,
tokens and dollars per method, optimisation included. Per benchmark, Kendall's tau between the baseline and held-out
ceiling rankings of the models and the number of model pairs whose order flips. Markdown, JSON and PNG plots.
"""

import json
import math
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np
from scipy import stats

from helm_plugins.structured_prompting.benchmarks import get_benchmark
from helm_plugins.structured_prompting.run_specs import PLUMBING_GROUP

RUN_PREFIX = "hp_structured_prompting:"
METHOD_ORDER = ("helm", "predict", "cot", "bfrs", "miprov2", "gepa")
OPTIMISERS = ("bfrs", "miprov2", "gepa")
WITHOUT_REASONING = ("helm", "predict")  # HELM's fixed prompt and zero-shot Predict: no reasoning field
WITH_REASONING = ("cot", "bfrs", "miprov2", "gepa")  # chain of thought, optimised or not


def bootstrap_max(scores: np.ndarray, num_samples: int = 2000, seed: int = 0, level: float = 0.95
                  ) -> Tuple[float, float, float]:
    """Max over methods (rows) of the mean score over instances (columns), with a percentile bootstrap CI that
    resamples instances (the same draw for every method, as they share instances) and recomputes the max."""
    rng = np.random.default_rng(seed)
    n = scores.shape[1]
    draws = rng.integers(0, n, size=(num_samples, n))
    maxima = scores[:, draws].mean(axis=2).max(axis=0)
    tail = (1 - level) / 2
    return float(scores.mean(axis=1).max()), float(np.quantile(maxima, tail)), float(np.quantile(maxima, 1 - tail))


def bootstrap_gain(scores: np.ndarray, baseline: np.ndarray, num_samples: int = 2000, seed: int = 0,
                   level: float = 0.95) -> Tuple[float, float, float]:
    """(max over methods) - baseline with a paired bootstrap CI over instances."""
    rng = np.random.default_rng(seed)
    n = scores.shape[1]
    draws = rng.integers(0, n, size=(num_samples, n))
    gains = scores[:, draws].mean(axis=2).max(axis=0) - baseline[draws].mean(axis=1)
    tail = (1 - level) / 2
    return (float(scores.mean(axis=1).max() - baseline.mean()), float(np.quantile(gains, tail)),
            float(np.quantile(gains, 1 - tail)))


def cross_fitted_ceiling(scores: np.ndarray, seed: int = 0) -> Tuple[float, np.ndarray, List[int]]:
    """Choose the best method on one random half of the instances, score it on the other half, and swap.

    Returns the mean held-out score, the per-instance held-out scores and the method chosen on each half."""
    n = scores.shape[1]
    order = np.random.default_rng(seed).permutation(n)
    halves = [order[: n // 2], order[n // 2:]]
    held_out = np.empty(n)
    chosen = []
    for select, score in ((halves[0], halves[1]), (halves[1], halves[0])):
        best = int(np.argmax(scores[:, select].mean(axis=1)))  # ties keep the earlier method
        chosen.append(best)
        held_out[score] = scores[best, score]
    return float(held_out.mean()), held_out, chosen


def mcnemar_p(a: np.ndarray, b: np.ndarray) -> float:
    """Exact two-sided McNemar test of paired 0/1 outcomes (binomial test on the discordant pairs)."""
    a, b = np.asarray(a) > 0.5, np.asarray(b) > 0.5
    only_a, only_b = int(np.sum(a & ~b)), int(np.sum(~a & b))
    if only_a + only_b == 0:
        return 1.0
    return float(stats.binomtest(only_a, only_a + only_b, 0.5).pvalue)


def ranking_change(baseline: Dict[str, float], ceiling: Dict[str, float]) -> Tuple[Optional[float], int]:
    """Kendall's tau between two scorings of the same models, and the number of model pairs whose order flips
    (a strict order in one scoring that is reversed in the other)."""
    models = sorted(set(baseline) & set(ceiling))
    flips = sum(
        1 for x, y in combinations(models, 2)
        if (baseline[x] - baseline[y]) * (ceiling[x] - ceiling[y]) < 0
    )
    if len(models) < 2:
        return None, 0
    tau = stats.kendalltau([baseline[m] for m in models], [ceiling[m] for m in models]).statistic
    return (None if math.isnan(tau) else float(tau)), flips


@dataclass
class MethodRun:
    benchmark: str
    model: str
    method: str
    run: str
    scores: Dict[str, float]  # instance id -> main metric
    parse_failures: Dict[str, float]
    request_failures: Dict[str, float]
    optimisation_failures: Dict[str, float] = None  # type: ignore[assignment]
    seed: Optional[str] = None  # the optimiser seed (None for helm, predict, cot)
    lm_calls: float = 0.0
    tokens: Optional[float] = None
    cost: Optional[float] = None
    optimisation_calls: float = 0.0
    optimisation_tokens: Optional[float] = None
    optimisation_cost: Optional[float] = None


def _run_args(name: str) -> Dict[str, str]:
    return dict(part.split("=", 1) for part in name[len(RUN_PREFIX):].split(",") if "=" in part)


def read_runs(suite_dir: Path) -> List[MethodRun]:
    runs = []
    for run_spec_path in sorted(Path(suite_dir).glob("*/run_spec.json")):
        run_spec = json.loads(run_spec_path.read_text())
        if not run_spec["name"].startswith(RUN_PREFIX) or PLUMBING_GROUP in run_spec.get("groups", []):
            continue  # plumbing checks measure nothing: they stay out of the tables, as on the leaderboard
        args = _run_args(run_spec["name"])
        benchmark = get_benchmark(args["benchmark"])
        per_instance = json.loads((run_spec_path.parent / "per_instance_stats.json").read_text())
        values: Dict[str, Dict[str, float]] = {}
        for entry in per_instance:
            for stat in entry["stats"]:
                name = stat["name"]
                if name.get("perturbation") or name.get("split") != "test" or not stat.get("count"):
                    continue
                values.setdefault(name["name"], {})[entry["instance_id"]] = stat["sum"] / stat["count"]
        if benchmark.main_metric not in values:
            raise ValueError(f"{run_spec_path.parent}: no per-instance {benchmark.main_metric!r} (did the run finish?)")

        def total(metric: str, default=None):
            column = values.get(metric)
            return default if not column else float(sum(column.values()))

        def mean(metric: str, default=None):
            column = values.get(metric)
            return default if not column else float(np.mean(list(column.values())))

        tokens = None
        if values.get("sp_prompt_tokens") and values.get("sp_completion_tokens"):
            tokens = total("sp_prompt_tokens") + total("sp_completion_tokens")
        runs.append(MethodRun(
            benchmark=benchmark.name, model=run_spec["adapter_spec"]["model"], method=args["method"],
            run=run_spec_path.parent.name, scores=values[benchmark.main_metric],
            parse_failures=values.get("sp_parse_failure", {}), request_failures=values.get("sp_request_failure", {}),
            optimisation_failures=values.get("sp_optimisation_failure", {}),
            seed=args.get("seed") if args["method"] in OPTIMISERS else None,
            lm_calls=total("sp_lm_calls", 0.0), tokens=tokens, cost=total("sp_cost_usd"),
            optimisation_calls=mean("sp_optimisation_lm_calls", 0.0), optimisation_tokens=mean("sp_optimisation_tokens"),
            optimisation_cost=mean("sp_optimisation_cost_usd"),
        ))
    return runs


def difference_draws(a: np.ndarray, b: np.ndarray, num_samples: int = 2000, seed: int = 0) -> np.ndarray:
    """Bootstrap draws of mean(a − b) over paired instances."""
    rng = np.random.default_rng(seed)
    difference = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    return difference[rng.integers(0, len(difference), size=(num_samples, len(difference)))].mean(axis=1)


def bootstrap_mean_difference(a: np.ndarray, b: np.ndarray, num_samples: int = 2000, seed: int = 0,
                              level: float = 0.95) -> Tuple[float, float, float]:
    """mean(a − b) over paired instances, with a percentile bootstrap CI."""
    draws = difference_draws(a, b, num_samples, seed)
    tail = (1 - level) / 2
    observed = float(np.mean(np.asarray(a, dtype=float) - np.asarray(b, dtype=float)))
    return observed, float(np.quantile(draws, tail)), float(np.quantile(draws, 1 - tail))


def sensitivity(matrix: np.ndarray, methods: List[str], num_samples: int, seed: int, level: float = 0.95) -> dict:
    """Claim (iv) of the paper: prompt sensitivity (the range of the methods' mean scores) without reasoning (helm,
    predict) and with it (cot and the optimisers), each with a percentile bootstrap CI over instances, and the
    difference with − without (the same resamples, so it is paired)."""
    n = matrix.shape[1]
    means = matrix[:, np.random.default_rng(seed).integers(0, n, size=(num_samples, n))].mean(axis=2)
    tail = (1 - level) / 2
    result: dict = {}
    draws = {}
    for label, family in (("without_reasoning", WITHOUT_REASONING), ("with_reasoning", WITH_REASONING)):
        rows = [methods.index(m) for m in family if m in methods]
        entry = {"methods": [methods[r] for r in rows], "range": None, "range_ci": [None, None]}
        if len(rows) >= 2:
            draws[label] = np.ptp(means[rows], axis=0)
            entry.update(range=float(np.ptp(matrix[rows].mean(axis=1))),
                         range_ci=[float(np.quantile(draws[label], tail)), float(np.quantile(draws[label], 1 - tail))])
        result[label] = entry
    result["difference"], result["difference_ci"] = None, [None, None]
    if len(draws) == 2:
        difference = draws["with_reasoning"] - draws["without_reasoning"]
        result["difference"] = result["with_reasoning"]["range"] - result["without_reasoning"]["range"]
        result["difference_ci"] = [float(np.quantile(difference, tail)), float(np.quantile(difference, 1 - tail))]
    return result


def _average_seeds(runs: List[MethodRun]) -> Tuple[Dict[str, float], Dict[str, float]]:
    """Per instance, the mean over the runs of one method (its optimiser seeds) on the instances all of them
    answered; and each seed's own mean score."""
    shared = sorted(set.intersection(*(set(r.scores) for r in runs)))
    averaged = {i: float(np.mean([r.scores[i] for r in runs])) for i in shared}
    per_seed = {str(r.seed): float(np.mean([r.scores[i] for i in shared])) if shared else float("nan") for r in runs}
    return averaged, per_seed


def _cell(benchmark: str, model: str, runs: List[MethodRun], num_samples: int, seed: int) -> dict:
    grouped: Dict[str, List[MethodRun]] = {}
    for run in sorted(runs, key=lambda r: (METHOD_ORDER.index(r.method), str(r.seed))):
        grouped.setdefault(run.method, []).append(run)
    methods = list(grouped)
    averaged = {m: _average_seeds(rs) for m, rs in grouped.items()}
    instances = sorted(set.intersection(*(set(a[0]) for a in averaged.values())))
    if not instances:
        raise ValueError(f"{benchmark} / {model}: the methods' runs share no evaluation instance")
    matrix = np.array([[averaged[m][0][i] for i in instances] for m in methods])
    means = dict(zip(methods, matrix.mean(axis=1).tolist()))

    def rate(m: str, field: str) -> float:
        values = [v for r in grouped[m] for v in (getattr(r, field) or {}).values()]
        return float(np.mean(values or [0.0]))

    def total(m: str, field: str):
        values = [getattr(r, field) for r in grouped[m]]
        return None if any(v is None for v in values) else float(np.mean(values))

    structured = [k for k, m in enumerate(methods) if m != "helm"]  # the ceiling is over structured prompting
    cell = {
        "benchmark": benchmark, "model": model, "instances": len(instances), "scores": means,
        "seeds": {m: averaged[m][1] for m in methods if m in OPTIMISERS},
        "parse_failure_rate": {m: rate(m, "parse_failures") for m in methods},
        "request_failure_rate": {m: rate(m, "request_failures") for m in methods},
        "optimisation_failure_rate": {m: rate(m, "optimisation_failures") for m in methods},
        "cost": {m: {"lm_calls": total(m, "lm_calls"), "tokens": total(m, "tokens"), "usd": total(m, "cost"),
                     "optimisation_lm_calls": total(m, "optimisation_calls"),
                     "optimisation_tokens": total(m, "optimisation_tokens"),
                     "optimisation_usd": total(m, "optimisation_cost")} for m in methods},
        "baseline": means.get("helm"),
        "sensitivity_range": float(matrix.mean(axis=1).max() - matrix.mean(axis=1).min()),
        "sensitivity_std": float(matrix.mean(axis=1).std(ddof=0)),
        "sensitivity": sensitivity(matrix, methods, num_samples, seed),
    }
    cell["scores_ci"] = {m: list(bootstrap_max(matrix[k: k + 1], num_samples, seed)[1:]) for k, m in enumerate(methods)}
    cell.update({"ceiling": None, "ceiling_ci": [None, None], "ceiling_method": None, "selected_ceiling": None,
                 "selected_methods": [], "gain": None, "gain_ci": [None, None], "in_sample_gain": None,
                 "in_sample_gain_ci": [None, None], "selected_vs_baseline_p": None})
    if structured:
        sub = matrix[structured]
        ceiling, low, high = bootstrap_max(sub, num_samples, seed)
        selected, held_out, chosen = cross_fitted_ceiling(sub, seed)
        cell.update({"ceiling": ceiling, "ceiling_ci": [low, high],
                     "ceiling_method": methods[structured[int(np.argmax(sub.mean(axis=1)))]],
                     "selected_ceiling": selected, "selected_methods": [methods[structured[c]] for c in chosen]})
        if "helm" in grouped:
            baseline = matrix[methods.index("helm")]
            gain, gain_low, gain_high = bootstrap_mean_difference(held_out, baseline, num_samples, seed)
            in_sample, in_low, in_high = bootstrap_gain(sub, baseline, num_samples, seed)
            cell.update({"gain": gain, "gain_ci": [gain_low, gain_high], "in_sample_gain": in_sample,
                         "in_sample_gain_ci": [in_low, in_high], "selected_vs_baseline_p": mcnemar_p(held_out, baseline),
                         "_gain_draws": difference_draws(held_out, baseline, num_samples, seed)})
    return cell


def model_summary(cells: List[dict]) -> Dict[str, dict]:
    """Per model, over the benchmarks with a baseline: the mean held-out gain with a bootstrap CI (each benchmark's
    instances resampled independently), the mean in-sample gain, and the spread of scores across benchmarks."""
    summary = {}
    for model in sorted({c["model"] for c in cells}):
        mine = [c for c in cells if c["model"] == model and c["gain"] is not None]
        if mine:
            draws = np.mean([c["_gain_draws"] for c in mine], axis=0)
            summary[model] = {
                "benchmarks": len(mine),
                "mean_gain": float(np.mean([c["gain"] for c in mine])),
                "mean_gain_ci": [float(np.quantile(draws, 0.025)), float(np.quantile(draws, 0.975))],
                "mean_in_sample_gain": float(np.mean([c["in_sample_gain"] for c in mine])),
                "baseline_std_across_benchmarks": float(np.std([c["baseline"] for c in mine])),
                "ceiling_std_across_benchmarks": float(np.std([c["selected_ceiling"] for c in mine])),
            }
    return summary


def ceiling_report(suite_dir: Path, num_samples: int = 2000, seed: int = 0) -> dict:
    runs = read_runs(suite_dir)
    if not runs:
        raise ValueError(f"no {RUN_PREFIX.rstrip(':')} runs in {suite_dir}")
    groups: Dict[Tuple[str, str], List[MethodRun]] = {}
    for run in runs:
        groups.setdefault((run.benchmark, run.model), []).append(run)
    cells = [_cell(b, m, rs, num_samples, seed) for (b, m), rs in sorted(groups.items())]
    rankings = {}
    for benchmark in sorted({c["benchmark"] for c in cells}):
        with_baseline = [c for c in cells if c["benchmark"] == benchmark and c["baseline"] is not None
                         and c["selected_ceiling"] is not None]
        tau, flips = ranking_change({c["model"]: c["baseline"] for c in with_baseline},
                                    {c["model"]: c["selected_ceiling"] for c in with_baseline})
        rankings[benchmark] = {"models": len(with_baseline), "kendall_tau": tau, "rank_flips": flips}
    summary = model_summary(cells)
    for cell in cells:
        cell.pop("_gain_draws", None)
    return {"suite_dir": str(suite_dir), "bootstrap_samples": num_samples, "seed": seed, "cells": cells,
            "rankings": rankings, "models": summary,
            "benchmarks_with_rank_flips": sum(1 for r in rankings.values() if r["rank_flips"] > 0)}


def _pct(value) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def _num(value) -> str:
    return "–" if value is None else f"{value:,.0f}"


def _usd(value) -> str:
    return "n/a" if value is None else f"${value:.4f}"


def render_markdown(report: dict) -> str:
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("helm_plugins.structured_prompting", "templates"),
    )
    environment.globals.update(pct=_pct, num=_num, usd=_usd)
    return environment.get_template("ceiling.md.j2").render(report=report)


def plot_report(report: dict, output: Path) -> List[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    for benchmark in sorted({c["benchmark"] for c in report["cells"]}):
        cells = [c for c in report["cells"] if c["benchmark"] == benchmark]
        methods = [m for m in METHOD_ORDER if any(m in c["scores"] for c in cells)]
        figure, axis = plt.subplots(figsize=(1.5 + 1.2 * len(methods) * max(1, len(cells)) / 2, 3.6))
        width = 0.8 / len(cells)
        for k, cell in enumerate(cells):
            xs = [i + k * width for i, m in enumerate(methods) if m in cell["scores"]]
            present = [m for m in methods if m in cell["scores"]]
            values = [100 * cell["scores"][m] for m in present]
            errors = np.array([[100 * (cell["scores"][m] - cell["scores_ci"][m][0]) for m in present],
                               [100 * (cell["scores_ci"][m][1] - cell["scores"][m]) for m in present]])
            axis.bar(xs, values, width, yerr=errors, capsize=3, label=cell["model"])
        axis.set_xticks([i + 0.4 - width / 2 for i in range(len(methods))], methods)
        axis.set_ylabel("score (%)")
        axis.set_title(f"{benchmark}: methods with 95% bootstrap CIs")
        axis.legend(fontsize=7)
        figure.tight_layout()
        path = output / f"methods_{benchmark}.png"
        figure.savefig(path, dpi=110)
        plt.close(figure)
        paths.append(path)
    ranked = [c for c in report["cells"] if c["baseline"] is not None and c["selected_ceiling"] is not None]
    if ranked:
        figure, axis = plt.subplots(figsize=(5, 3.8))
        for cell in ranked:
            axis.plot([0, 1], [100 * cell["baseline"], 100 * cell["selected_ceiling"]], marker="o")
            axis.annotate(f"{cell['benchmark']} / {cell['model'].split('/')[-1]}", (1, 100 * cell["selected_ceiling"]),
                          fontsize=6, xytext=(4, 0), textcoords="offset points")
        axis.set_xticks([0, 1], ["HELM baseline", "held-out ceiling"])
        axis.set_xlim(-0.2, 1.9)
        axis.set_ylabel("score (%)")
        axis.set_title("Ranking change: baseline to ceiling")
        figure.tight_layout()
        path = output / "ranking_change.png"
        figure.savefig(path, dpi=110)
        plt.close(figure)
        paths.append(path)
    return paths


def write_report(suite_dir: Path, output: Path, num_samples: int = 2000, seed: int = 0) -> Tuple[dict, List[Path]]:
    report = ceiling_report(suite_dir, num_samples, seed)
    output.mkdir(parents=True, exist_ok=True)
    (output / "ceiling.json").write_text(json.dumps(report, indent=2))
    (output / "ceiling.md").write_text(render_markdown(report))
    plots = plot_report(report, output)
    return report, [output / "ceiling.json", output / "ceiling.md", *plots]
