"""`helm-plugins provenance`: is a model derived from a training run? (palimpsestic query and reshuffle tests)

    helm-plugins provenance --demo --suite demo          # models trained here: Alice, Bob (derived), Carol (not)
    helm-plugins provenance --demo --seeds 10            # the query test over 10 seeds: Bob's detection, Carol's false positives
    helm-plugins provenance --transcript alice.jsonl --losses bob.jsonl --reference ref.jsonl --name org/bob
    helm-plugins provenance --reshuffle scores.jsonl --name org/bob          # observational: reshuffled retrainings
    helm-plugins provenance --transcript alice.jsonl --texts bob_texts.jsonl --name org/bob   # observational: n-grams

A transcript is JSONL {"id", "text", "position"}; loss files are JSONL {"id", "loss"} (mean token negative
log-likelihood of each transcript example under the suspect and under a reference model). A reshuffle scores file
is JSONL {"model", "score", "original"}: the summed completion log-probability of the suspect's texts under
Alice's real run ("original": true, exactly one) and under K retrainings of its last phase on reshuffled orders.
A texts file is JSONL {"id", "text"} of texts the suspect generated; the n-gram test matches their word n-grams
(2 to 8 words) in the transcript's documents and correlates the matched counts with the training positions.
"""

import argparse
import json
from pathlib import Path

from helm_plugins.cli import add_runner_arguments, add_subcommand, suite_dir


def add_parser(subparsers) -> None:
    parser = add_subcommand(subparsers, "provenance", "test whether a model derives from a training run (query test on a transcript; CPU demo)", __doc__, run)
    parser.add_argument("--demo", action="store_true", help="train Alice, Bob, Carol and a reference here and test them")
    parser.add_argument("--seeds", type=int, metavar="N",
                        help="with --demo: repeat the query test over N seeds (Bob's detection rate, Carol's false-positive rate)")
    parser.add_argument("--alpha", type=float, default=0.05, help="with --seeds: the test's level")
    parser.add_argument("--transcript", type=Path, help="Alice's training transcript (JSONL id, text, position)")
    parser.add_argument("--losses", type=Path, help="the suspect's per-example losses (JSONL id, loss)")
    parser.add_argument("--reference", type=Path, help="a reference model's per-example losses (JSONL id, loss)")
    parser.add_argument("--reshuffle", type=Path, help="observational reshuffle test: JSONL model, score, original")
    parser.add_argument("--texts", type=Path, help="observational n-gram test: the suspect's generated texts (JSONL id, text)")
    parser.add_argument("--bins", type=int, default=20, help="step bins of the n-gram test")
    parser.add_argument("--name", default="suspect", help="the suspect model's name in tables and HELM runs")
    parser.add_argument("--permutations", type=int, default=999, help="Monte-Carlo permutations of the null")
    add_runner_arguments(parser, "examples=500", "provenance_output")


def run(args: argparse.Namespace) -> int:
    from helm_plugins.statistics.provenance.report import TABLE_HEADER, format_result, test_from_files, write_helm_run

    modes = sum(map(bool, (args.demo, args.losses, args.reshuffle, args.texts)))
    if modes == 0 and args.transcript:
        raise ValueError("--transcript needs --losses (query test) or --texts (n-gram test)")
    if modes != 1:
        raise ValueError("give either --demo or --transcript with --losses (or --reshuffle, or --transcript with --texts)")
    if args.seeds is not None and not args.demo:
        raise ValueError("--seeds needs --demo")
    if args.demo and args.seeds is not None:
        return run_seed_study(args)
    if args.demo:
        return run_demo_command(args)
    if args.reshuffle:
        return run_reshuffle(args)
    if args.texts:
        return run_ngram(args)
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


def run_reshuffle(args: argparse.Namespace) -> int:
    from helm_plugins.common.jsonl import number_field, read_jsonl_rows
    from helm_plugins.statistics.provenance.hypothesis_tests import reshuffle_test

    original, others = [], []
    for line, row in read_jsonl_rows(args.reshuffle):
        score = number_field(args.reshuffle, line, row, "score")
        if not isinstance(row.get("original", False), bool):
            raise ValueError(f"{args.reshuffle}:{line}: field 'original' must be true or false")
        (original if row.get("original") else others).append(score)
    if len(original) != 1:
        raise ValueError(f"{args.reshuffle}: {len(original)} rows have \"original\": true; exactly one must (Alice's real run)")
    result = reshuffle_test(original + others)
    print(f"reshuffle test of {args.name}: rank p = {result.rank_p:.4f} (K = {result.k}, floor {1 / (result.k + 1):.4f}), "
          f"z = {result.z:+.2f}, normal p = {result.normal_p:.2e}")
    _write(args, "reshuffle_test.json", result.as_dict(), {"reshuffle_rank_p": result.rank_p, "reshuffle_z": result.z},
           f"Reshuffle test of {args.name}: its texts scored under Alice's run and {result.k} reshuffled retrainings.")
    return 0


