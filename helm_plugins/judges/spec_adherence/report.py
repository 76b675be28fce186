"""The SpecEval matrix over finished runs: candidate × judge × specification adherence, its three-way-consistency
diagonal, and a judge-bias heatmap (arXiv 2509.02464).

Cell (c, j, s, m) = spec_adherence of candidate c's hp_spec_adherence run on specification s judged by j in judge
mode m (Likert or binary; a self-judged run has j = c's deployment). Organizations come from HELM's registries:
deployment → model → the model's creator organization (so a `litellm/...` or a local deployment of a provider's
model counts as that provider; a model without metadata falls back to its name's prefix). Three-way consistency
of provider P = the cells where c's and j's organizations and s's provider are all P. Cross-judge average of
(c, s, m) = the mean over its judges; judge bias of j on (c, s, m) = cell − that average. The heatmap shows the
bias per specification and mode, with judges as rows and candidates as columns.
"""

import json
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from statistics import mean
from typing import Dict, List, Optional, Tuple


@dataclass(frozen=True)
class Cell:
    candidate: str  # model name
    judge: str  # judge deployment
    spec: str
    provider: str
    mode: str
    adherence: Optional[float]
    valid_verdicts: float  # fraction of instances with a valid verdict
    run: str
    candidate_organization: str = ""
    judge_organization: str = ""


def _normal(name: str) -> str:
    return "".join(c for c in name.lower() if c.isalnum())


def organization(name: str) -> str:
    """The creator organization of a deployment or model name, normalized (lower case, letters and digits):
    deployment → its model → the model's metadata; else the name's prefix."""
    from helm.benchmark.model_deployment_registry import get_model_deployment
    from helm.benchmark.model_metadata_registry import get_model_metadata

    model = name
    try:
        model = get_model_deployment(name).model_name or name
    except ValueError:
        pass
    try:
        creator = get_model_metadata(model).creator_organization_name
    except ValueError:
        creator = ""
    return _normal(creator or model.split("/", 1)[0])


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
        deployment = run_spec["adapter_spec"].get("model_deployment") or candidate
        annotator = run_spec["annotators"][0]["args"]
        scenario = run_spec["scenario_spec"]["args"]
        if annotator.get("mode", "likert") == "pairwise":
            continue  # pairwise runs compare two candidates; the matrix holds absolute adherence
        judge = annotator.get("judge") or deployment
        cells.append(Cell(candidate, judge, Path(scenario["spec"]).stem,
                          scenario.get("provider") or Path(scenario["spec"]).stem, annotator.get("mode", "likert"),
                          stats.get("spec_adherence"), stats.get("spec_verdict_valid") or 0.0, spec_path.parent.name,
                          organization(deployment), organization(judge)))
    return cells


def three_way_consistency(cells: List[Cell]) -> Dict[Tuple[str, str], List[Cell]]:
    """(provider, judge mode) -> the cells where candidate, judge and specification all belong to the provider."""
    diagonal: Dict[Tuple[str, str], List[Cell]] = defaultdict(list)
    for c in cells:
        provider = _normal(c.provider)
        if c.candidate_organization == provider and c.judge_organization == provider:
            diagonal[(c.provider, c.mode)].append(c)
    return dict(diagonal)


def cross_judge_average(cells: List[Cell]) -> Dict[Tuple[str, str, str], float]:
    """(candidate, spec, mode) -> mean adherence over the judges that scored it."""
    by_target: Dict[Tuple[str, str, str], List[float]] = defaultdict(list)
    for cell in cells:
        if cell.adherence is not None:
            by_target[(cell.candidate, cell.spec, cell.mode)].append(cell.adherence)
    return {key: mean(values) for key, values in by_target.items()}


def judge_bias(cells: List[Cell]) -> Dict[Tuple[str, str, str, str], float]:
    """(spec, mode, judge, candidate) -> adherence minus the cross-judge average of (candidate, spec, mode)."""
    average = cross_judge_average(cells)
    return {(c.spec, c.mode, c.judge, c.candidate): c.adherence - average[(c.candidate, c.spec, c.mode)]
            for c in cells if c.adherence is not None}


def plot_bias(bias: Dict[Tuple[str, str, str, str], float], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    panels = sorted({(s, m) for s, m, _, _ in bias}) or [("(no runs)", "")]
    fig, axes = plt.subplots(1, len(panels), figsize=(4 + 3 * len(panels), 4), squeeze=False)
    for ax, (spec, mode) in zip(axes[0], panels):
        judges = sorted({j for s, m, j, _ in bias if (s, m) == (spec, mode)})
        candidates = sorted({c for s, m, _, c in bias if (s, m) == (spec, mode)})
        grid = np.full((len(judges), len(candidates)), np.nan)
        for (s, m, j, c), value in bias.items():
            if (s, m) == (spec, mode):
                grid[judges.index(j), candidates.index(c)] = value
        image = ax.imshow(grid if grid.size else np.zeros((1, 1)), cmap="coolwarm", vmin=-0.5, vmax=0.5)
        ax.set_xticks(range(len(candidates)), candidates, rotation=45, ha="right", fontsize=7)
        ax.set_yticks(range(len(judges)), judges, fontsize=7)
        ax.set_title(f"judge bias, spec {spec} ({mode})", fontsize=9)
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
    average = cross_judge_average(cells)
    output.mkdir(parents=True, exist_ok=True)
    lines = ["| candidate | judge | spec (provider) | mode | adherence | cross-judge average | judge bias | "
             "valid verdicts | three-way |", "|---|---|---|---|---|---|---|---|---|"]
    for c in sorted(cells, key=lambda c: (c.spec, c.mode, c.candidate, c.judge)):
        three_way = "yes" if c in diagonal.get((c.provider, c.mode), []) else ""
        cell_bias = bias.get((c.spec, c.mode, c.judge, c.candidate))
        lines.append(f"| {c.candidate} | {c.judge} | {c.spec} ({c.provider}) | {c.mode} | {fmt(c.adherence)} | "
                     f"{fmt(average.get((c.candidate, c.spec, c.mode)))} | "
                     f"{'–' if cell_bias is None else f'{cell_bias:+.3f}'} | {c.valid_verdicts:.2f} | {three_way} |")
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
        "cross_judge_average": [{"candidate": c, "spec": s, "mode": m, "adherence": a}
                                for (c, s, m), a in sorted(average.items())],
        "judge_bias": [{"spec": s, "mode": m, "judge": j, "candidate": c, "bias": b}
                       for (s, m, j, c), b in sorted(bias.items())],
    }, indent=1))
    plot_bias(bias, output / "judge_bias.png")
    return table
