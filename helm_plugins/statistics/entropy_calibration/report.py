"""Entropy calibration over finished helm-run runs: EntCE per model from its hp_entce loss and generation runs,
the generation entropy at every temperature run, and with a table of model sizes the scaling exponent
(the paper's law EntCE = A N^b fitted on every model, EntCE <= 0 included, with a 95% interval on b).

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
    """The EntCE scaling exponent with its 95% interval over every model with a size (EntCE <= 0 included),
    weighted by the models' standard errors."""
    sized = sorted((m for m in models if m in sizes), key=lambda m: sizes[m])
    result = {"models": sized, "sizes": [sizes[m] for m in sized], "entce": [models[m]["entce"] for m in sized],
              "not_positive": [m for m in sized if models[m]["entce"] <= 0], "without_size": sorted(set(models) - set(sizes))}
    if len(sized) < 3:
        raise ValueError(f"{len(sized)} models have a size ({', '.join(sized) or 'none'}); the exponent needs >= 3 "
                         f"(without a size: {result['without_size']})")
    stderr = [models[m]["entce_stderr"] for m in sized]
    fit = scaling_exponent(result["sizes"], result["entce"], stderr if all(np.isfinite(stderr)) and min(stderr) > 0 else None)
    result.update(fit.as_dict())
    result["fitted_models"] = sized
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
        stderr = np.array([report["models"][m]["entce_stderr"] for m in scaling["models"]])
        fit.errorbar(sizes, entce, yerr=stderr, fmt="o", capsize=3)
        grid = np.geomspace(sizes.min(), sizes.max(), 20)
        fit.plot(grid, scaling["amplitude"] * grid ** scaling["exponent"], "--",
                 label=f"EntCE ~ N^{scaling['exponent']:+.3f} [{scaling['ci_low']:+.3f}, {scaling['ci_high']:+.3f}]")
        fit.set_xscale("log")
        fit.axhline(0, color="gray", lw=0.5)
        fit.set(xlabel="parameters", ylabel="EntCE", title="EntCE scaling over model size")
        fit.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
