"""Entropy calibration over finished helm-run runs: EntCE per model from its hp_entce loss and generation runs,
the generation entropy at every temperature run, and with a table of model sizes the scaling exponent
(EntCE ~ N^slope, a log-log least-squares fit over the family, as in the paper).

    helm-plugins entce --from-suite S [--sizes sizes.csv]          # sizes.csv: model,parameters
"""

import json
from pathlib import Path
from typing import Dict, Optional

import numpy as np

from helm_plugins.statistics.entropy_calibration.measures import entce_from_curves, scaling_exponent
from helm_plugins.statistics.entropy_calibration.plots import draw_curves
from helm_plugins.statistics.entropy_calibration.metrics import RUN_SPEC_NAME, find_partner_run, read_curve


def _runs(suite_dir: Path, part: str):
    for spec_path in sorted(Path(suite_dir).glob(f"{RUN_SPEC_NAME}:part={part},*/run_spec.json")):
        if (spec_path.parent / "stats.json").is_file():
            yield spec_path.parent, json.loads(spec_path.read_text())


def suite_report(suite_dir: Path, sizes: Optional[Dict[str, float]] = None) -> dict:
    suite_dir = Path(suite_dir)
    if not suite_dir.is_dir():
        raise FileNotFoundError(f"suite folder {suite_dir} does not exist")
    models, unpaired = {}, []
    for run_dir, spec in _runs(suite_dir, "loss"):
        model = spec["adapter_spec"]["model"]
        args = {k: v for k, v in spec["scenario_spec"]["args"].items() if k != "part"}
        partner = find_partner_run(suite_dir, model, args)
        if partner is None:
            unpaired.append(spec["name"])
            continue
        h, per_sequence_h = read_curve(partner, "generation")
        l, per_sequence_l = read_curve(run_dir, "loss")
        models[model] = {"documents": args, **entce_from_curves(h, l, per_sequence_h, per_sequence_l).as_dict()}
    if not models:
        raise ValueError(
            f"{suite_dir}: no pair of hp_entce runs (part=loss with part=generation at temperature 1 of the same model "
            f"and documents){'; unpaired loss runs: ' + ', '.join(unpaired[:3]) if unpaired else ''}"
        )
    temperatures: Dict[str, Dict[str, float]] = {}
    for run_dir, spec in _runs(suite_dir, "generation"):
        h, _ = read_curve(run_dir, "generation")
        temperatures.setdefault(spec["adapter_spec"]["model"], {})[str(spec["adapter_spec"]["temperature"])] = float(np.mean(h))
    report = {"suite": str(suite_dir), "models": models, "generation_entropy_by_temperature": temperatures,
              "unpaired_loss_runs": unpaired}
    if sizes:
        report["scaling"] = scaling_fit(models, sizes)
    return report


def scaling_fit(models: dict, sizes: Dict[str, float]) -> dict:
    """The EntCE scaling exponent over the models with a size; a log-log fit needs EntCE > 0 (models with
    EntCE <= 0 are listed, not fitted)."""
    sized = sorted((m for m in models if m in sizes), key=lambda m: sizes[m])
    positive = [m for m in sized if models[m]["entce"] > 0]
    result = {"models": sized, "sizes": [sizes[m] for m in sized], "entce": [models[m]["entce"] for m in sized],
              "not_positive": [m for m in sized if m not in positive], "without_size": sorted(set(models) - set(sizes))}
    if len(positive) < 3:
        raise ValueError(
            f"{len(positive)} models have a size and a positive EntCE ({', '.join(positive) or 'none'}); "
            f"the exponent needs >= 3 (not positive: {result['not_positive']}, without a size: {result['without_size']})"
        )
    result["exponent"] = scaling_exponent([sizes[m] for m in positive], [models[m]["entce"] for m in positive])
    result["fitted_models"] = positive
    return result


def plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scaling = report.get("scaling")
    figure, axes = plt.subplots(1, 2 if scaling else 1, figsize=(12 if scaling else 7, 4.5), squeeze=False)
    draw_curves(axes[0, 0], report["models"], "Temperature 1")
    if scaling:
        fit = axes[0, 1]
        sizes, entce = np.array(scaling["sizes"]), np.array(scaling["entce"])
        positive = entce > 0
        fit.loglog(sizes[positive], entce[positive], "o")
        grid = np.geomspace(sizes[positive].min(), sizes[positive].max(), 20)
        fitted = np.array([scaling["sizes"][scaling["models"].index(m)] for m in scaling["fitted_models"]])
        values = np.array([report["models"][m]["entce"] for m in scaling["fitted_models"]])
        intercept = np.mean(np.log(values) - scaling["exponent"] * np.log(fitted))
        fit.loglog(grid, np.exp(intercept) * grid ** scaling["exponent"], "--", label=f"slope {scaling['exponent']:+.3f}")
        fit.set(xlabel="parameters", ylabel="EntCE", title="EntCE scaling over model size")
        fit.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
