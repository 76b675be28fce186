"""Relative scaling over finished HELM runs: the runs of a model family in a suite, a compute table, and two
subgroups of runs (selected by a substring of the run name, e.g. a scenario argument) give per-model errors and,
from the per-instance stats, per-item errors (instances matched by id across models).

    helm-plugins relative-scaling --from-suite S --compute compute.csv --metric exact_match --accuracy \\
        --subgroup 'subject=econometrics' --baseline 'subject=us_foreign_policy'

compute.csv: `model,flops` (HELM model names, as in run_spec.json). `--metric` is any per-instance stat, or
`bits_per_byte` / `log_loss` (per token) computed per document from a language-modelling run's stats.
"""

import json
import math
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np


# per-document errors derived from HELM's language-modelling stats (HELM derives them only for the whole run)
DERIVED = {
    "bits_per_byte": lambda v: -v["logprob"] / v["num_bytes"] / math.log(2),
    "log_loss": lambda v: -v["logprob"] / v["num_perplexity_tokens"],
}


def _metric_per_instance(run_dir: Path, metric: str) -> Dict[str, float]:
    values: Dict[str, List[float]] = {}
    for row in json.loads((run_dir / "per_instance_stats.json").read_text()):
        present = [s for s in row["stats"] if not s["name"].get("perturbation") and s.get("count", 0) > 0]
        stats = {s["name"]["name"]: s["sum"] for s in present}
        means = {s["name"]["name"]: s["mean"] for s in present}
        if metric in means:
            values.setdefault(row["instance_id"], []).append(means[metric])
        elif metric in DERIVED and {"logprob", "num_bytes", "num_perplexity_tokens"} <= set(stats):
            values.setdefault(row["instance_id"], []).append(DERIVED[metric](stats))
    return {instance: float(np.mean(v)) for instance, v in values.items()}


def family_errors(
    suite_dir: Path, compute: Dict[str, float], metric: str, subgroups: Tuple[str, str], accuracy: bool
) -> Tuple[np.ndarray, Dict[str, np.ndarray], Dict[str, np.ndarray], List[str]]:
    """(flops per model, mean error per subgroup and model, item errors per subgroup (models x items), models).
    Errors are 1 - metric when `accuracy`, else the metric itself (a loss)."""
    runs: Dict[Tuple[str, str], Dict[str, float]] = {}
    for spec_path in sorted(Path(suite_dir).glob("*/run_spec.json")):
        spec = json.loads(spec_path.read_text())
        model = spec["adapter_spec"]["model"]
        matched = [s for s in subgroups if s in spec["name"]]
        if model not in compute or len(matched) != 1:
            continue
        key = (model, matched[0])
        if key in runs:
            raise ValueError(f"two runs of {model} match {matched[0]!r} in {suite_dir}: make the subgroup selector specific")
        per_instance = _metric_per_instance(spec_path.parent, metric)
        if not per_instance:
            raise ValueError(f"run {spec['name']}: no per-instance stat {metric!r}")
        runs[key] = per_instance
    models = sorted({m for m, _ in runs if all((m, s) in runs for s in subgroups)}, key=lambda m: compute[m])
    missing = sorted(set(compute) - set(models))
    if len(models) < 3:
        raise ValueError(
            f"{len(models)} models of the compute table have runs for both subgroups in {suite_dir} (need >= 3 to fit); "
            f"missing: {missing[:5]}"
        )
    errors, items = {}, {}
    for subgroup in subgroups:
        common = sorted(set.intersection(*(set(runs[m, subgroup]) for m in models)))
        if not common:
            raise ValueError(f"subgroup {subgroup!r}: the models share no instance ids")
        matrix = np.array([[runs[m, subgroup][i] for i in common] for m in models])
        matrix = 1.0 - matrix if accuracy else matrix
        items[subgroup] = matrix
        errors[subgroup] = matrix.mean(axis=1)
    return np.array([compute[m] for m in models]), errors, items, models
