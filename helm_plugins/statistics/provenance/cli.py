"""`helm-plugins provenance`: is a model derived from a training run? (palimpsestic query and reshuffle tests)

    helm-plugins provenance --demo --suite demo          # models trained here: Alice, Bob (derived), Carol (not)
    helm-plugins provenance --transcript alice.jsonl --losses bob.jsonl --reference ref.jsonl --name org/bob

A transcript is JSONL {"id", "text", "position"}; loss files are JSONL {"id", "loss"} (mean token negative
log-likelihood of each transcript example under the suspect and under a reference model).
"""

import argparse
import json
from pathlib import Path

from helm_plugins.cli import add_runner_arguments, add_subcommand, suite_dir


def add_parser(subparsers) -> None:
    parser = add_subcommand(subparsers, "provenance", "test whether a model derives from a training run (query test on a transcript; CPU demo)", __doc__, run)
    parser.add_argument("--demo", action="store_true", help="train Alice, Bob, Carol and a reference here and test them")
    parser.add_argument("--transcript", type=Path, help="Alice's training transcript (JSONL id, text, position)")
    parser.add_argument("--losses", type=Path, help="the suspect's per-example losses (JSONL id, loss)")
    parser.add_argument("--reference", type=Path, help="a reference model's per-example losses (JSONL id, loss)")
    parser.add_argument("--name", default="suspect", help="the suspect model's name in tables and HELM runs")
    parser.add_argument("--permutations", type=int, default=999, help="Monte-Carlo permutations of the null")
    add_runner_arguments(parser, "examples=500", "provenance_output")


def run(args: argparse.Namespace) -> int:
    from helm_plugins.statistics.provenance.report import TABLE_HEADER, format_result, test_from_files, write_helm_run

    if args.demo == bool(args.transcript or args.losses):
        raise ValueError("give either --demo or --transcript with --losses")
    if args.demo:
        return run_demo_command(args)
    if not (args.transcript and args.losses):
        raise ValueError("--transcript needs --losses (and optionally --reference)")
    result = test_from_files(args.transcript, args.losses, args.reference, args.permutations)
    print("\n".join(TABLE_HEADER + [format_result(args.name, result)]))
    output = args.output or Path("provenance_output") / Path(args.name).name
    output.mkdir(parents=True, exist_ok=True)
    (output / "query_test.json").write_text(json.dumps(result.as_dict(), indent=1))
    if suite_dir(args):
        description = f"Query test of {args.name} against the transcript {args.transcript}."
        write_helm_run(suite_dir(args), args.name, result, description, str(args.reference) if args.reference else None)
    return 0


def run_demo_command(args: argparse.Namespace) -> int:
    from helm_plugins.common.configs import load_yaml_config
    from helm_plugins.statistics.provenance.demo import ProvenanceDemoConfig, run_demo
    from helm_plugins.statistics.provenance.report import TABLE_HEADER, format_result, write_helm_run

    config = load_yaml_config(ProvenanceDemoConfig, None, None, args.config, args.overrides)
    output = args.output or Path("provenance_output") / "demo"
    result = run_demo(config, output, progress=not args.no_progress)
    lines = list(TABLE_HEADER)
    for key, results in result.query.items():
        lines += [format_result(key, r) for r in results]
    print("\n".join(lines))
    for suspect, test in result.reshuffle.items():
        print(f"reshuffle test, texts sampled from {suspect}: rank p = {test['rank_p']:.3f} (K = {test['k']}), z = {test['z']:+.2f}")
    for suspect, test in result.partition.items():
        print(f"n-gram test, texts sampled from {suspect}: Spearman {test['spearman']:+.3f} over {test['bins']} step bins "
              f"({test['positions']} matched positions), permutation p = {test['permutation_p']:.3f}")
    if suite_dir(args):
        for key, results in result.query.items():
            suspect = key.split("+")[0]
            extra = {}
            if suspect in result.reshuffle:
                extra = {"reshuffle_rank_p": result.reshuffle[suspect]["rank_p"], "reshuffle_z": result.reshuffle[suspect]["z"],
                         "partition_p": result.partition[suspect]["permutation_p"]}
            description = (
                f"Provenance demo: {suspect} against Alice's transcript of {config.examples} synthetic stories "
                f"({'with' if key.endswith('+reference') else 'without'} the reference model); helm-plugins provenance --demo."
            )
            write_helm_run(
                suite_dir(args), f"helm-plugins/provenance-{key}", results[-1], description,  # one row per setting
                "helm-plugins/provenance-reference" if key.endswith("+reference") else None, extra,
            )
    print(f"report: {output}/results.json, {output}/provenance.png")
    return 0
