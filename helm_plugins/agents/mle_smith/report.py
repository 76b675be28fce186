"""`helm-plugins mle-report --suite S`: MLE-Smith's realism check over the suite's finished hp_mle_task runs.

The same agents ran on the hand-designed pool (group hp_mle_task_human) and on generated tasks (group
hp_mle_task_generated). Per pool: per-task battles decided by each task's metric, Elo by a Bradley-Terry fit with
bootstrap intervals over tasks, mean normalised score per agent. Between pools: Pearson, Spearman, Kendall tau-b,
CCC and top-k overlap of the agents' Elo, with bootstrap intervals. Writes report.json, leaderboard.md and
elo_agreement.png to <output>/mle_report/<suite>/, and hp_mle_elo / hp_mle_agreement runs into the suite so that
helm-summarize shows them.
"""

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np

from helm_plugins.agents.mle_smith.arena import agreement, elo
from helm_plugins.common.results import RunInstance, RunRecord, make_stat, write_run_directory

POOLS = ("human", "generated")


@dataclass
class AgentRun:
    run: str
    pool: str
    agent: str  # label: agent (+ skill) @ model
    model: str
    records: Dict[str, Dict[str, Any]] = field(default_factory=dict)  # task -> mle annotation


def read_runs(suite_dir: Path) -> List[AgentRun]:
    runs = []
    for run_dir in sorted(Path(suite_dir).iterdir()):
        spec_path, state_path = run_dir / "run_spec.json", run_dir / "scenario_state.json"
        if not (run_dir.name.startswith("hp_mle_task:") and spec_path.is_file() and state_path.is_file()):
            continue
        spec = json.loads(spec_path.read_text())
        groups = [g for g in spec.get("groups", []) if g.startswith("hp_mle_task_")]
        pool = groups[0].rsplit("_", 1)[-1] if groups else ""
        if pool not in POOLS:
            continue
        adapter = spec["adapter_spec"]
        model = adapter.get("model_deployment") or adapter.get("model", "")
        kwargs = json.loads(adapter.get("mle_agent_kwargs") or "{}")
        label = adapter.get("mle_agent", "?").split(":")[-1] + (f" skill={kwargs['skill']}" if "skill" in kwargs else "")
        if not model.startswith("simulated/"):
            label += f" @ {model}"
        run = AgentRun(run_dir.name, pool, label, model)
        for state in json.loads(state_path.read_text()).get("request_states", []):
            record = (state.get("annotations") or {}).get("mle")
            if record:
                run.records[record["task"]] = record
        runs.append(run)
    return runs


def oriented(record: Dict[str, Any]) -> Optional[float]:
    if not record["valid"] or record["raw_score"] is None:
        return None
    return record["raw_score"] if record["higher_is_better"] else -record["raw_score"]


def mean_interval(values: List[float], seed: int, draws: int = 1000) -> Dict[str, float]:
    values = np.asarray(values, float)
    rng = np.random.default_rng(seed)
    boot = values[rng.integers(0, len(values), (draws, len(values)))].mean(1) if len(values) else np.array([math.nan])
    return {"estimate": float(values.mean()) if len(values) else math.nan,
            "low": float(np.quantile(boot, 0.025)), "high": float(np.quantile(boot, 0.975))}


def mle_report(suite_dir: Path, seed: int = 0, bootstrap: int = 200, top_k: int = 3, write_runs: bool = True) -> dict:
    suite_dir = Path(suite_dir)
    if not suite_dir.is_dir():
        raise FileNotFoundError(f"no suite folder {suite_dir} (run helm-run with --suite first)")
    runs = read_runs(suite_dir)
    if not runs:
        raise ValueError(f"no hp_mle_task runs in {suite_dir}")
    pools: Dict[str, Any] = {}
    for pool in POOLS:
        pool_runs = [r for r in runs if r.pool == pool]
        if not pool_runs:
            continue
        agents = sorted({r.agent for r in pool_runs})
        scores: Dict[str, Dict[str, Optional[float]]] = {}
        normalised: Dict[str, List[float]] = {a: [] for a in agents}
        for run in pool_runs:
            for task, record in run.records.items():
                scores.setdefault(task, {})[run.agent] = oriented(record)
                normalised[run.agent].append(record["normalized"] if record["valid"] and record["normalized"] is not None
                                             else 0.0)
        result = elo(scores, agents, bootstrap=bootstrap, seed=seed)
        pools[pool] = {"elo": result, "tasks": sorted(scores),
                       "normalized": {a: mean_interval(v, seed) for a, v in normalised.items()}}
    agreement_stats = None
    if len(pools) == 2:
        agreement_stats = agreement(pools["human"]["elo"], pools["generated"]["elo"], k=top_k)
    out_dir = suite_dir.parent.parent / "mle_report" / suite_dir.name
    out_dir.mkdir(parents=True, exist_ok=True)
    agents = sorted({a for p in pools.values() for a in p["elo"].agents})
    table = []
    for agent in agents:
        row = {"agent": agent}
        for pool, data in pools.items():
            result = data["elo"]
            if agent in result.elo:
                row[pool] = {"elo": result.elo[agent], "low": result.low[agent], "high": result.high[agent],
                             "normalized": data["normalized"][agent]}
        table.append(row)
    report = {"suite": suite_dir.name, "agents": table, "agreement": agreement_stats,
              "pools": {p: {"tasks": d["tasks"], "battles": d["elo"].n_battles} for p, d in pools.items()},
              "bootstrap": bootstrap, "seed": seed}
    plot = plot_agreement(table, agreement_stats, out_dir / "elo_agreement.png")
    report["plot"] = str(plot) if plot else None
    markdown = render_markdown(report)
    (out_dir / "leaderboard.md").write_text(markdown)
    (out_dir / "report.json").write_text(json.dumps(report, indent=2, default=float))
    if write_runs:
        write_report_runs(report, suite_dir)
    report["markdown"], report["out_dir"] = markdown, str(out_dir)
    return report


