"""`helm-plugins entce`: entropy calibration of a local model (generation entropy against log loss per step).

    helm-plugins entce --demo                                    # tiny-default on held-out synthetic documents
    helm-plugins entce --demo --set model=path/to/hf_checkpoint --set "temperatures=[1.0, 0.7]"
    helm-plugins entce --from-suite S [--sizes sizes.csv]           # finished hp_entce runs of helm-run
    helm-plugins entce --family                 # train four widths here, EntCE of each, the scaling exponent
    helm-plugins entce --future-entropy         # future-entropy scaling of tiny-default against temperature

The helm-run path, for any deployment (a generation run at temperature 1 first, then the loss run):
    helm-run --run-entries 'hp_entce:part=generation,model=M' 'hp_entce:part=loss,model=M' --suite S
"""

import argparse
import json
from pathlib import Path

from helm_plugins.cli import add_runner_arguments, add_subcommand, suite_dir

GROUP = "hp_entropy_calibration"
RUN_GROUP = "hp_entce_exact"  # the runs of this command (exact entropies), a subgroup of GROUP


def add_parser(subparsers) -> None:
    parser = add_subcommand(subparsers, "entce", "measure entropy calibration (EntCE) of a local model", __doc__, run)
    parser.add_argument("--demo", action="store_true", help="measure the configured local model (default tiny-default)")
    parser.add_argument("--from-suite", metavar="SUITE", help="EntCE of every model with a pair of hp_entce runs in SUITE")
    parser.add_argument("--sizes", type=Path, help="CSV model,parameters: fit the EntCE scaling exponent (with --from-suite)")
    parser.add_argument("--family", action="store_true", help="train GPTs of several widths to the same tokens per parameter and fit the EntCE scaling exponent")
    parser.add_argument("--future-entropy", action="store_true",
                        help="calibrate a local model by future-entropy scaling and compare with temperature scaling")
    add_runner_arguments(parser, "steps=32", "entce_output")


def run(args: argparse.Namespace) -> int:
    from helm_plugins.common.configs import load_yaml_config
    from helm_plugins.statistics.entropy_calibration.demo import EntropyCalibrationDemoConfig, run_demo

    if sum(map(bool, (args.demo, args.from_suite, args.family, args.future_entropy))) != 1:
        raise ValueError("give one of --demo (a local model, exact entropies), --from-suite (finished hp_entce runs), "
                         "--family or --future-entropy")
    if args.from_suite:
        return from_suite(args)
    if args.family:
        return family(args)
    if args.future_entropy:
        return future_entropy(args)
    config = load_yaml_config(EntropyCalibrationDemoConfig, None, None, args.config, args.overrides)
    output = args.output or Path("entce_output") / Path(config.model).name
    report = run_demo(config, output, progress=not args.no_progress)
    print(f"{report['model']} on {report['documents']} held-out documents:")
    print_table("temperature", report["by_temperature"])
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
            groups=[RUN_GROUP],
            temperature=float(temperature),
            stats=[make_stat(k, r[k]) for k in ("entce", "entce_stderr", "mean_entropy", "mean_log_loss", "slope_per_step")],
            instances=[
                RunInstance(id=f"step{t + 1}", input=f"step {t + 1}", output=f"H {h:.4f}, L {l:.4f}",
                            stats={"entropy": h, "log_loss": l})
                for t, (h, l) in enumerate(zip(r["entropy_per_step"], r["log_loss_per_step"]))
            ],
        )
        shutil.copy(plot_path, write_run_directory(suite, record) / "entropy_calibration.png")


def print_table(row_header: str, results: dict) -> None:
    print(f"| {row_header} | EntCE | stderr | mean H_t | mean L_t | trend of H_t - L_t per step |")
    print("|---|---|---|---|---|---|")
    for row, r in results.items():
        print(f"| {row} | {r['entce']:+.4f} | {r['entce_stderr']:.4f} | {r['mean_entropy']:.4f} | "
              f"{r['mean_log_loss']:.4f} | {r['slope_per_step']:+.5f} |")


