"""HAL's leaderboard over finished runs: accuracy–cost frontiers per benchmark, frontier counts, the token frontier,
reasoning-effort comparisons, flag rates with flagged tasks, plots, and frontier runs for helm-summarize.

Frontier (HAL's leaderboard code): sort the runs' (cost, accuracy) points by cost then accuracy, keep the upper
convex hull (monotone chain), then drop every hull point that another point dominates (cost ≤ and accuracy ≥, one
strictly). Runs whose cost is unknown are left out of the dollar frontier and listed as such. Accuracy intervals
are percentile bootstraps over tasks; an effort comparison's Δ interval is a paired bootstrap over the same tasks.
"""

import json
import math
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from helm_plugins.agents.hal.flags import FLAGS
from helm_plugins.common.results import RunInstance, RunRecord, make_stat, write_run_directory

BOOTSTRAP_SAMPLES = 2000


def cross(o, a, b) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def upper_hull(points: Sequence[Tuple[float, float]]) -> List[Tuple[float, float]]:
    """Upper convex hull of (x, y) points by the monotone chain, left to right."""
    hull: List[Tuple[float, float]] = []
    for p in sorted(set(points)):
        while len(hull) >= 2 and cross(hull[-2], hull[-1], p) >= 0:
            hull.pop()
        hull.append(p)
    return hull


def pareto_frontier(points: Sequence[Tuple[float, float]]) -> List[Tuple[float, float]]:
    """HAL's frontier of (cost, accuracy): the upper convex hull without dominated points."""
    hull = upper_hull(points)
    return [p for p in hull if not any(q[0] <= p[0] and q[1] >= p[1] and q != p for q in points)]


def bootstrap_interval(values: Sequence[float], seed: int = 0, samples: int = BOOTSTRAP_SAMPLES,
                       statistic=np.mean) -> Tuple[float, float]:
    values = np.asarray(values, dtype=float)
    if len(values) == 0:
        return (math.nan, math.nan)
    rng = np.random.default_rng(seed)
    draws = statistic(values[rng.integers(0, len(values), size=(samples, len(values)))], axis=1)
    return float(np.percentile(draws, 2.5)), float(np.percentile(draws, 97.5))


@dataclass
class RunSummary:
    run: str
    benchmark: str
    agent: str
    model: str
    effort: str
    label: str
    num_tasks: int
    accuracy: float
    accuracy_ci: Tuple[float, float]
    total_cost_usd: Optional[float]
    cost_ci: Tuple[float, float]
    total_tokens: float
    wall_time_s: float
    steps: float
    error_rate: float
    flag_rates: Dict[str, float]
    scores: Dict[str, float] = field(repr=False)
    flagged: List[dict] = field(default_factory=list, repr=False)
    on_cost_frontier: bool = False
    on_token_frontier: bool = False


def summarize_run(run_dir: Path, seed: int = 0) -> Optional[RunSummary]:
    spec = json.loads((run_dir / "run_spec.json").read_text())
    adapter = spec.get("adapter_spec", {})
    if not spec["name"].startswith("hp_hal:") or "hal_benchmark" not in adapter:
        return None
    state = json.loads((run_dir / "scenario_state.json").read_text())
    records = {rs["instance"]["id"]: rs["annotations"]["hal"] for rs in state["request_states"]}
    kwargs = json.loads(adapter.get("hal_agent_kwargs", "{}"))
    scores = {tid: float(r["score"]) for tid, r in records.items()}
    costs = [r["cost_usd"] for r in records.values()]
    unknown = any(c is None for c in costs)
    tokens = [sum(u["prompt_tokens"] + u["completion_tokens"] for u in r["usage"].values()) for r in records.values()]
    flagged = [{"task_id": tid, "flags": [f for f in FLAGS if r["flags"].get(f)],
                "evidence": {f: r.get("prefilter", {}).get(f, [])[:2] for f in FLAGS if r["flags"].get(f)},
                "judge": (r.get("judge") or {}).get("verdict")}
               for tid, r in records.items() if any(r["flags"].values())]
    values = list(scores.values())
    model = adapter.get("model", "")
    effort = str(kwargs.get("reasoning_effort", ""))
    return RunSummary(
        run=spec["name"], benchmark=adapter["hal_benchmark"], agent=adapter["hal_agent"], model=model, effort=effort,
        label=f"{model} | {adapter.get('instructions', '')}", num_tasks=len(records),
        accuracy=float(np.mean(values)) if values else math.nan, accuracy_ci=bootstrap_interval(values, seed),
        total_cost_usd=None if unknown else float(sum(costs)),
        cost_ci=(math.nan, math.nan) if unknown else bootstrap_interval(costs, seed, statistic=lambda a, axis: a.sum(axis=axis)),
        total_tokens=float(sum(tokens)), wall_time_s=float(sum(r["wall_s"] for r in records.values())),
        steps=float(np.mean([r["steps"] for r in records.values()])) if records else 0.0,
        error_rate=float(np.mean([bool(r["error_kind"]) for r in records.values()])) if records else 0.0,
        flag_rates={f: float(np.mean([r["flags"].get(f, 0) for r in records.values()])) for f in FLAGS},
        scores=scores, flagged=flagged,
    )