def run_ngram(args: argparse.Namespace) -> int:
    from helm_plugins.common.jsonl import read_jsonl_rows
    from helm_plugins.statistics.provenance.hypothesis_tests import word_ngram_test
    from helm_plugins.statistics.provenance.transcript import read_transcript

    if not args.transcript:
        raise ValueError("--texts needs --transcript (Alice's documents and their training positions)")
    examples = read_transcript(args.transcript)
    texts = []
    for line, row in read_jsonl_rows(args.texts):
        if not isinstance(row.get("text"), str) or not row["text"].strip():
            raise ValueError(f"{args.texts}:{line}: missing or empty string field 'text'")
        texts.append(row["text"])
    result = word_ngram_test([e.position for e in examples], [e.text for e in examples], texts, args.bins,
                             args.permutations)
    print(f"n-gram test of {args.name}: Spearman {result.spearman:+.3f} over {result.bins} step bins "
          f"({result.positions} matched positions in {len(texts)} texts), permutation p = {result.permutation_p:.4f}")
    _write(args, "ngram_test.json", result.as_dict(), {"partition_spearman": result.spearman, "partition_p": result.permutation_p},
           f"n-gram (partition) test of {args.name}'s texts against the transcript {args.transcript}.")
    return 0


def _write(args: argparse.Namespace, filename: str, result: dict, stats: dict, description: str) -> None:
    from helm_plugins.common.results import RunRecord, make_stat, write_run_directory

    output = args.output or Path("provenance_output") / Path(args.name).name
    output.mkdir(parents=True, exist_ok=True)
    (output / filename).write_text(json.dumps(result, indent=1))
    if suite_dir(args):
        test = filename.split("_")[0]
        write_run_directory(suite_dir(args), RunRecord(
            name=f"hp_provenance_{test}:model={args.name}", scenario_name="hp_provenance", scenario_description=description,
            scenario_class="helm_plugins.statistics.provenance.hypothesis_tests", scenario_args={"test": test},
            model=args.name, method="provenance", groups=[f"hp_provenance_{test}"],
            stats=[make_stat(k, v) for k, v in stats.items()],
        ))
    print(f"report: {output}/{filename}")


def run_demo_command(args: argparse.Namespace) -> int:
    from helm_plugins.common.configs import load_yaml_config
    from helm_plugins.statistics.provenance.demo import ProvenanceDemoConfig, run_demo
    from helm_plugins.statistics.provenance.report import TABLE_HEADER, format_result

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
        write_demo_runs(suite_dir(args), result, config.examples)
    print(f"report: {output}/results.json, {output}/provenance.png")
    return 0


def run_seed_study(args: argparse.Namespace) -> int:
    from helm_plugins.common.configs import load_yaml_config
    from helm_plugins.statistics.provenance.demo import ProvenanceDemoConfig, seed_study

    if args.seeds < 1 or not 0 < args.alpha < 1:
        raise ValueError(f"--seeds must be >= 1 and --alpha in (0, 1), got {args.seeds} and {args.alpha}")
    config = load_yaml_config(ProvenanceDemoConfig, None, None, args.config, args.overrides)
    output = args.output or Path("provenance_output") / "seeds"
    output.mkdir(parents=True, exist_ok=True)
    study = seed_study(config, range(config.seed, config.seed + args.seeds), args.alpha, progress=not args.no_progress)
    (output / "seed_study.json").write_text(json.dumps({"config": config.model_dump(), **study}, indent=1))
    print(f"query test with the reference, {config.examples} examples, level {args.alpha}, {args.seeds} seeds:")
    for suspect, rate in study["rates"].items():
        print(f"{suspect}: rejected H0 in {rate['rejected']} of {rate['seeds']} seeds, rate {rate['rate']:.2f} "
              f"(95% interval [{rate['ci_low']:.2f}, {rate['ci_high']:.2f}])")
    print(f"report: {output}/seed_study.json")
    return 0


def write_demo_runs(suite: Path, result, examples: int) -> None:
    """One HELM run per suspect and setting (with or without the reference): its largest query test, with the
    reshuffle and n-gram tests of the suspect's texts."""
    from helm_plugins.statistics.provenance.report import DEMO_GROUP, QUERY_GROUP, write_helm_run

    for key, results in result.query.items():
        suspect = key.split("+")[0]
        extra = {}
        if suspect in result.reshuffle:
            extra = {"reshuffle_rank_p": result.reshuffle[suspect]["rank_p"], "reshuffle_z": result.reshuffle[suspect]["z"],
                     "partition_spearman": result.partition[suspect]["spearman"],
                     "partition_p": result.partition[suspect]["permutation_p"]}
        description = (
            f"Provenance demo: {suspect} against Alice's transcript of {examples} synthetic stories "
            f"({'with' if key.endswith('+reference') else 'without'} the reference model); helm-plugins provenance --demo."
        )
        write_helm_run(
            suite, f"helm-plugins/provenance-{key}", results[-1], description,  # one row per setting
            "helm-plugins/provenance-reference" if key.endswith("+reference") else None, extra,
            group=DEMO_GROUP if extra else QUERY_GROUP,
        )
