"""`helm-plugins spec-matrix` and `helm-plugins spec-testmaker`: SpecEval around helm-run (arXiv 2509.02464).

    helm-plugins spec-parse --markdown model_spec.md --output specs/openai.jsonl   # a spec document to statements
    helm-plugins spec-matrix --suite S        # candidate × judge × spec matrix, three-way consistency, bias heatmap
    helm-plugins spec-testmaker --spec toy --testmaker openai/gpt-4.1-2025-04-14 --output prompts.jsonl

spec-matrix reads the suite's finished hp_spec_adherence runs and writes spec_matrix.md, spec_matrix.json and
judge_bias.png into benchmark_output/runs/S/spec_matrix/ (or --output). spec-testmaker runs the adaptive TestMaker
search with HELM deployments (prod_env credentials and cache, as helm-run) and writes prompts for
`hp_spec_adherence:prompts=<file>`; results are cached per statement under --cache.
"""

import argparse
import json
from dataclasses import asdict
from pathlib import Path

from helm_plugins.cli import add_subcommand


def add_parser(subparsers) -> None:
    matrix = add_subcommand(subparsers, "spec-matrix", "SpecEval candidate × judge × specification matrix and judge-bias heatmap", __doc__, run_matrix)
    matrix.add_argument("--suite", required=True, help="HELM suite with finished hp_spec_adherence runs")
    matrix.add_argument("-o", "--output-path", default="benchmark_output", help="HELM output path (as helm-run)")
    matrix.add_argument("--output", type=Path, help="report folder (default: <suite>/spec_matrix)")
    matrix.add_argument("--local-path", default="prod_env",
                        help="helm-run's local path: its model_deployments.yaml and model_metadata.yaml say which "
                             "organization made each candidate and judge")
    parse = add_subcommand(subparsers, "spec-parse", "SpecEval: a specification document (markdown) to statements JSONL",
                           __doc__, run_parse)
    parse.add_argument("--markdown", type=Path, required=True, help="the provider's specification in markdown")
    parse.add_argument("--output", type=Path, required=True, help="statements JSONL to write (for spec=<file>)")
    parse.add_argument("--default-type", default="", help="type of statements whose heading names none")
    parse.add_argument("--default-authority", default="", help="authority level of statements whose heading names none")
    maker = add_subcommand(subparsers, "spec-testmaker", "SpecEval TestMaker: adaptive search for hard prompts per statement", __doc__, run_testmaker)
    maker.add_argument("--spec", required=True, help="'toy' or a statements JSONL path")
    maker.add_argument("--testmaker", required=True, help="model deployment that writes the prompts")
    maker.add_argument("--candidate", help="model deployment that answers them (default: the TestMaker)")
    maker.add_argument("--judge", help="model deployment that rates quality and compliance (default: the TestMaker)")
    maker.add_argument("--output", type=Path, required=True, help="prompts JSONL to write")
    maker.add_argument("--cache", type=Path, default=Path("testmaker_cache"), help="per-statement result cache")
    maker.add_argument("--local-path", default="prod_env", help="HELM's local path (credentials, model configs, cache)")
    for name, default in (("rounds", 3), ("prompts-per-round", 10), ("quality-threshold", 3.0), ("prompts-per-statement", 20), ("seed", 0)):
        maker.add_argument(f"--{name}", type=type(default), default=default)


def register_configs(local_path: str) -> None:
    """HELM's built-in model configs, the package's own models and those of the local path (as helm-run)."""
    import os

    import helm_plugins.plugin  # noqa: F401  registers the embedded model
    from helm.benchmark.config_registry import register_builtin_configs_from_helm_package, register_configs_from_directory

    register_builtin_configs_from_helm_package()
    if os.path.isdir(local_path):
        register_configs_from_directory(local_path)


def run_parse(args: argparse.Namespace) -> int:
    from helm_plugins.judges.spec_adherence.statements import load_spec, parse_markdown_spec

    if not args.markdown.is_file():
        raise FileNotFoundError(f"specification document {args.markdown} not found")
    statements = parse_markdown_spec(args.markdown.read_text(), str(args.markdown), args.default_type,
                                     args.default_authority)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("".join(s.model_dump_json() + "\n" for s in statements))
    load_spec(str(args.output))  # what was written reads back as a specification
    counts = {}
    for statement in statements:
        counts[statement.type] = counts.get(statement.type, 0) + 1
    print(f"wrote {len(statements)} statements to {args.output} ({', '.join(f'{k} {v}' for k, v in sorted(counts.items()))})")
    return 0


def run_matrix(args: argparse.Namespace) -> int:
    from helm_plugins.judges.spec_adherence.report import build_report

    register_configs(args.local_path)
    suite = Path(args.output_path) / "runs" / args.suite
    if not suite.is_dir():
        raise FileNotFoundError(f"suite folder {suite} not found (run helm-run --suite {args.suite} first)")
    output = args.output or suite / "spec_matrix"
    print(build_report(suite, output))
    print(f"\nwrote {output}/spec_matrix.md, spec_matrix.json, judge_bias.png")
    return 0


def run_testmaker(args: argparse.Namespace) -> int:
    import os

    from helm.clients.auto_client import AutoClient
    from helm.common.cache_backend_config import SqliteCacheBackendConfig
    from helm.common.general import get_credentials

    from helm_plugins.judges.spec_adherence.statements import load_spec
    from helm_plugins.judges.spec_adherence.testmaker import TestMakerConfig, helm_testmaker, run_cached

    register_configs(args.local_path)
    cache = os.path.join(args.local_path, "cache")
    os.makedirs(cache, exist_ok=True)
    client = AutoClient(get_credentials(args.local_path), cache, SqliteCacheBackendConfig(cache))
    config = TestMakerConfig(rounds=args.rounds, prompts_per_round=args.prompts_per_round,
                             quality_threshold=args.quality_threshold, prompts_per_statement=args.prompts_per_statement,
                             seed=args.seed)
    candidate, judge = args.candidate or args.testmaker, args.judge or args.testmaker
    maker = helm_testmaker(client, config, args.testmaker, candidate, judge)
    prompts = run_cached(maker, load_spec(args.spec), args.cache, [args.testmaker, candidate, judge])
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("".join(json.dumps({**asdict(p), "difficulty": p.difficulty}) + "\n" for p in prompts))
    for row in maker.log:
        print(json.dumps(row))
    print(f"wrote {len(prompts)} prompts to {args.output}")
    return 0
