"""`helm-plugins optimize` and `helm-plugins ceiling`: DSPy optimisation through HELM, and the ceiling report.

    helm-plugins optimize --benchmark synthetic_arithmetic --model-deployment helm-plugins/tiny-default --method bfrs
    helm-plugins optimize --benchmark gsm8k --model-deployment openai/gpt-4o-2024-05-13 --method miprov2 \\
        --prompt-model openai/gpt-4o-2024-05-13 --seed 1
    helm-plugins ceiling --suite sp            # reads benchmark_output/runs/sp, writes tables and plots

`optimize` uses helm-run's local path (prod_env/: deployments, credentials, request cache) and output path
(-o: benchmark data under <output-path>/scenarios), so its LM calls land in the same HELM cache as the runs, and
saves the program where a run entry with the same settings looks for it (<output-path>/dspy_programs, or
--programs-dir). A run entry's max_tokens and temperature= are --max-tokens and --temperature here.
"""

import argparse
import sys
from pathlib import Path

from helm_plugins.cli import add_subcommand


def add_parser(subparsers) -> None:
    optimize = add_subcommand(subparsers, "optimize", "optimise a DSPy program (BFRS, MIPROv2, GEPA) through HELM",
                              __doc__, run_optimize)
    optimize.add_argument("--benchmark", required=True, help="e.g. synthetic_arithmetic, gsm8k, mmlu_pro")
    optimize.add_argument("--model-deployment", required=True, help="any HELM model deployment")
    optimize.add_argument("--method", required=True, choices=["bfrs", "miprov2", "gepa"])
    optimize.add_argument("--seed", type=int, default=0)
    optimize.add_argument("--prompt-model", default="", help="deployment proposing instructions (default: the task model)")
    optimize.add_argument("-o", "--output-path", default="benchmark_output",
                          help="HELM output path, as helm-run's: benchmark data under <output-path>/scenarios, "
                               "programs under <output-path>/dspy_programs")
    optimize.add_argument("--programs-dir", default="", help="programs folder (default: <output-path>/dspy_programs)")
    optimize.add_argument("--candidates", type=int, default=16, help="BFRS candidate programs (the paper: 16)")
    optimize.add_argument("--demos", type=int, default=3, help="bootstrapped and labelled demos each (the paper: 3)")
    optimize.add_argument("--gepa-max-metric-calls", type=int, default=None)
    optimize.add_argument("--max-tokens", type=int, default=4000, help="as the run entry's max_tokens")
    optimize.add_argument("--temperature", type=float, default=None, help="as the run entry's temperature=")
    optimize.add_argument("--num-instances", type=int, default=200, help="synthetic benchmarks: evaluation size")
    optimize.add_argument("--data-seed", type=int, default=0, help="synthetic benchmarks: data seed")
    optimize.add_argument("--local-path", default="prod_env", help="as helm-run: configs, credentials, cache")
    optimize.add_argument("-n", "--num-threads", type=int, default=4)
    optimize.add_argument("--force", action="store_true", help="optimise again even if the program exists")
    optimize.add_argument("--no-progress", action="store_true")

    ceiling = add_subcommand(subparsers, "ceiling", "ceiling report over a suite of structured-prompting runs",
                             __doc__, run_ceiling)
    ceiling.add_argument("--suite", required=True)
    ceiling.add_argument("-o", "--output-path", default="benchmark_output", help="HELM output path (as helm-run)")
    ceiling.add_argument("--output", type=Path, help="report folder (default: <output-path>/runs/<suite>/ceiling)")
    ceiling.add_argument("--bootstrap-samples", type=int, default=2000)
    ceiling.add_argument("--seed", type=int, default=0)


def run_optimize(args: argparse.Namespace) -> int:
    import dataclasses
    import os

    from helm.benchmark.config_registry import register_builtin_configs_from_helm_package, register_configs_from_directory
    from helm.benchmark.model_deployment_registry import get_model_deployment
    from helm.benchmark.scenarios.scenario import EVAL_SPLITS, create_scenario
    from helm.common.cache_backend_config import SqliteCacheBackendConfig
    from helm.common.local_context import LocalContext

    import helm_plugins.plugin  # noqa: F401  (the embedded model's deployments)
    from helm.benchmark.runner import set_benchmark_output_path
    from helm.benchmark.scenarios.scenario import get_scenario_cache_path

    from helm_plugins.structured_prompting.executor import OptimisationFailed, keyed_program_path, optimise_for_run
    from helm_plugins.structured_prompting.run_specs import get_structured_prompting_spec

    register_builtin_configs_from_helm_package()
    if os.path.isdir(args.local_path):
        register_configs_from_directory(args.local_path)
    deployment = get_model_deployment(args.model_deployment)
    run_spec = get_structured_prompting_spec(
        benchmark=args.benchmark, method=args.method, seed=args.seed, num_instances=args.num_instances,
        data_seed=args.data_seed, programs_dir=args.programs_dir, prompt_model=args.prompt_model,
        candidates=args.candidates, demos=args.demos, gepa_max_metric_calls=args.gepa_max_metric_calls,
        max_tokens=args.max_tokens,
    )
    spec = dataclasses.replace(run_spec.adapter_spec, model=deployment.model_name, model_deployment=deployment.name)
    if args.temperature is not None:
        spec = dataclasses.replace(spec, temperature=args.temperature)
    os.makedirs(args.output_path, exist_ok=True)
    set_benchmark_output_path(args.output_path)
    path = keyed_program_path(spec, args.output_path)
    if path.exists() and not args.force:
        print(f"program exists (use --force to optimise again): {path}")
        return 0
    cache_path = os.path.join(args.local_path, "cache")
    os.makedirs(cache_path, exist_ok=True)
    context = LocalContext(base_path=args.local_path, cache_backend_config=SqliteCacheBackendConfig(cache_path))
    scenario = create_scenario(run_spec.scenario_spec)
    instances = scenario.get_instances(get_scenario_cache_path(args.output_path, scenario.name))
    evaluation = [i for i in instances if i.split in set(spec.eval_splits or EVAL_SPLITS)]
    try:
        optimise_for_run(context, spec, evaluation, args.num_threads, path, args.output_path,
                         progress=not args.no_progress)
    except OptimisationFailed as failure:
        print(f"optimisation failed, nothing saved: {failure}", file=sys.stderr)
        return 1
    print(f"saved {path}\n      {path.with_suffix('.meta.json')}")
    return 0


def run_ceiling(args: argparse.Namespace) -> int:
    from helm_plugins.structured_prompting.report import write_report

    suite = Path(args.output_path) / "runs" / args.suite
    if not suite.is_dir():
        raise FileNotFoundError(f"no suite at {suite}: run helm-run --suite {args.suite} first")
    output = args.output or suite / "ceiling"
    _, paths = write_report(suite, output, args.bootstrap_samples, args.seed)
    print((output / "ceiling.md").read_text())
    print("written: " + ", ".join(str(p) for p in paths))
    return 0
