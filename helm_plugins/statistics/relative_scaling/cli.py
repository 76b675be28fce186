"""`helm-plugins relative-scaling`: per-subgroup power laws and the relative scaling law between two subgroups.

    helm-plugins relative-scaling --demo                 # GPTs at five compute budgets, frequent vs rare dialect
    helm-plugins relative-scaling --isoflop              # IsoFLOP suite: >= 3 sizes per budget, compute-optimal points
    helm-plugins relative-scaling --models models.jsonl --subgroup rare --baseline frequent
    helm-plugins relative-scaling --models models.jsonl --subgroups a,b,c,d --baseline frequent   # FDR control

A models file is JSONL, one model per line: {"flops": ..., "<subgroup>": mean error, ...} and optionally
"<subgroup>_items": [per-item errors] (checked, kept with the demo's models). The interval on dbeta is the
regression's t interval over models. With --subgroups, every listed subgroup is tested against the baseline
at once and labelled converging / diverging only where its Benjamini-Hochberg adjusted p-value (q) is below
0.05, which controls the false-discovery rate over the subgroups at 5%; the intervals stay per subgroup.
"""

import argparse
from pathlib import Path

import numpy as np

from helm_plugins.cli import add_runner_arguments, add_subcommand, suite_dir
from helm_plugins.common.jsonl import number_field, number_list_field, read_jsonl_rows

GROUP = "hp_relative_scaling"


def add_parser(subparsers) -> None:
    parser = add_subcommand(
        subparsers, "relative-scaling", "fit relative scaling laws between subgroups (CPU demo or a models file)", __doc__, run
    )
    parser.add_argument("--demo", action="store_true", help="train the demo GPTs here (about 2 minutes)")
    parser.add_argument("--isoflop", action="store_true",
                        help="train an IsoFLOP suite here (>= 3 sizes per budget, four budgets; a few minutes)")
    parser.add_argument("--models", type=Path, help="JSONL of models: flops and per-subgroup errors")
    parser.add_argument("--from-suite", help="read a model family's finished HELM runs from this suite (with --compute)")
    parser.add_argument("--compute", type=Path, help="CSV model,flops of the family (with --from-suite)")
    parser.add_argument("--metric", default="exact_match", help="per-instance stat of the runs (with --from-suite)")
    parser.add_argument("--accuracy", action="store_true", help="the metric is an accuracy: error = 1 - metric")
    parser.add_argument("--subgroup", default="rare", help="the subgroup whose gap is tracked (with --from-suite: a run-name substring)")
    parser.add_argument("--baseline", default="frequent", help="the reference subgroup")
    parser.add_argument("--subgroups", help="comma-separated subgroups tested at once against the baseline, "
                        "labels with false-discovery-rate control (with --models or --from-suite)")
    add_runner_arguments(parser, "steps=[50,100,200]", "relative_scaling_output")


def run(args: argparse.Namespace) -> int:
    from helm_plugins.common.configs import load_yaml_config
    from helm_plugins.statistics.relative_scaling.demo import RelativeScalingDemoConfig, analyse, run_demo

    if sum(map(bool, (args.demo, args.isoflop, args.models, args.from_suite))) != 1:
        raise ValueError("give one of --demo, --isoflop, --models or --from-suite")
    if args.subgroups:
        return run_many(args)
    if args.isoflop:
        return run_isoflop_suite(args)
    label = "demo" if args.demo else args.models.stem if args.models else args.from_suite
    output = args.output or Path("relative_scaling_output") / label
    names = (args.subgroup, args.baseline)
    if args.demo:
        config = load_yaml_config(RelativeScalingDemoConfig, None, None, args.config, args.overrides)
        result = run_demo(config, output, progress=not args.no_progress)
        names = ("rare", "frequent")
    elif args.from_suite:
        from helm_plugins.common.model_tables import read_model_table
        from helm_plugins.statistics.relative_scaling.report import family_errors

        if not args.compute:
            raise ValueError("--from-suite needs --compute (CSV model,flops)")
        flops, errors, _, models = family_errors(
            Path(args.output_path) / "runs" / args.from_suite, read_model_table(args.compute, "flops"), args.metric, names, args.accuracy
        )
        rows = [{"model": m, "flops": f, **{n: errors[n][i] for n in names}} for i, (m, f) in enumerate(zip(models, flops))]
        result = analyse(flops, errors, *names, rows, output)
    else:
        rows = []
        for number, row in read_jsonl_rows(args.models):
            number_field(args.models, number, row, "flops", positive=True)
            for name in names:
                number_field(args.models, number, row, name)
                if f"{name}_items" in row:
                    number_list_field(args.models, number, row, f"{name}_items")
            rows.append(row)
        result = analyse(
            np.array([r["flops"] for r in rows], dtype=float),
            {n: np.array([r[n] for r in rows], dtype=float) for n in names},
            *names,
            [{"flops": r["flops"], **{n: r[n] for n in names}} for r in rows],
            output,
            source=f"{args.models}: ",
        )
    print_laws(result)
    if suite_dir(args):
        write_helm_runs(suite_dir(args), result, baseline=names[1], subgroup=names[0])
    print(f"report: {output}/results.json, {output}/relative_scaling.png")
    if args.demo:
        print_helm_route(output, result["models"])
    return 0


