"""`helm-plugins rl-mle`: RL of an ML-engineering program policy with asynchronous actors, with and without the
duration-weighted policy gradient and stage-marker instrumentation (arXiv 2509.01684).

    helm-plugins rl-mle --preset demo --suite demo
    helm-plugins rl-mle --preset paper-small --output rl_mle_output/paper-small
    helm-plugins rl-mle --preset demo --set clock=real --set steps=5     # real actor processes

Rerunning with the same --output resumes from its checkpoint.json (finished runs are kept, unfinished ones continue).
"""

import argparse
from pathlib import Path

from helm_plugins.cli import add_runner_arguments, add_subcommand, suite_dir


def add_parser(subparsers) -> None:
    parser = add_subcommand(subparsers, "rl-mle", "RL for ML-engineering agents: duration-aware policy gradient, "
                            "asynchronous actors, instrumentation", __doc__, run)
    parser.add_argument("--preset", default="demo", help="preset name (demo, paper-small)")
    add_runner_arguments(parser, "steps=40", "rl_mle_output")


def run(args: argparse.Namespace) -> int:
    from helm_plugins.runners.rl.config import load_rl_mle_config
    from helm_plugins.runners.rl.report import fmt
    from helm_plugins.runners.rl.study import run_study

    config = load_rl_mle_config(args.preset, args.config, args.overrides)
    output = args.output or Path("rl_mle_output") / config.run_name
    progress = (lambda message: None) if args.no_progress else print
    summary = run_study(config, output, suite_dir=suite_dir(args), progress=progress)
    print(f"{'task':24s} {'arm':26s} {'best-of-N':>24s} {'late score':>24s} {'action s':>20s}")
    for row in summary["table"]:
        print(f"{row['task']:24s} {row['arm']:26s} {fmt(row['best_of_n']):>24s} {fmt(row['late_score']):>24s} "
              f"{fmt(row['late_duration_s'], 2):>20s}")
    for row in summary["ablation"]:
        print(f"{row['arm']} vs {row['reference']}: best-of-N {fmt(row['relative_best_of_n_pct'], 1)}%, "
              f"late score {fmt(row['relative_late_score_pct'], 1)}%")
    print(f"wrote {output}/study.md, study.json, curves.png")
    return 0
