"""`helm-plugins fairness-frontier`: loss-fairness Pareto frontiers, their scaling-law fit and extrapolation.

    helm-plugins fairness-frontier --demo --suite demo        # the paper's stress test with MLPs of four widths
    helm-plugins fairness-frontier --study                    # model and data size varied, six seeds, held-out (N+, D+)
    helm-plugins fairness-frontier --models models.jsonl --train-size 6500
    helm-plugins fairness-frontier --from-suite S --contested org/model [--delta 0.02]   # finished hp_fairness runs

A models file is JSONL with one trained model per line: {"parameters", "lambda", "dp_gap", "bce"} (test gap
and BCE); the largest size is held out and predicted from the others.
"""

import argparse
import json
from pathlib import Path

from helm_plugins.cli import add_runner_arguments, add_subcommand, finite_float, suite_dir
from helm_plugins.common.jsonl import number_field, read_jsonl_rows

GROUP = "hp_fairness_frontier"


def add_parser(subparsers) -> None:
    parser = add_subcommand(subparsers, "fairness-frontier", "fit the loss-fairness frontier scaling law and extrapolate it (CPU demo or a models file)", __doc__, run)
    parser.add_argument("--demo", action="store_true", help="train the stress-test MLPs here (a few minutes)")
    parser.add_argument("--study", action="store_true", help="the extrapolation study over model and data sizes and "
                        "several seeds: scaling fit, seven-model fit and size-independent baseline (a few minutes)")
    parser.add_argument("--models", type=Path, help="JSONL of trained models (parameters, lambda, dp_gap, bce)")
    parser.add_argument("--train-size", type=int, help="training examples D of the models file")
    parser.add_argument("--from-suite", metavar="SUITE", help="the frontier across the models of SUITE's hp_fairness runs")
    parser.add_argument("--contested", metavar="MODEL", help="with --from-suite: check for a less discriminatory alternative")
    parser.add_argument("--epsilon", type=finite_float, default=0.005,
                        help="loss tolerance: an alternative may have up to this much more loss (default 0.005)")
    parser.add_argument("--delta", type=finite_float, default=0.0, help="with --contested: the gap reduction that counts (default 0)")
    add_runner_arguments(parser, "epochs=5", "fairness_frontier_output")


def read_models(path: Path):
    """The models file's rows, each number checked (file, line and field named); at least two model sizes."""
    runs = []
    for line_number, row in read_jsonl_rows(path):
        number_field(path, line_number, row, "parameters", positive=True)
        for field in ("dp_gap", "bce", *(["lambda"] if "lambda" in row else [])):
            number_field(path, line_number, row, field)
        runs.append(row)
    sizes = sorted({r["parameters"] for r in runs})
    if len(sizes) < 2:
        raise ValueError(f"{path}: models of {len(sizes)} size(s) ({', '.join(f'{s:,.0f}' for s in sizes) or 'none'} "
                         "parameters); the fit needs at least two sizes (the largest is held out and predicted)")
    return runs


def run(args: argparse.Namespace) -> int:
    from helm_plugins.common.configs import load_yaml_config
    from helm_plugins.statistics.fairness_frontier.demo import FairnessDemoConfig, analyse, run_demo

    if sum(map(bool, (args.demo, args.study, args.models, args.from_suite))) != 1:
        raise ValueError("give one of --demo, --study, --models or --from-suite")
    if args.from_suite:
        return from_suite(args)
    if args.study:
        return study(args)
    output = args.output or Path("fairness_frontier_output") / ("demo" if args.demo else args.models.stem)
    if args.demo:
        config = load_yaml_config(FairnessDemoConfig, None, None, args.config, args.overrides)
        result = run_demo(config, output, progress=not args.no_progress)
        runs = [json.loads(line) for line in (output / "models.jsonl").read_text().splitlines()]
    else:
        if not args.train_size:
            raise ValueError("--models needs --train-size (the models' training examples)")
        runs = read_models(args.models)
        result = analyse(runs, args.train_size, output, args.epsilon)
    fit, error = result["fit"], result["extrapolation_error"]
    print("fit (conservative) on sizes " + ", ".join(f"{s:,}" for s in result["fit_sizes"]) + ": "
          + ", ".join(f"{k} = {fit[k]:.4g}" for k in ("C1", "C2", "C3", "C4", "c", "c1", "c2"))
          + f"; max violation {fit['max_violation']:.1e}")
    baseline = result["baseline_error"]
    print(f"extrapolated to {result['held_out_size']:,} parameters: mean |error| {error['mean_abs']:.4f}, "
          f"max {error['max_abs']:.4f}, {error['share_of_points_below_curve']:.0%} of its frontier below the curve; "
          f"size-independent baseline: mean |error| {baseline['mean_abs']:.4f}")
    lda = result["less_discriminatory_alternative"]
    if lda["achievable_gap"] is not None:
        print(f"contested model (gap {lda['contested']['dp_gap']:.3f}, BCE {lda['contested']['bce']:.4f}): the predicted "
              f"frontier reaches gap {lda['achievable_gap']:.3f} within {lda['epsilon']} of its loss (less discriminatory by "
              f"{lda['improvement']:.3f}); {lda['trained_alternatives']} trained models of its size are fairer within that loss")
    else:
        print(f"contested model (gap {lda['contested']['dp_gap']:.3f}, BCE {lda['contested']['bce']:.4f}): below the "
              "predicted frontier, so no less discriminatory alternative is predicted at its loss")
    if suite_dir(args):
        write_helm_runs(suite_dir(args), runs, result, "demo" if args.demo else args.models.stem)
    print(f"report: {output}/results.json, {output}/fairness_frontier.png")
    return 0


