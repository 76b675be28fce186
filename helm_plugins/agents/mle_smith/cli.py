"""MLE-Smith's commands (arXiv 2510.07307).

    helm-plugins mle-smith --data sklearn:load_wine --data my_table.csv --out tasks/      # template mode, offline
    helm-plugins mle-smith --data my_table.csv --out tasks/ --model openai/gpt-4.1-2025-04-14 --local-path prod_env
    helm-run --run-entries 'hp_mle_task:pool=tasks/,agent=knn,model=simulated/scripted' --suite S
    helm-plugins mle-report --suite S

mle-smith: raw data (a CSV file, sklearn:load_<name> for scikit-learn's bundled tables, synthetic:<name>[?seed=N]
for the seeded generators) -> verified tasks in MLE-Dojo's format under --out, with generation.json recording
every stage's outcome, reasons, time and model cost. --model runs the Brainstormer, Designer and Refactor on a
HELM deployment (and the Reviews, unless --review-model names another); without it the template stages run and
rule-based checks stand in for the LLM Reviews.

mle-report: Elo per pool with bootstrap intervals and the agreement of the two pools' rankings (Pearson,
Spearman, Kendall tau-b, CCC, top-k overlap), a plot, and hp_mle_elo / hp_mle_agreement runs in the suite.
"""

import argparse
from pathlib import Path

from helm_plugins.cli import add_subcommand


def add_parser(subparsers) -> None:
    parser = add_subcommand(subparsers, "mle-smith", "generate verified ML-engineering tasks from raw data", __doc__,
                            run_generate)
    parser.add_argument("--data", action="append", required=True,
                        help="raw data: a CSV file, sklearn:load_<name> or synthetic:<name>[?seed=N] (repeatable)")
    parser.add_argument("--out", type=Path, required=True, help="folder for the generated tasks")
    parser.add_argument("--model", default="", help="HELM deployment of the generation stages (default: templates)")
    parser.add_argument("--review-model", default="", help="HELM deployment of the Reviews (default: --model)")
    parser.add_argument("--max-tasks", type=int, default=1, help="accepted tasks per data source")
    parser.add_argument("--max-candidates", type=int, default=3, help="Brainstormer candidates per data source")
    parser.add_argument("--retries", type=int, default=2, help="attempts after a failed verification")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--local-path", default="prod_env", help="HELM local path (credentials, deployments, cache)")
    parser.add_argument("--sandbox", default="auto", help="auto/bwrap, unshare or none (trusted data only)")

    report = add_subcommand(subparsers, "mle-report", "Elo per task pool and the agreement between pools", __doc__,
                            run_report)
    report.add_argument("--suite", required=True, help="HELM suite with finished hp_mle_task runs")
    report.add_argument("-o", "--output-path", default="benchmark_output", help="HELM output path (as helm-run)")
    report.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    report.add_argument("--bootstrap", type=int, default=200, help="bootstrap resamples")
    report.add_argument("--top-k", type=int, default=3, help="k of the top-k overlap")
    report.add_argument("--no-runs", action="store_true", help="do not write hp_mle_elo / hp_mle_agreement runs")


def run_generate(args: argparse.Namespace) -> int:
    from helm_plugins.agents.mle_smith.generator import GeneratorConfig, generate_pool
    from helm_plugins.common.mle_tasks import make_sandbox

    config = GeneratorConfig(model=args.model, review_model=args.review_model, max_candidates=args.max_candidates,
                             max_tasks_per_source=args.max_tasks, max_retries=args.retries, seed=args.seed,
                             local_path=args.local_path)
    logs = generate_pool(args.data, args.out, config, make_sandbox(args.sandbox))
    accepted = 0
    for log in logs:
        accepted += len(log["accepted"])
        rejected = log.get("rejected", [])
        no_target = [s["outcome"] for s in log["stages"] if s["stage"] == "brainstormer" and s.get("outcome")]
        print(f"{log['data']}: {len(log['accepted'])} accepted {log['accepted']}, {len(rejected)} rejected, "
              f"{log['cost']['model_calls']} model calls, {log['seconds']:.0f}s")
        for reason in no_target:
            print(f"  {reason}")
        for record in rejected:
            print(f"  rejected {record['name']}: {record['outcome'][:300]}")
    print(f"{accepted} task(s) in {args.out}; stage log in {args.out / 'generation.json'}")
    return 0 if accepted else 1


def run_report(args: argparse.Namespace) -> int:
    from helm_plugins.agents.mle_smith.report import mle_report

    report = mle_report(Path(args.output_path) / "runs" / args.suite, seed=args.seed, bootstrap=args.bootstrap,
                        top_k=args.top_k, write_runs=not args.no_runs)
    print(report["markdown"])
    print(f"Report, plot and JSON in {report['out_dir']}")
    return 0
