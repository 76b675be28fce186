"""`helm-plugins speculate`: speculative decoding of RL rollouts, DAS against its baselines.

    helm-plugins speculate --preset demo --suite demo
    helm-plugins speculate --preset benchmark --set temperature=0 --output speculate_output/greedy
    helm-plugins speculate --preset demo --set "seeds=[0,1,2]"        # three RL runs, intervals over seeds
    helm-plugins speculate --preset demo --replay speculate_output/speculate-demo/rollouts.jsonl
"""

import argparse
from pathlib import Path

from helm_plugins.cli import add_runner_arguments, add_subcommand, suite_dir


def add_parser(subparsers) -> None:
    parser = add_subcommand(subparsers, "speculate", "benchmark speculative decoding (DAS, suffix trees, n-gram lookup) on RL rollouts", __doc__, run)
    parser.add_argument("--preset", default="demo", help="preset name (demo, benchmark)")
    add_runner_arguments(parser, "temperature=0", "speculate_output")
    parser.add_argument("--replay", type=Path, help="measure the drafters on logged rollouts (JSONL) without the model")


def run(args: argparse.Namespace) -> int:
    from helm_plugins.runners.speculative.config import load_speculate_config
    from helm_plugins.runners.speculative.runner import run_speculation

    config = load_speculate_config(args.preset, args.config, args.overrides)
    summaries = run_speculation(
        config,
        args.output or Path("speculate_output") / config.run_name,
        suite_dir=suite_dir(args),
        replay_file=args.replay,
        progress=not args.no_progress,
    )
    seeds = summaries[0].seeds  # the RL runs measured (a replayed log's own)
    print(f"{len(seeds)} seed(s) {seeds}: 95% intervals "
          + ("over seeds" if len(seeds) > 1 else "over problems (tokens per pass) and RL steps (speedups)"))
    print(f"{'drafter':16s} {'tok/pass (95% CI)':>20s} {'accept':>7s} {'makespan':>9s} {'batch s':>8s} "
          f"{'batch x (95% CI)':>20s} {'time cut (95% CI)':>20s} {'seq s':>7s} {'seq x':>6s} {'reward':>7s}")
    for summary in summaries:
        stats = summary.stats()
        print(
            f"{summary.name:16s} {_with_interval(stats, 'tokens_per_pass'):>20s} {stats['acceptance_rate']:7.2f} "
            f"{stats['makespan_passes']:9.1f} {stats.get('batch_seconds', float('nan')):8.2f} "
            f"{_with_interval(stats, 'batch_speedup'):>20s} {_with_interval(stats, 'rollout_time_cut'):>20s} "
            f"{stats.get('rollout_seconds', float('nan')):7.2f} "
            f"{stats.get('speedup_vs_no_speculation', float('nan')):6.2f} {stats['mean_reward']:7.2f}"
        )
    return 0


def _with_interval(stats: dict, name: str) -> str:
    if name not in stats:
        return "-"
    if f"{name}_ci_low" not in stats:
        return f"{stats[name]:.2f}"
    return f"{stats[name]:.2f} [{stats[name + '_ci_low']:.2f}, {stats[name + '_ci_high']:.2f}]"