def _interval(summary: dict, digits: int = 4) -> str:
    if summary["mean"] is None:
        return "n/a"
    if summary["ci_low"] is None:
        return f"{summary['mean']:.{digits}f}"
    return f"{summary['mean']:+.{digits}f} [{summary['ci_low']:+.{digits}f}, {summary['ci_high']:+.{digits}f}]"


def study(args: argparse.Namespace) -> int:
    from helm_plugins.common.configs import load_yaml_config
    from helm_plugins.statistics.fairness_frontier.study import FairnessStudyConfig, run_study

    config = load_yaml_config(FairnessStudyConfig, None, None, args.config, args.overrides)
    output = args.output or Path("fairness_frontier_output") / "study"
    result = run_study(config, output, progress=not args.no_progress)
    summary, first = result["summary"], next(iter(result["per_seed"].values()))
    held = first["held_out"]
    print(f"{summary['seeds']} seeds; fits on widths {config.widths[:-1]} x D {config.train_sizes[:-1]} "
          f"(C4 {'fitted' if config.c4 is None else f'fixed at {config.c4}'}), held out: "
          f"width {config.widths[-1]} ({held['parameters']:,} parameters) at D = {held['train_size']:,}")
    print("mean |BCE error| on the held-out frontier, mean over seeds with 95% t interval:")
    for name, label in (("scaling", "scaling law, all small frontier points"),
                        ("seven", f"scaling law, {config.few_models} small models"),
                        ("baseline", "size-independent baseline (C2 = 0)")):
        print(f"  {label:42s} {_interval(summary[f'{name}_mean_abs'])}")
    for name in ("scaling", "seven"):
        print(f"  {name} - baseline (paired)                  {_interval(summary[f'{name}_minus_baseline'])}")
    for name in ("scaling", "seven", "baseline"):
        rate = summary[f"{name}_frontiers_below"]
        print(f"{name}: held-out frontiers below the prediction (more than half their points) in {rate['count']} of "
              f"{rate['of']} seeds, rate {rate['rate']:.2f} [{rate['ci_low']:.2f}, {rate['ci_high']:.2f}] "
              f"(Clopper-Pearson); share of points below {_interval(summary[f'{name}_share_below'], 2)}")
    print(f"report: {output}/study.json, {output}/fairness_study.png")
    return 0


def write_helm_runs(suite: Path, runs, result, label: str) -> None:
    from helm_plugins.common.results import RunInstance, RunRecord, make_stat, write_run_directory

    for size, frontier in result["frontiers"].items():
        models = [r for r in runs if str(r["parameters"]) == size]
        best = min(models, key=lambda r: r["bce"])
        stats = {"frontier_points": len(frontier), "min_bce": best["bce"], "unconstrained_dp_gap": best["dp_gap"],
                 "min_abs_dp_gap": min(abs(r["dp_gap"]) for r in models)}
        # the extrapolation error exists for the held-out size only; the fitted sizes carry the stat without a value
        held_out = int(size) == result["held_out_size"]
        stats["extrapolation_mean_abs_error"] = result["extrapolation_error"]["mean_abs"] if held_out else []
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


def from_suite(args: argparse.Namespace) -> int:
    from helm_plugins.statistics.fairness_frontier.report import model_frontier, plot, suite_points

    settings = suite_points(Path(args.output_path) / "runs" / args.from_suite)
    results = {setting: model_frontier(points, args.contested if any(p["model"] == args.contested for p in points) else None,
                                       args.delta, args.epsilon) for setting, points in settings.items()}
    if args.contested and not any("less_discriminatory_alternative" in r for r in results.values()):
        raise ValueError(f"contested model {args.contested!r} has no hp_fairness run in suite {args.from_suite}")
    output = args.output or Path("fairness_frontier_output") / args.from_suite
    output.mkdir(parents=True, exist_ok=True)
    (output / "results.json").write_text(json.dumps(results, indent=1))
    plot(results, output / "fairness_frontier.png")
    for setting, result in results.items():
        print(f"{setting}:")
        print("| model | soft DP gap | BCE | exact match | Pareto-optimal |")
        print("|---|---|---|---|---|")
        for p in sorted(result["models"], key=lambda p: p["bce"]):
            match = "" if p["exact_match"] is None else f"{p['exact_match']:.3f}"
            print(f"| {p['model']} | {p['dp_gap']:+.4f} | {p['bce']:.4f} | {match} | "
                  f"{'yes' if p['model'] in result['pareto_optimal'] else ''} |")
        lda = result.get("less_discriminatory_alternative")
        if lda:
            c = lda["contested"]
            if lda["exists"]:
                print(f"less discriminatory alternative to {c['model']} (gap {c['dp_gap']:+.4f}, BCE {c['bce']:.4f}): the "
                      f"frontier reaches |gap| {lda['achievable_gap']:.4f} at no more loss (by {lda['improvement']:.4f} >= "
                      f"delta {lda['delta']}); models that alone do: {', '.join(lda['alternative_models']) or 'none (a mixture)'}")
            else:
                print(f"no less discriminatory alternative to {c['model']} by delta {lda['delta']} at its loss "
                      f"(|gap| {abs(c['dp_gap']):.4f}; the frontier reaches {lda['achievable_gap']:.4f})")
    print(f"report: {output}/results.json, {output}/fairness_frontier.png")
    return 0