def _fmt(entry: Dict[str, float], digits: int = 3) -> str:
    return f"{entry['estimate']:.{digits}f} [{entry['low']:.{digits}f}, {entry['high']:.{digits}f}]"


def render_markdown(report: dict) -> str:
    lines = [f"# MLE-Smith realism check — suite {report['suite']}", ""]
    for pool, info in report["pools"].items():
        lines.append(f"- {pool} pool: {len(info['tasks'])} tasks ({', '.join(info['tasks'])}), {info['battles']} battles")
    lines += ["", "## Elo (Bradley–Terry over per-task battles; 95% bootstrap interval over tasks)", "",
              "| agent | Elo human | Elo generated | normalised score human | normalised score generated |",
              "|---|---|---|---|---|"]
    for row in sorted(report["agents"], key=lambda r: -r.get("human", {}).get("elo", -1e9)):
        cells = []
        for pool in POOLS:
            e = row.get(pool)
            cells.append(f"{e['elo']:.0f} [{e['low']:.0f}, {e['high']:.0f}]" if e else "–")
        for pool in POOLS:
            e = row.get(pool)
            cells.append(_fmt(e["normalized"], 2) if e else "–")
        lines.append(f"| {row['agent']} | " + " | ".join(cells) + " |")
    lines += ["", "## Agreement between the pools' Elo (95% bootstrap interval)", ""]
    if report["agreement"]:
        lines += ["| statistic | value |", "|---|---|"]
        lines += [f"| {name} | {_fmt(value)} |" for name, value in report["agreement"].items()]
    else:
        lines.append("Only one pool has runs: no agreement to compute.")
    return "\n".join(lines) + "\n"


def plot_agreement(table: List[dict], stats: Optional[dict], path: Path) -> Optional[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in table if "human" in r and "generated" in r]
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(6, 5))
    for number, row in enumerate(rows):
        h, g = row["human"], row["generated"]
        ax.errorbar(h["elo"], g["elo"], xerr=[[h["elo"] - h["low"]], [h["high"] - h["elo"]]],
                    yerr=[[g["elo"] - g["low"]], [g["high"] - g["elo"]]], fmt="o", capsize=3)
        ax.annotate(row["agent"], (h["elo"], g["elo"]), textcoords="offset points", fontsize=8,
                    xytext=(6, 6 - 12 * (number % 2)))  # alternate sides: agents with equal ratings stay legible
    values = [v for r in rows for v in (r["human"]["elo"], r["generated"]["elo"])]
    lo, hi = min(values) - 50, max(values) + 50
    ax.plot([lo, hi], [lo, hi], "--", color="grey", linewidth=1)
    ax.set_xlabel("Elo on hand-designed tasks")
    ax.set_ylabel("Elo on generated tasks")
    title = "MLE-Smith realism check"
    if stats:
        title += f"\nPearson {stats['pearson']['estimate']:.3f} [{stats['pearson']['low']:.3f}, {stats['pearson']['high']:.3f}]"
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def write_report_runs(report: dict, suite_dir: Path) -> List[Path]:
    paths = []
    for row in report["agents"]:
        stats, instances = [], []
        for pool in POOLS:
            if pool in row:
                e = row[pool]
                stats += [make_stat(f"elo_{pool}", e["elo"]), make_stat(f"elo_{pool}_low", e["low"]),
                          make_stat(f"elo_{pool}_high", e["high"]),
                          make_stat(f"normalized_score_{pool}", e["normalized"]["estimate"])]
                instances.append(RunInstance(id=pool, input=f"{pool} pool", output=f"Elo {e['elo']:.0f}",
                                             stats={f"elo_{pool}": e["elo"]}))
        if not all(pool in row for pool in POOLS):
            continue  # the group's columns need both pools
        agent = row["agent"].replace(" ", "_").replace("@", "").replace("/", "_")
        paths.append(write_run_directory(suite_dir, RunRecord(
            name=f"hp_mle_elo:agent={agent}", scenario_name="mle_elo",
            scenario_description="Arena Elo of an agent on hand-designed and generated MLE tasks",
            scenario_class="helm_plugins.agents.mle_smith.report.Elo", scenario_args={"agent": row["agent"]},
            model="simulated/scripted", method=row["agent"], groups=["hp_mle_elo"], stats=stats, instances=instances)))
    if report["agreement"]:
        stats, instances = [], []
        for name, value in report["agreement"].items():
            name = "top_k_overlap" if name.startswith("top") else name
            stats += [make_stat(name, value["estimate"]), make_stat(f"{name}_low", value["low"]),
                      make_stat(f"{name}_high", value["high"])]
            instances.append(RunInstance(id=name, input=name, output=_fmt(value), stats={name: value["estimate"]}))
        paths.append(write_run_directory(suite_dir, RunRecord(
            name="hp_mle_agreement:pools=human_vs_generated", scenario_name="mle_agreement",
            scenario_description="Agreement of agents' Elo between hand-designed and generated MLE tasks",
            scenario_class="helm_plugins.agents.mle_smith.report.Agreement", scenario_args={},
            model="simulated/scripted", method="elo agreement", groups=["hp_mle_agreement"], stats=stats,
            instances=instances)))
    return paths
