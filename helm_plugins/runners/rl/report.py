"""The study's report: per task x arm tables with intervals over seeds, the ablation in the paper's terms (relative
change of the final score against the full method), curves of score and action duration over training, and the
HELM runs (group hp_rl_mle)."""

import math
import shutil
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from helm_plugins.common.results import RunInstance, RunRecord, make_stat, write_run_directory

GROUP = "hp_rl_mle"
MODEL = "helm-plugins/rl-mle-component-policy"  # + "+<arm>": one leaderboard row per arm (averaged over tasks)
RUN_STATS = {  # HELM stat -> per-seed field of the summary
    "rl_best_of_n_score": "best_of_n",
    "rl_late_score": "late_score",
    "rl_action_seconds": "late_duration_s",
    "rl_failure_rate": "late_failure_rate",
    "rl_completions_per_step": "completions_per_step",
}


def interval(values: Sequence[Optional[float]], level: float = 0.95, bounds=(-math.inf, math.inf)) -> Dict[str, Any]:
    """Mean and Student-t interval over seeds, clipped to `bounds` (None bounds with fewer than two values)."""
    from helm_plugins.common.intervals import t_interval

    values = [float(v) for v in values if v is not None and math.isfinite(v)]
    if not values:
        return {"mean": None, "low": None, "high": None, "n": 0}
    mean = float(np.mean(values))
    if len(values) < 2:
        return {"mean": mean, "low": None, "high": None, "n": 1}
    low, high = t_interval(values, level)
    return {"mean": mean, "low": max(low, bounds[0]), "high": min(high, bounds[1]), "n": len(values)}


def fmt(value: Dict[str, Any], digits: int = 3) -> str:
    if value["mean"] is None:
        return "n/a"
    if value["low"] is None:
        return f"{value['mean']:.{digits}f}"
    return f"{value['mean']:.{digits}f} [{value['low']:.{digits}f}, {value['high']:.{digits}f}]"


