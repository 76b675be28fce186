"""The SpecEval matrix over finished runs: candidate × judge × specification adherence, its three-way-consistency
diagonal, and a judge-bias heatmap (arXiv 2509.02464).

Cell (c, j, s) = spec_adherence of candidate c's hp_spec_adherence run on specification s judged by j (a self-judged
run has j = c). Three-way consistency of provider P = the cell where c's and j's organization (the part of the model
name before "/") and s's provider are all P. Judge bias of j on (c, s) = cell(c, j, s) − the mean over the judges of
(c, s); the heatmap shows it per specification with judges as rows and candidates as columns.
"""

import json
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from statistics import mean
from typing import Dict, List, Optional, Tuple


@dataclass(frozen=True)
class Cell:
    candidate: str
    judge: str
    spec: str
    provider: str
    mode: str
    adherence: Optional[float]
    valid_verdicts: float  # fraction of instances with a valid verdict
    run: str


def organization(model: str) -> str:
    return model.split("/", 1)[0]


def read_cells(suite_dir: Path) -> List[Cell]:
    cells = []
    for spec_path in sorted(suite_dir.glob("hp_spec_adherence:*/run_spec.json")):
        run_spec = json.loads(spec_path.read_text())
        stats_path = spec_path.parent / "stats.json"
        if not stats_path.is_file():
            continue
        stats = {
            s["name"]["name"]: s.get("mean")
            for s in json.loads(stats_path.read_text())
            if s["name"].get("split") == "test" and not s["name"].get("perturbation")
        }
        candidate = run_spec["adapter_spec"]["model"]
        annotator = run_spec["annotators"][0]["args"]
        scenario = run_spec["scenario_spec"]["args"]
        if annotator.get("mode", "likert") == "pairwise":
            continue  # pairwise runs compare two candidates; the matrix holds absolute adherence
        cells.append(Cell(candidate, annotator.get("judge") or candidate, Path(scenario["spec"]).stem,
                          scenario.get("provider") or Path(scenario["spec"]).stem, annotator.get("mode", "likert"),
                          stats.get("spec_adherence"), stats.get("spec_verdict_valid") or 0.0, spec_path.parent.name))
    return cells


def three_way_consistency(cells: List[Cell]) -> Dict[Tuple[str, str], List[Cell]]:
    """(provider, judge mode) -> the cells where candidate, judge and specification all belong to the provider."""
    diagonal: Dict[Tuple[str, str], List[Cell]] = defaultdict(list)
    for c in cells:
        if organization(c.candidate) == c.provider and organization(c.judge) == c.provider:
            diagonal[(c.provider, c.mode)].append(c)
    return dict(diagonal)


def judge_bias(cells: List[Cell]) -> Dict[Tuple[str, str, str], float]:
    """(spec, judge, candidate) -> adherence minus the mean over judges of (candidate, spec)."""
    by_target: Dict[Tuple[str, str], List[Cell]] = defaultdict(list)
    for cell in cells:
        if cell.adherence is not None:
            by_target[(cell.candidate, cell.spec)].append(cell)
    bias = {}
    for (candidate, spec), group in by_target.items():
        average = mean(c.adherence for c in group)
        for c in group:
            bias[(spec, c.judge, candidate)] = c.adherence - average
    return bias


def plot_bias(bias: Dict[Tuple[str, str, str], float], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    specs = sorted({s for s, _, _ in bias}) or ["(no runs)"]
    fig, axes = plt.subplots(1, len(specs), figsize=(4 + 3 * len(specs), 4), squeeze=False)
    for ax, spec in zip(axes[0], specs):
        judges = sorted({j for s, j, _ in bias if s == spec})
        candidates = sorted({c for s, _, c in bias if s == spec})
        grid = np.full((len(judges), len(candidates)), np.nan)
        for (s, j, c), value in bias.items():
            if s == spec:
                grid[judges.index(j), candidates.index(c)] = value
        image = ax.imshow(grid if grid.size else np.zeros((1, 1)), cmap="coolwarm", vmin=-0.5, vmax=0.5)
        ax.set_xticks(range(len(candidates)), candidates, rotation=45, ha="right", fontsize=7)
        ax.set_yticks(range(len(judges)), judges, fontsize=7)
        ax.set_title(f"judge bias, spec {spec}", fontsize=9)
        ax.set_xlabel("candidate", fontsize=8)
        ax.set_ylabel("judge", fontsize=8)
        for (r, c), value in np.ndenumerate(grid):
            if not np.isnan(value):
                ax.text(c, r, f"{value:+.2f}", ha="center", va="center", fontsize=7)
        fig.colorbar(image, ax=ax, shrink=0.7, label="adherence − mean over judges")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def fmt(value: Optional[float]) -> str:
    return "–" if value is None else f"{value:.3f}"


def build_report(suite_dir: Path, output: Path) -> str:
    cells = read_cells(suite_dir)
    if not cells:
        raise ValueError(f"no finished hp_spec_adherence runs (Likert or binary) in {suite_dir}")
    diagonal = three_way_consistency(cells)
    bias = judge_bias(cells)
    output.mkdir(parents=True, exist_ok=True)
    lines = ["| candidate | judge | spec (provider) | mode | adherence | valid verdicts | three-way |", "|---|---|---|---|---|---|---|"]
    for c in sorted(cells, key=lambda c: (c.spec, c.candidate, c.judge)):
        three_way = "yes" if c in diagonal.get((c.provider, c.mode), []) else ""
        lines.append(f"| {c.candidate} | {c.judge} | {c.spec} ({c.provider}) | {c.mode} | {fmt(c.adherence)} | "
                     f"{c.valid_verdicts:.2f} | {three_way} |")
    lines += ["", "Three-way consistency (provider's model, judged by provider's judge, on provider's spec):"]
    lines += [f"- {p} ({mode}): {fmt(c.adherence)} ({c.candidate} judged by {c.judge}, spec {c.spec})"
              for (p, mode), group in sorted(diagonal.items()) for c in group] or ["- none"]
    table = "\n".join(lines)
    (output / "spec_matrix.md").write_text(table + "\n")
    (output / "spec_matrix.json").write_text(json.dumps({
        "cells": [asdict(c) for c in cells],
        "three_way_consistency": [{"provider": p, "mode": mode, "candidate": c.candidate, "judge": c.judge,
                                   "spec": c.spec, "adherence": c.adherence}
                                  for (p, mode), group in sorted(diagonal.items()) for c in group],
        "judge_bias": [{"spec": s, "judge": j, "candidate": c, "bias": b} for (s, j, c), b in sorted(bias.items())],
    }, indent=1))
    plot_bias(bias, output / "judge_bias.png")
    return table
