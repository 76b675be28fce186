"""Loss-fairness frontier over finished hp_fairness runs: each model of the suite is one (soft DP gap, BCE)
point; the empirical Pareto frontier is the lower convex hull of the points between parity and the lowest-loss
model (a point on a hull segment is reached by mixing the two models' soft scores: the gap mixes linearly and
the BCE is convex, so the segment is an upper bound on the mixture's loss); the less discriminatory alternative
check asks how close to parity the frontier gets at no more than a contested model's loss.

    helm-plugins fairness-frontier --from-suite S [--contested MODEL] [--delta 0.02]
"""

import json
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np
from helm.common.hierarchical_logger import hwarn

from helm_plugins.statistics.fairness_frontier.frontier import empirical_alternatives, pareto_frontier


CONSTANT = "(constant: the base rate)"


def suite_points(suite_dir: Path) -> Dict[str, List[dict]]:
    """setting (the run name without the model) -> one point per model, plus the constant classifier that
    predicts the base rate for everyone (gap 0, BCE = the labels' entropy), an alternative always at hand."""
    suite_dir = Path(suite_dir)
    if not suite_dir.is_dir():
        raise FileNotFoundError(f"suite folder {suite_dir} does not exist")
    settings: Dict[str, List[dict]] = {}
    label_rates: Dict[str, float] = {}
    for spec_path in sorted(suite_dir.glob("hp_fairness:*/run_spec.json")):
        stats_path = spec_path.parent / "stats.json"
        if not stats_path.is_file():
            continue
        spec = json.loads(spec_path.read_text())
        stats = {s["name"]["name"]: s["mean"] for s in json.loads(stats_path.read_text())
                 if s["name"].get("split") == "test" and s["name"].get("perturbation") is None}
        if "dp_gap_soft" not in stats or "bce" not in stats:
            hwarn(f"run {spec['name']}: no dp_gap_soft and bce ({stats.get('failed_requests', 0):.0f} failed requests); left out")
            continue
        setting = spec["name"].rsplit(",model=", 1)[0]
        if "label_rate" in stats:
            label_rates.setdefault(setting, stats["label_rate"])
        settings.setdefault(setting, []).append(
            {"model": spec["adapter_spec"]["model"], "dp_gap": stats["dp_gap_soft"], "bce": stats["bce"],
             "exact_match": stats.get("exact_match")})
    if not settings:
        raise ValueError(f"{suite_dir}: no finished hp_fairness runs")
    for setting, points in settings.items():
        rate = label_rates.get(setting)
        if rate is not None and 0 < rate < 1:
            points.append({"model": CONSTANT, "dp_gap": 0.0, "bce": float(-rate * np.log(rate) - (1 - rate) * np.log(1 - rate)),
                           "exact_match": max(rate, 1 - rate)})
    return settings


def achievable_gap(hull: np.ndarray, max_loss: float, resolution: int = 1001) -> Optional[float]:
    """The smallest |gap| on the frontier (hull vertices and the segments between them) at loss <= max_loss."""
    if len(hull) == 1:
        points = hull
    else:
        t = np.linspace(0, 1, resolution)[:, None]
        points = np.concatenate([a + t * (b - a) for a, b in zip(hull[:-1], hull[1:])])
    feasible = points[points[:, 1] <= max_loss + 1e-12]
    return float(np.min(np.abs(feasible[:, 0]))) if len(feasible) else None


def pareto_optimal(points: List[dict]) -> List[str]:
    """Models that no other point beats on both |gap| and BCE (at least as good on both, better on one)."""
    def dominates(a, b):
        return abs(a["dp_gap"]) <= abs(b["dp_gap"]) and a["bce"] <= b["bce"] and (abs(a["dp_gap"]) < abs(b["dp_gap"]) or a["bce"] < b["bce"])
    return [p["model"] for p in points if not any(dominates(q, p) for q in points if q is not p)]


def model_frontier(points: List[dict], contested: Optional[str] = None, delta: float = 0.0, epsilon: float = 0.0) -> dict:
    """The frontier of the models; with `contested`, the less-discriminatory-alternative check: models and
    frontier points at most `epsilon` more loss than the contested model and at least `delta` closer to parity."""
    array = np.array([[p["dp_gap"], p["bce"]] for p in points])
    hull = pareto_frontier(array)
    result = {"models": points, "frontier": hull.tolist(), "pareto_optimal": pareto_optimal(points)}
    if contested:
        matches = [p for p in points if p["model"] == contested]
        if not matches:
            raise ValueError(f"contested model {contested!r} has no run here; models: {[p['model'] for p in points]}")
        c = matches[0]
        gap = achievable_gap(hull, c["bce"] + epsilon)
        alternatives = [p["model"] for p in empirical_alternatives(points, c, epsilon, delta)]
        improvement = abs(c["dp_gap"]) - gap if gap is not None else 0.0
        result["less_discriminatory_alternative"] = {
            "contested": c, "delta": delta, "epsilon": epsilon, "achievable_gap": gap, "improvement": improvement,
            "exists": improvement >= delta and improvement > 0, "alternative_models": alternatives,
        }
    return result


def plot(results: Dict[str, dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(results), figsize=(6.5 * len(results), 4.5), squeeze=False)
    for axis, (setting, result) in zip(axes[0], results.items()):
        for p in result["models"]:
            axis.plot(p["dp_gap"], p["bce"], "o", color="tab:blue")
            axis.annotate(p["model"], (p["dp_gap"], p["bce"]), fontsize=7, xytext=(3, 3), textcoords="offset points")
        hull = np.array(result["frontier"])
        axis.plot(hull[:, 0], hull[:, 1], "-", color="tab:green", label="empirical frontier")
        lda = result.get("less_discriminatory_alternative")
        if lda:
            axis.plot(lda["contested"]["dp_gap"], lda["contested"]["bce"], "s", color="tab:red", ms=9, fillstyle="none",
                      label="contested")
        axis.axvline(0, color="gray", lw=0.5)
        axis.set(xlabel="soft demographic-parity gap", ylabel="binary cross-entropy", title=setting)
        axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
