"""`helm-plugins fairness-frontier`: loss-fairness Pareto frontiers, their scaling-law fit and extrapolation.

    helm-plugins fairness-frontier --demo --suite demo        # the paper's stress test with MLPs of four widths
    helm-plugins fairness-frontier --models models.jsonl --train-size 6500

A models file is JSONL with one trained model per line: {"parameters", "lambda", "dp_gap", "bce"} (test gap
and BCE); the largest size is held out and predicted from the others.
"""

import argparse
import json
from pathlib import Path

from helm_plugins.cli import add_runner_arguments, add_subcommand, suite_dir

GROUP = "hp_fairness_frontier"


def add_parser(subparsers) -> None:
    parser = add_subcommand(subparsers, "fairness-frontier", "fit the loss-fairness frontier scaling law and extrapolate it (CPU demo or a models file)", __doc__, run)
    parser.add_argument("--demo", action="store_true", help="train the stress-test MLPs here (a few minutes)")
    parser.add_argument("--models", type=Path, help="JSONL of trained models (parameters, lambda, dp_gap, bce)")
    parser.add_argument("--train-size", type=int, help="training examples D of the models file")
    add_runner_arguments(parser, "epochs=5", "fairness_frontier_output")


def read_models(path: Path):
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    runs = []
    for line_number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        missing = [k for k in ("parameters", "dp_gap", "bce") if k not in row]
        if missing:
            raise ValueError(f"{path}:{line_number}: missing {missing}")
        runs.append(row)
    return runs


def run(args: argparse.Namespace) -> int:
    from helm_plugins.common.configs import load_yaml_config
    from helm_plugins.statistics.fairness_frontier.demo import FairnessDemoConfig, analyse, run_demo

    if args.demo == bool(args.models):
        raise ValueError("give either --demo or --models")
    output = args.output or Path("fairness_frontier_output") / ("demo" if args.demo else args.models.stem)
    if args.demo:
        config = load_yaml_config(FairnessDemoConfig, None, None, args.config, args.overrides)
        result = run_demo(config, output, progress=not args.no_progress)
        runs = [json.loads(line) for line in (output / "models.jsonl").read_text().splitlines()]
    else:
        if not args.train_size:
            raise ValueError("--models needs --train-size (the models' training examples)")
        runs = read_models(args.models)
        result = analyse(runs, args.train_size, output)
    fit, error = result["fit"], result["extrapolation_error"]
    print("fit (conservative) on sizes " + ", ".join(f"{s:,}" for s in result["fit_sizes"]) + ": "
          + ", ".join(f"{k} = {fit[k]:.4g}" for k in ("C1", "C2", "C3", "C4", "c", "c1", "c2"))
          + f"; max violation {fit['max_violation']:.1e}")
    print(f"extrapolated to {result['held_out_size']:,} parameters: mean |error| {error['mean_abs']:.4f}, "
          f"max {error['max_abs']:.4f}, {error['share_of_points_at_or_above_curve']:.0%} of its frontier at or above the curve")
    lda = result["less_discriminatory_alternative"]
    if lda["achievable_gap"] is not None:
        print(f"contested model (gap {lda['contested']['dp_gap']:.3f}, BCE {lda['contested']['bce']:.4f}): the predicted "
              f"frontier reaches gap {lda['achievable_gap']:.3f} at no more loss (less discriminatory by {lda['improvement']:.3f})")
    else:
        print(f"contested model (gap {lda['contested']['dp_gap']:.3f}, BCE {lda['contested']['bce']:.4f}): below the "
              "predicted frontier, so no less discriminatory alternative is predicted at its loss")
    if suite_dir(args):
        write_helm_runs(suite_dir(args), runs, result, "demo" if args.demo else args.models.stem)
    print(f"report: {output}/results.json, {output}/fairness_frontier.png")
    return 0


def write_helm_runs(suite: Path, runs, result, label: str) -> None:
    from helm_plugins.common.results import RunInstance, RunRecord, make_stat, write_run_directory

    for size, frontier in result["frontiers"].items():
        models = [r for r in runs if str(r["parameters"]) == size]
        best = min(models, key=lambda r: r["bce"])
        stats = {"frontier_points": len(frontier), "min_bce": best["bce"], "unconstrained_dp_gap": best["dp_gap"],
                 "min_abs_dp_gap": min(abs(r["dp_gap"]) for r in models)}
        if int(size) == result["held_out_size"]:
            stats["extrapolation_mean_abs_error"] = result["extrapolation_error"]["mean_abs"]
        record = RunRecord(
            name=f"hp_fairness_frontier:data={label},model=helm-plugins/mlp-{int(size)}",
            scenario_name=GROUP,
            scenario_description=f"Loss-fairness frontier of {len(models)} models of {int(size):,} parameters trained "
            "with BCE + lambda x soft DP gap (helm-plugins fairness-frontier).",
            scenario_class="helm_plugins.statistics.fairness_frontier.demo.analyse",
            scenario_args={"data": label},
            model=f"helm-plugins/mlp-{int(size)}",
            method="fairness_frontier",
            groups=[GROUP],
            stats=[make_stat(k, v) for k, v in stats.items()],
            instances=[
                RunInstance(id=f"lambda{r['lambda']}", input=f"lambda = {r['lambda']}",
                            output=f"gap {r['dp_gap']:.4f}, BCE {r['bce']:.4f}",
                            stats={"dp_gap_soft": r["dp_gap"], "bce": r["bce"]})
                for r in models
            ],
        )
        write_run_directory(suite, record)