def from_suite(args: argparse.Namespace) -> int:
    from helm_plugins.common.model_tables import read_model_table
    from helm_plugins.statistics.entropy_calibration.report import plot, suite_report

    sizes = read_model_table(args.sizes, "parameters") if args.sizes else None
    report = suite_report(Path(args.output_path) / "runs" / args.from_suite, sizes)
    output = args.output or Path("entce_output") / args.from_suite
    output.mkdir(parents=True, exist_ok=True)
    (output / "results.json").write_text(json.dumps(report, indent=1))
    plot(report, output / "entropy_calibration.png")
    print(f"suite {args.from_suite} (temperature 1; generation entropy from sampled-token log-probabilities):")
    print_table("model", report["models"])
    for model, by_temperature in report["generation_entropy_by_temperature"].items():
        print(f"{model}: mean H_t by temperature " + ", ".join(f"{t}: {h:.4f}" for t, h in sorted(by_temperature.items())))
    if "scaling" in report:
        scaling = report["scaling"]
        print(f"EntCE ~ N^{scaling['exponent']:+.3f}, 95% interval [{scaling['ci_low']:+.3f}, {scaling['ci_high']:+.3f}], "
              f"over {len(scaling['fitted_models'])} models"
              + (f" (EntCE <= 0, fitted too: {', '.join(scaling['not_positive'])})" if scaling["not_positive"] else ""))
    print(f"report: {output}/results.json, {output}/entropy_calibration.png")
    return 0


def family(args: argparse.Namespace) -> int:
    from helm_plugins.common.configs import load_yaml_config
    from helm_plugins.statistics.entropy_calibration.family import EntropyScalingConfig, run_family

    config = load_yaml_config(EntropyScalingConfig, None, None, args.config, args.overrides)
    output = args.output or Path("entce_output") / "family"
    report = run_family(config, output, progress=not args.no_progress)
    print("| width | parameters | tokens/parameter | held-out loss | its fall over the last quarter | EntCE | stderr | "
          "mean H_t | mean L_t |")
    print("|---|---|---|---|---|---|---|---|---|")
    for m in report["models"]:
        fall = m["val_loss_fall_last_quarter"]
        print(f"| {m['width']} | {m['parameters']:,} | {m['tokens_per_parameter']:.1f} | {m['final_val_loss']:.3f} | "
              f"{'-' if fall is None else f'{fall:.1%}'} | {m['entce']:+.4f} | {m['entce_stderr']:.4f} | "
              f"{m['mean_entropy']:.4f} | {m['mean_log_loss']:.4f} |")
    print(f"{report['models'][0]['documents']} held-out sequences, {report['models'][0]['generation_steps']} generation steps")
    fit = report["scaling"]
    print(f"EntCE ~ N^{fit['exponent']:+.3f}, 95% interval [{fit['ci_low']:+.3f}, {fit['ci_high']:+.3f}], over widths {report['fitted']}")
    print(f"report: {output}/family.json, {output}/entce_scaling.png")
    return 0


def future_entropy(args: argparse.Namespace) -> int:
    from helm_plugins.common.configs import load_yaml_config
    from helm_plugins.statistics.entropy_calibration.future_entropy import FutureEntropyConfig, run_future_entropy

    config = load_yaml_config(FutureEntropyConfig, None, None, args.config, args.overrides)
    output = args.output or Path("entce_output") / f"future-entropy-{Path(config.model).name}"
    report = run_future_entropy(config, output, progress=not args.no_progress)
    r = report["regressor"]
    print(f"future-entropy regressor: {r['samples']:,} sampled tokens, held-out R^2 {r['held_out_r2']:.3f}; "
          f"lambda {report['lambda']:.3f} and temperature {report['temperature']:.3f} set to EntCE = 0 on "
          f"{report['documents']['calibration']} calibration documents")
    print(f"on {report['documents']['evaluation']} other held-out documents:")
    print_table("sampler", report["results"])
    print(f"report: {output}/future_entropy.json, {output}/future_entropy.png")
    return 0