def print_laws(result: dict, where: str = "", compute: str = "F", family: str = "") -> dict:
    """Print the per-subgroup power laws and the relative law with its interval; returns the relative law."""
    for name, law in result["power_laws"].items():
        interval = f", beta 95% interval [{law['beta_ci_low']:.4f}, {law['beta_ci_high']:.4f}]" if "beta_ci_low" in law else ""
        print(f"{name}{where}: E = {law['alpha']:.4g} {compute}^-{law['beta']:.4f} (R^2 {law['r_squared']:.3f}{interval})")
    rel = result["relative"]
    print(f"relative law {rel['subgroup']} / {rel['baseline']}{family}: G = {rel['gamma']:.4g} "
          f"{compute}^{rel['delta_beta']:+.4f}, 95% interval [{rel['ci_low']:+.4f}, {rel['ci_high']:+.4f}]: {rel['label']}")
    return rel


def run_isoflop_suite(args: argparse.Namespace) -> int:
    from helm_plugins.common.configs import load_yaml_config
    from helm_plugins.statistics.relative_scaling.isoflop import IsoFlopConfig, run_isoflop

    config = load_yaml_config(IsoFlopConfig, None, None, args.config, args.overrides)
    output = args.output or Path("relative_scaling_output") / "isoflop"
    result = run_isoflop(config, output, progress=not args.no_progress)
    print(f"{len(result['runs'])} runs over {len(result['optima'])} budgets; compute-optimal size per budget "
          "(vertex of the loss parabola in log N):")
    print(f"{'budget':>9s} {'sizes':>24s} {'N*':>9s} {'loss*':>7s} {'rare*':>7s} {'frequent*':>9s}")
    for o in result["optima"]:
        sizes = ",".join(f"{s / 1e3:.0f}k" for s in o["sizes"])
        flag = "" if o["inside"] else "  (at the edge of its sizes)"
        print(f"{o['budget']:9.3g} {sizes:>24s} {o['n_opt']:9.0f} {o['loss_opt']:7.3f} {o['errors']['rare']:7.3f} "
              f"{o['errors']['frequent']:9.3f}{flag}")
    a = result["n_opt_exponent"]
    print(f"N* = k C^a: a = {a['a']:.3f}, 95% interval [{a['ci_low']:.3f}, {a['ci_high']:.3f}]")
    rel = print_laws(result, " at the optima", "C", " over the compute-optimal models")
    if suite_dir(args):
        models = [{"model": f"helm-plugins/isoflop-optimum-{o['budget']:.2g}", "flops": o["flops"], **o["errors"]}
                  for o in result["optima"]]
        write_helm_runs(suite_dir(args), {"relative": rel, "models": models}, baseline="frequent", subgroup="rare")
    print(f"report: {output}/results.json, {output}/isoflop.png, {output}/compute_optimal.jsonl")
    return 0


def print_helm_route(output: Path, models: list) -> None:
    """The commands that redo the demo's analysis from helm-run runs of its checkpoints."""
    checkpoints = " ".join(f"{output}/checkpoints/{m['model'].split('/')[-1]}" for m in models)
    entries = " ".join(f"'hp_text_loss:source={output}/held_out.jsonl,subgroup={s},model={m['model']}'"
                       for m in models for s in ("rare", "frequent"))
    print("the same family through helm-run:")
    print(f"  helm-run --enable-local-huggingface-models {checkpoints} --run-entries {entries} --max-eval-instances 1000 --suite S")
    print(f"  helm-plugins relative-scaling --from-suite S --compute {output}/compute.csv --metric bits_per_byte "
          "--subgroup subgroup=rare --baseline subgroup=frequent")


