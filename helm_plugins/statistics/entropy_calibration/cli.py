"""`helm-plugins entce`: entropy calibration of a local model (generation entropy against log loss per step).

    helm-plugins entce --demo                                    # tiny-default on held-out synthetic documents
    helm-plugins entce --demo --set model=path/to/hf_checkpoint --set "temperatures=[1.0, 0.7]"
"""

import argparse
from pathlib import Path

from helm_plugins.cli import add_runner_arguments, add_subcommand, suite_dir

GROUP = "hp_entropy_calibration"


def add_parser(subparsers) -> None:
    parser = add_subcommand(subparsers, "entce", "measure entropy calibration (EntCE) of a local model", __doc__, run)
    parser.add_argument("--demo", action="store_true", help="measure the configured local model (default tiny-default)")
    add_runner_arguments(parser, "steps=32", "entce_output")


def run(args: argparse.Namespace) -> int:
    from helm_plugins.common.configs import load_yaml_config
    from helm_plugins.statistics.entropy_calibration.demo import EntropyCalibrationDemoConfig, run_demo

    if not args.demo:
        raise ValueError("only --demo is available: it measures the local model given by --set model=...")
    config = load_yaml_config(EntropyCalibrationDemoConfig, None, None, args.config, args.overrides)
    output = args.output or Path("entce_output") / Path(config.model).name
    report = run_demo(config, output, progress=not args.no_progress)
    print(f"{report['model']} on {report['documents']} held-out documents:")
    print("| temperature | EntCE | stderr | mean H_t | mean L_t | trend of H_t - L_t per step |")
    print("|---|---|---|---|---|---|")
    for temperature, r in report["by_temperature"].items():
        print(f"| {temperature} | {r['entce']:+.4f} | {r['entce_stderr']:.4f} | {r['mean_entropy']:.4f} | "
              f"{r['mean_log_loss']:.4f} | {r['slope_per_step']:+.5f} |")
    for alpha, z in report["zipf_singleton_exponent"].items():
        print(f"Zipf alpha {alpha}: singleton-mass exponent {z['fitted']:+.3f} (theory 1/alpha - 1 = {z['theory']:+.3f})")
    if suite_dir(args):
        write_helm_runs(suite_dir(args), report, output / "entropy_calibration.png")
    print(f"report: {output}/results.json, {output}/entropy_calibration.png")
    return 0


def write_helm_runs(suite: Path, report: dict, plot_path: Path) -> None:
    """One run per temperature (rows: model at temperature), per-step H_t and L_t as instances."""
    import shutil

    from helm_plugins.common.results import RunInstance, RunRecord, make_stat, write_run_directory

    model = report["model"] if report["model"] == "tiny-default" else Path(report["model"]).name
    for temperature, r in report["by_temperature"].items():
        name = f"helm-plugins/{model}@t{temperature}"
        record = RunRecord(
            name=f"hp_entropy_calibration:temperature={temperature},model={name}",
            scenario_name=GROUP,
            scenario_description=f"Per-step generation entropy against log loss on {report['documents']} held-out synthetic "
            "documents (helm-plugins entce).",
            scenario_class="helm_plugins.statistics.entropy_calibration.demo.run_demo",
            scenario_args={"temperature": float(temperature)},
            model=name,
            method="entropy_calibration",
            groups=[GROUP],
            stats=[make_stat(k, r[k]) for k in ("entce", "entce_stderr", "mean_entropy", "mean_log_loss", "slope_per_step")],
            instances=[
                RunInstance(id=f"step{t + 1}", input=f"step {t + 1}", output=f"H {h:.4f}, L {l:.4f}",
                            stats={"entropy": h, "log_loss": l})
                for t, (h, l) in enumerate(zip(r["entropy_per_step"], r["log_loss_per_step"]))
            ],
        )
        shutil.copy(plot_path, write_run_directory(suite, record) / "entropy_calibration.png")