def mark_frontiers(runs: List[RunSummary]) -> Dict[str, List[str]]:
    """Set on_cost_frontier/on_token_frontier per benchmark; returns {benchmark: labels on the dollar frontier}."""
    frontiers: Dict[str, List[str]] = {}
    by_benchmark: Dict[str, List[RunSummary]] = defaultdict(list)
    for run in runs:
        by_benchmark[run.benchmark].append(run)
    for benchmark, group in by_benchmark.items():
        priced = [r for r in group if r.total_cost_usd is not None]
        cost_front = set(pareto_frontier([(r.total_cost_usd, r.accuracy) for r in priced]))
        token_front = set(pareto_frontier([(r.total_tokens, r.accuracy) for r in group]))
        for run in group:
            run.on_cost_frontier = run.total_cost_usd is not None and (run.total_cost_usd, run.accuracy) in cost_front
            run.on_token_frontier = (run.total_tokens, run.accuracy) in token_front
        frontiers[benchmark] = sorted(r.label for r in group if r.on_cost_frontier)
    return frontiers


def frontier_counts(runs: List[RunSummary], attribute: str = "on_cost_frontier") -> Dict[str, Tuple[int, int]]:
    """{label: (benchmarks whose frontier it is on, benchmarks it ran on)}."""
    counts: Dict[str, List[int]] = defaultdict(lambda: [0, 0])
    for run in runs:
        counts[run.label][0] += int(getattr(run, attribute))
        counts[run.label][1] += 1
    return {label: (on, total) for label, (on, total) in sorted(counts.items())}


EFFORT_ORDER = {"low": 0, "minimal": -1, "medium": 1, "high": 2}


def effort_comparisons(runs: List[RunSummary], seed: int = 0) -> List[dict]:
    """Δ accuracy (highest − lowest effort) per (benchmark, agent, model) that ran at two or more efforts."""
    groups: Dict[tuple, List[RunSummary]] = defaultdict(list)
    for run in runs:
        if run.effort in EFFORT_ORDER:
            groups[(run.benchmark, run.agent, run.model)].append(run)
    comparisons = []
    for (benchmark, agent, model), group in sorted(groups.items()):
        if len({r.effort for r in group}) < 2:
            continue
        low = min(group, key=lambda r: EFFORT_ORDER[r.effort])
        high = max(group, key=lambda r: EFFORT_ORDER[r.effort])
        shared = sorted(set(low.scores) & set(high.scores))
        diffs = [high.scores[t] - low.scores[t] for t in shared]
        delta = float(np.mean(diffs)) if diffs else math.nan
        comparisons.append({"benchmark": benchmark, "agent": agent, "model": model, "low": low.effort,
                            "high": high.effort, "delta_accuracy": delta, "delta_ci": bootstrap_interval(diffs, seed),
                            "delta_cost_usd": (None if high.total_cost_usd is None or low.total_cost_usd is None
                                               else high.total_cost_usd - low.total_cost_usd),
                            "tasks": len(shared)})
    return comparisons


