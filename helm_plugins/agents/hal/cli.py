"""`helm-plugins hal-report --suite S`: HAL's leaderboard over the suite's finished hp_hal runs — the accuracy–cost
Pareto frontier per benchmark (and the token frontier), how many benchmarks each model/agent is on the frontier of,
reasoning-effort comparisons, trace-flag rates with flagged tasks, and a plot (arXiv 2510.11977).

    helm-run --conf-paths run_specs/agents.conf --priority 1 --suite S -m 30
    helm-plugins hal-report --suite S          # writes <output>/hal_report/S/ and hp_hal_frontier runs into the suite
    helm-plugins summarize --suite S           # the frontier appears in the leaderboard (group hp_hal_frontier)
"""

import argparse
from pathlib import Path

from helm_plugins.cli import add_subcommand


def add_parser(subparsers) -> None:
    parser = add_subcommand(subparsers, "hal-report", "HAL accuracy-cost frontiers, effort comparisons and trace flags",
                            __doc__, run)
    parser.add_argument("--suite", required=True, help="HELM suite with finished hp_hal runs")
    parser.add_argument("-o", "--output-path", default="benchmark_output", help="HELM output path (as helm-run)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    parser.add_argument("--no-runs", action="store_true", help="do not write the hp_hal_frontier runs into the suite")


def run(args: argparse.Namespace) -> int:
    from helm_plugins.agents.hal.report import hal_report

    report = hal_report(Path(args.output_path) / "runs" / args.suite, seed=args.seed, write_runs=not args.no_runs)
    print(report["markdown"])
    print(f"Report, plot and JSON in {report['out_dir']}")
    return 0