def write_helm_runs(suite: Path, result: dict, baseline: str, subgroup: str) -> None:
    """One run per model of the family (rows ordered by compute) with its per-subgroup errors and the family's
    relative law."""
    from helm_plugins.common.results import RunRecord, make_stat, write_run_directory

    rel = result["relative"]
    for model in result["models"]:
        if "model" in model:
            name = model["model"]
        elif "steps" in model:
            name = f"helm-plugins/gpt-{model['steps']}steps"
        else:
            name = f"helm-plugins/model-{model['flops']:.3g}"
        stats = {
            "flops": model["flops"],
            "baseline_error": model[baseline],
            "subgroup_error": model[subgroup],
            "error_ratio": model[subgroup] / model[baseline],
            "relative_delta_beta": rel["delta_beta"],
        }
        record = RunRecord(
            name=f"hp_relative_scaling:subgroup={subgroup},baseline={baseline},model={name}",
            scenario_name=GROUP,
            scenario_description=f"Held-out error on {subgroup} and {baseline} of one model of a compute family; the "
            f"family's relative law: dbeta {rel['delta_beta']:+.3f} [{rel['ci_low']:+.3f}, {rel['ci_high']:+.3f}], "
            f"{rel['label']} (helm-plugins relative-scaling).",
            scenario_class="helm_plugins.statistics.relative_scaling.laws.relative_law",
            scenario_args={"subgroup": subgroup, "baseline": baseline},
            model=name,
            method="relative_scaling",
            groups=[GROUP],
            stats=[make_stat(k, v) for k, v in stats.items()],
        )
        write_run_directory(suite, record)


def _subgroup_names(args: argparse.Namespace) -> list:
    names = [name.strip() for name in args.subgroups.split(",") if name.strip()]
    if len(names) < 2 or len(set(names)) != len(names) or args.baseline in names:
        raise ValueError(f"--subgroups needs two or more distinct subgroups other than the baseline, got {args.subgroups!r}")
    return names


def run_many(args: argparse.Namespace) -> int:
    """Several subgroups against one baseline, Benjamini-Hochberg labels; writes relative_laws.json."""
    import json

    from helm_plugins.statistics.relative_scaling.laws import relative_laws

    if args.demo:
        raise ValueError("--subgroups goes with --models or --from-suite (the demo has two subgroups)")
    names = _subgroup_names(args)
    if args.from_suite:
        from helm_plugins.common.model_tables import read_model_table
        from helm_plugins.statistics.relative_scaling.report import family_errors

        if not args.compute:
            raise ValueError("--from-suite needs --compute (CSV model,flops)")
        compute = read_model_table(args.compute, "flops")
        errors = {}
        for name in names:  # each subgroup with the baseline: the models that have both
            flops_pair, pair, _, models = family_errors(
                Path(args.output_path) / "runs" / args.from_suite, compute, args.metric, (name, args.baseline), args.accuracy
            )
            errors[name] = dict(zip(models, pair[name]))
            errors.setdefault(args.baseline, {}).update(zip(models, pair[args.baseline]))
        models = sorted(set.intersection(*(set(values) for values in errors.values())), key=lambda m: compute[m])
        flops = np.array([compute[m] for m in models], dtype=float)
        arrays = {name: np.array([errors[name][m] for m in models], dtype=float) for name in errors}
        label = args.from_suite
    else:
        rows = []
        for number, row in read_jsonl_rows(args.models):
            number_field(args.models, number, row, "flops", positive=True)
            for name in names + [args.baseline]:
                number_field(args.models, number, row, name)
            rows.append(row)
        flops = np.array([r["flops"] for r in rows], dtype=float)
        arrays = {name: np.array([r[name] for r in rows], dtype=float) for name in names + [args.baseline]}
        label = args.models.stem
    laws = relative_laws(flops, arrays, args.baseline)
    output = args.output or Path("relative_scaling_output") / label
    output.mkdir(parents=True, exist_ok=True)
    (output / "relative_laws.json").write_text(json.dumps(
        {"baseline": args.baseline, "models": len(flops), "fdr": 0.05, "laws": [laws[n].as_dict() for n in names]}, indent=1))
    print(f"{len(names)} subgroups against {args.baseline!r} over {len(flops)} models "
          "(labels: Benjamini-Hochberg false-discovery rate 5%):")
    print(f"{'subgroup':24s} {'dbeta':>9s} {'95% interval':>22s} {'p':>8s} {'q (BH)':>8s}  label")
    for name in names:
        law = laws[name]
        print(f"{name:24s} {law.delta_beta:+9.4f} [{law.ci_low:+9.4f}, {law.ci_high:+9.4f}] {law.p:8.3g} {law.q:8.3g}  {law.label}")
    print(f"report: {output}/relative_laws.json")
    return 0