def plot_frontiers(runs: List[RunSummary], out_dir: Path) -> List[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    benchmarks = sorted({r.benchmark for r in runs})
    if not benchmarks:
        return []
    fig, axes = plt.subplots(2, len(benchmarks), figsize=(5 * len(benchmarks), 8), squeeze=False)
    for column, benchmark in enumerate(benchmarks):
        group = [r for r in runs if r.benchmark == benchmark]
        for row, (axis_name, value, flag) in enumerate([("total cost (USD)", lambda r: r.total_cost_usd, "on_cost_frontier"),
                                                       ("total tokens", lambda r: r.total_tokens, "on_token_frontier")]):
            ax = axes[row][column]
            shown = [r for r in group if value(r) is not None]
            for run in shown:
                low, high = run.accuracy_ci
                ax.errorbar(value(run), run.accuracy, yerr=[[run.accuracy - low], [high - run.accuracy]], fmt="o",
                            color="tab:red" if getattr(run, flag) else "tab:gray", capsize=3)
                ax.annotate(run.label.split("| ")[-1] + "\n" + run.model.split("/")[-1], (value(run), run.accuracy),
                            fontsize=6, xytext=(3, 3), textcoords="offset points")
            front = sorted((value(r), r.accuracy) for r in shown if getattr(r, flag))
            if front:
                ax.plot(*zip(*front), "-", color="tab:red", label="frontier")
            ax.set_xscale("symlog", linthresh=max(1e-6, min([value(r) for r in shown if value(r)] or [1e-3])))
            ax.set_xlabel(axis_name)
            ax.set_ylabel("accuracy (95% CI)")
            ax.set_title(f"{benchmark}: accuracy vs {axis_name.split(' (')[0]}")
            ax.set_ylim(-0.05, 1.05)
    fig.tight_layout()
    path = out_dir / "frontiers.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]


def _fmt(value: Optional[float], digits: int = 4) -> str:
    return "unknown" if value is None else f"{value:.{digits}f}"


def render_markdown(runs: List[RunSummary], frontiers, counts, token_counts, efforts) -> str:
    lines = ["# HAL leaderboard", ""]
    for benchmark in sorted({r.benchmark for r in runs}):
        lines += [f"## {benchmark}", "", "| model / agent | tasks | accuracy [95% CI] | total cost USD [95% CI] | tokens | "
                  "errors | cost frontier | token frontier |", "|---|---|---|---|---|---|---|---|"]
        for r in sorted((r for r in runs if r.benchmark == benchmark), key=lambda r: -r.accuracy):
            cost = "unknown (no price)" if r.total_cost_usd is None else f"{r.total_cost_usd:.4f} [{r.cost_ci[0]:.4f}, {r.cost_ci[1]:.4f}]"
            lines.append(f"| {r.label} | {r.num_tasks} | {r.accuracy:.3f} [{r.accuracy_ci[0]:.3f}, {r.accuracy_ci[1]:.3f}] | "
                         f"{cost} | {r.total_tokens:.0f} | {r.error_rate:.2f} | {'yes' if r.on_cost_frontier else ''} | "
                         f"{'yes' if r.on_token_frontier else ''} |")
        lines.append("")
    lines += ["## Frontier counts (benchmarks on the frontier / benchmarks run)", "", "| model / agent | dollars | tokens |",
              "|---|---|---|"]
    lines += [f"| {label} | {on}/{total} | {token_counts[label][0]}/{token_counts[label][1]} |" for label, (on, total) in counts.items()]
    lines += ["", "## Reasoning effort (Δ accuracy = high − low, paired bootstrap 95% CI)", ""]
    if efforts:
        lines += ["| benchmark | agent | model | efforts | Δ accuracy [95% CI] | Δ cost USD |", "|---|---|---|---|---|---|"]
        lines += [f"| {e['benchmark']} | {e['agent']} | {e['model']} | {e['low']}→{e['high']} | {e['delta_accuracy']:+.3f} "
                  f"[{e['delta_ci'][0]:+.3f}, {e['delta_ci'][1]:+.3f}] | {_fmt(e['delta_cost_usd'])} |" for e in efforts]
        share = np.mean([e["delta_accuracy"] <= 0 for e in efforts])
        lines += ["", f"Higher effort did not raise accuracy in {sum(e['delta_accuracy'] <= 0 for e in efforts)} of "
                  f"{len(efforts)} comparisons ({share:.0%})."]
    else:
        lines.append("No model and agent ran at two reasoning efforts.")
    lines += ["", "## Trace flags (share of tasks)", "", "| run | " + " | ".join(FLAGS) + " |", "|---|" + "---|" * len(FLAGS)]
    lines += [f"| {r.benchmark}: {r.label} | " + " | ".join(f"{r.flag_rates[f]:.2f}" for f in FLAGS) + " |" for r in runs]
    lines += ["", "## Flagged tasks (first evidence line)", ""]
    for r in runs:
        for item in r.flagged[:3]:
            first = next((ev[0] for ev in item["evidence"].values() if ev), "")
            lines.append(f"- {r.benchmark} / {r.label} / {item['task_id']}: {', '.join(item['flags'])} — `{first[:160]}`")
    return "\n".join(lines) + "\n"


def write_frontier_runs(runs: List[RunSummary], suite_dir: Path) -> List[Path]:
    paths = []
    for run in runs:
        stats = [make_stat("accuracy", run.accuracy), make_stat("accuracy_ci_low", run.accuracy_ci[0]),
                 make_stat("accuracy_ci_high", run.accuracy_ci[1]), make_stat("on_cost_frontier", run.on_cost_frontier),
                 make_stat("on_token_frontier", run.on_token_frontier), make_stat("total_tokens", run.total_tokens),
                 make_stat("cost_unknown", run.total_cost_usd is None)]
        if run.total_cost_usd is not None:
            stats.append(make_stat("total_cost_usd", run.total_cost_usd))
        name = "hp_hal_frontier:" + run.run.split(":", 1)[1]
        record = RunRecord(
            name=name, scenario_name="hal_frontier", scenario_description="HAL accuracy–cost frontier",
            scenario_class="helm_plugins.agents.hal.report.Frontier", scenario_args={"benchmark": run.benchmark},
            model=run.model, method=run.label.split("| ", 1)[-1], groups=["hp_hal_frontier"], stats=stats,
            instances=[RunInstance(id=tid, input=tid, output=str(score), stats={"accuracy": score})
                       for tid, score in sorted(run.scores.items())],
        )
        paths.append(write_run_directory(suite_dir, record))
    return paths


def hal_report(suite_dir: Path, seed: int = 0, write_runs: bool = True) -> dict:
    suite_dir = Path(suite_dir)
    if not suite_dir.is_dir():
        raise FileNotFoundError(f"no suite folder {suite_dir} (run helm-run with --suite first)")
    runs = [s for d in sorted(suite_dir.iterdir()) if (d / "run_spec.json").is_file() and (d / "scenario_state.json").is_file()
            for s in [summarize_run(d, seed)] if s is not None]
    if not runs:
        raise ValueError(f"no HAL runs (hp_hal:...) in {suite_dir}")
    frontiers = mark_frontiers(runs)
    counts, token_counts = frontier_counts(runs), frontier_counts(runs, "on_token_frontier")
    efforts = effort_comparisons(runs, seed)
    out_dir = suite_dir.parent.parent / "hal_report" / suite_dir.name
    out_dir.mkdir(parents=True, exist_ok=True)
    plots = plot_frontiers(runs, out_dir)
    markdown = render_markdown(runs, frontiers, counts, token_counts, efforts)
    (out_dir / "leaderboard.md").write_text(markdown)
    report = {"runs": [{k: v for k, v in asdict(r).items() if k not in ("scores",)} for r in runs],
              "frontiers": frontiers, "frontier_counts": counts, "token_frontier_counts": token_counts,
              "effort_comparisons": efforts, "plots": [str(p) for p in plots]}
    (out_dir / "report.json").write_text(json.dumps(report, indent=2, default=str))
    if write_runs:
        write_frontier_runs(runs, suite_dir)
    report["markdown"] = markdown
    report["out_dir"] = str(out_dir)
    return report