def late_mean(values: List[Optional[float]]) -> Optional[float]:
    tail = [v for v in values[-max(1, len(values) // 4):] if v is not None]
    return float(np.mean(tail)) if tail else None


def reference_arm(config) -> str:
    full = [a.name for a in config.arms if a.duration_weighting and a.instrumentation]
    return full[0] if full else config.arms[-1].name


def summarize(config, runs: Dict[str, Dict[str, Any]], tables: Dict[str, Dict[str, Dict[str, Any]]]) -> Dict[str, Any]:
    per_seed = []
    tasks = [t for t in dict.fromkeys(key.split("|")[0] for key in runs)]
    for key, state in runs.items():
        if not state.get("done"):
            continue
        task, arm, seed = key.split("|")
        history = state["history"]
        per_seed.append({
            "task": task, "arm": arm, "seed": int(seed),
            "best_of_n": state["best_of_n"]["score"], "best_program": state["best_of_n"]["best_program"],
            "late_score": late_mean([h.get("mean_score") for h in history]),
            "late_duration_s": late_mean([h.get("mean_duration_s") for h in history]),
            "late_failure_rate": late_mean([h.get("failure_rate") for h in history]),
            "completions_per_step": float(np.mean([h["completions"] for h in history])),
            "policy_score": history[-1].get("policy_score"), "policy_duration_s": history[-1].get("policy_duration_s"),
            "final_mode": state.get("final_mode"), "dropped_actions": state.get("dropped_actions", 0),
            "cut_actions": int(sum(h["cut"] for h in history)),
        })
    arms = [a.name for a in config.arms]
    table = []
    for task in tasks:
        for arm in arms:
            rows = [r for r in per_seed if r["task"] == task and r["arm"] == arm]
            if not rows:
                continue
            entry = {"task": task, "arm": arm, "seeds": [r["seed"] for r in rows]}
            for field in ("best_of_n", "late_score", "late_duration_s", "late_failure_rate", "completions_per_step",
                          "policy_score", "policy_duration_s"):
                entry[field] = interval([r[field] for r in rows], bounds=(0.0, 1.0) if field == "late_failure_rate"
                                        else (-math.inf, math.inf))
            table.append(entry)
    reference = reference_arm(config)
    ablation = []
    for arm in arms:
        if arm == reference:
            continue
        entry = {"arm": arm, "reference": reference}
        for field in ("best_of_n", "late_score"):
            changes = []
            for seed in config.seeds:  # paired by seed (same initial RNG), averaged over tasks
                gains = []
                for task in tasks:
                    mine = [r[field] for r in per_seed if (r["task"], r["arm"], r["seed"]) == (task, arm, seed)]
                    ref = [r[field] for r in per_seed if (r["task"], r["arm"], r["seed"]) == (task, reference, seed)]
                    if mine and ref and mine[0] is not None and ref[0] not in (None, 0.0):
                        gains.append((mine[0] - ref[0]) / abs(ref[0]))
                if gains:
                    changes.append(100.0 * float(np.mean(gains)))
            entry[f"relative_{field}_pct"] = interval(changes)
        ablation.append(entry)
    curves: Dict[str, Dict[str, Dict[str, List[List[Optional[float]]]]]] = {}
    for key, state in runs.items():
        task, arm, _ = key.split("|")
        arm_curves = curves.setdefault(task, {}).setdefault(arm, {"mean_score": [], "mean_duration_s": [],
                                                                  "policy_score": [], "policy_duration_s": []})
        for field in arm_curves:
            arm_curves[field].append([h.get(field) for h in state.get("history", [])])
    programs = {task: sorted(({"program": k, **{f: o.get(f) for f in ("status", "score", "raw_score", "markers",
                                                                        "duration_s", "wall_s", "reason")}}
                              for k, o in table_.items()), key=lambda p: p["duration_s"])
                for task, table_ in tables.items()}
    return {"config": config.model_dump(mode="json"), "reference_arm": reference, "tasks": tasks, "arms": arms,
            "runs": per_seed, "table": table, "ablation": ablation, "curves": curves, "programs": programs}


def write_report(summary: Dict[str, Any], output_dir: Path) -> None:
    config = summary["config"]
    lines = [f"# RL for ML-engineering agents: {config['run_name']}", "",
             f"Tasks {', '.join(summary['tasks'])}; {len(config['seeds'])} seeds; {config['steps']} learner steps of "
             f"{config['window_s']:g} s episodes with {config['actors']} actors ({config['clock']} clock, "
             f"{config['duration']} seconds); best-of-{config['best_of']} at the end. Intervals: 95% Student t over "
             "seeds.", "",
             "| task | arm | best-of-N score | late score | action seconds | failure rate | policy mode (seed 0) |",
             "|---|---|---|---|---|---|---|"]
    for row in summary["table"]:
        mode = next((r["final_mode"] for r in summary["runs"] if r["task"] == row["task"] and r["arm"] == row["arm"]),
                    None)
        lines.append(f"| {row['task']} | {row['arm']} | {fmt(row['best_of_n'])} | {fmt(row['late_score'])} | "
                     f"{fmt(row['late_duration_s'], 2)} | {fmt(row['late_failure_rate'], 2)} | "
                     f"{'/'.join(mode.values()) if mode else ''} |")
    lines += ["", f"Ablation against `{summary['reference_arm']}` (relative change averaged over tasks, paired by "
              "seed; "
              "the paper: -3.85% without duration weighting, -22% without instrumentation):", "",
              "| arm | best-of-N change % | late-score change % |", "|---|---|---|"]
    for row in summary["ablation"]:
        lines.append(f"| {row['arm']} | {fmt(row['relative_best_of_n_pct'], 1)} | "
                     f"{fmt(row['relative_late_score_pct'], 1)} |")
    if summary["programs"]:
        lines += ["", "Measured programs (normalised score: 0 = constant baseline, 1 = gradient-boosting "
                  "reference):", ""]
        for task, programs in summary["programs"].items():
            lines += [f"**{task}**", "", "| program | status | score | markers | seconds |", "|---|---|---|---|---|"]
            for p in programs:
                score = f"{p['score']:.3f}" if p["score"] is not None else "-"
                lines.append(f"| {p['program']} | {p['status']} | {score} | {p['markers']} | {p['duration_s']:.2f} |")
            lines.append("")
    (Path(output_dir) / "study.md").write_text("\n".join(lines) + "\n")
    plot_curves(summary, Path(output_dir) / "curves.png")


def _band(axis, values: List[List[Optional[float]]], label: str) -> None:
    if not values or not values[0]:
        return
    matrix = np.array([[np.nan if v is None else v for v in seed] for seed in values], dtype=float)
    steps = np.arange(1, matrix.shape[1] + 1)
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mean, low, high = np.nanmean(matrix, 0), np.nanmin(matrix, 0), np.nanmax(matrix, 0)
    line, = axis.plot(steps, mean, label=label)
    axis.fill_between(steps, low, high, color=line.get_color(), alpha=0.15)


def plot_curves(summary: Dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = summary["tasks"]
    figure, axes = plt.subplots(len(tasks), 2, figsize=(11, 3.2 * len(tasks)), squeeze=False)
    for row, task in zip(axes, tasks):
        for arm in summary["arms"]:
            curves = summary["curves"].get(task, {}).get(arm)
            if curves:
                _band(row[0], curves["mean_score"], arm)
                _band(row[1], curves["mean_duration_s"], arm)
        row[0].set(title=f"{task}: score of finished actions", xlabel="learner step",
                   ylabel="normalised score (failures 0)")
        row[1].set(title=f"{task}: mean action duration", xlabel="learner step",
                   ylabel=f"{summary['config']['duration']} seconds")
        row[0].legend(fontsize=7)
    figure.suptitle(f"{summary['config']['run_name']}: mean over seeds, band = min..max")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def write_helm_runs(config, summary: Dict[str, Any], suite_dir: Path, output_dir: Path) -> List[Path]:
    run_dirs = []
    for row in summary["table"]:
        arm = next(a for a in config.arms if a.name == row["arm"])
        seeds = [r for r in summary["runs"] if r["task"] == row["task"] and r["arm"] == row["arm"]]
        instances = [
            RunInstance(
                id=f"seed{r['seed']}",
                input=f"task {row['task']}, arm {arm.name}, seed {r['seed']}: {config.steps} learner steps",
                output=f"best program {r['best_program']}; policy mode {'/'.join((r['final_mode'] or {}).values())}",
                stats={stat: (r[field] if r[field] is not None else 0.0) for stat, field in RUN_STATS.items()},
            )
            for r in seeds
        ]
        stats = [make_stat(stat, [(r[field] if r[field] is not None else 0.0) for r in seeds])
                 for stat, field in RUN_STATS.items()]
        model = f"{MODEL}+{arm.name}"
        record = RunRecord(
            name=f"{GROUP}:task={row['task']},arm={arm.name},model={model.replace('/', '_')}",
            scenario_name=GROUP,
            scenario_description=(
                f"RL of a program policy on the MLE task {row['task']} (arm {arm.name}: duration weighting "
                f"{'on' if arm.duration_weighting else 'off'}, instrumentation "
                f"{'on' if arm.instrumentation else 'off'}, "
                f"{arm.advantage} advantages), {len(seeds)} seeds (helm-plugins rl-mle, {output_dir})."),
            scenario_class="helm_plugins.runners.rl.study.run_study",
            scenario_args={"task": row["task"], "arm": arm.name},
            model=model,
            method="rl_mle",
            groups=[GROUP],
            stats=stats,
            instances=instances,
        )
        run_dir = write_run_directory(suite_dir, record)
        if (Path(output_dir) / "curves.png").is_file():
            shutil.copy(Path(output_dir) / "curves.png", run_dir / "curves.png")
        run_dirs.append(run_dir)
    return run_dirs
