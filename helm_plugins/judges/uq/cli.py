"""`helm-plugins uq-report --suite S`: UQ pass rates and the validators' meta-evaluation (precision, recall,
accuracy, generator–validator gap) from the suite's finished hp_uq and hp_uq_meta runs (arXiv 2508.17580), the
cross-validator table, and the accepted answers in <suite>/uq_accepted.jsonl for human review.

    helm-run --conf-paths run_specs/judges.conf --priority 1 --suite S -m 20
    helm-plugins uq-report --suite S
"""

import argparse
from pathlib import Path

from helm_plugins.cli import add_subcommand


def add_parser(subparsers) -> None:
    parser = add_subcommand(subparsers, "uq-report", "UQ validator pass rates and meta-evaluation table of a suite", __doc__, run)
    parser.add_argument("--suite", required=True, help="HELM suite with finished hp_uq / hp_uq_meta runs")
    parser.add_argument("-o", "--output-path", default="benchmark_output", help="HELM output path (as helm-run)")


def run(args: argparse.Namespace) -> int:
    import json

    from helm_plugins.judges.uq.report import accepted_answers, cross_validator_table, uq_table

    suite = Path(args.output_path) / "runs" / args.suite
    if not suite.is_dir():
        raise FileNotFoundError(f"suite folder {suite} not found (run helm-run --suite {args.suite} first)")
    text = f"{uq_table(suite)}\n\n## Cross-validator table\n\n{cross_validator_table(suite)}"
    (suite / "uq_report.md").write_text(text + "\n")
    accepted = accepted_answers(suite)
    (suite / "uq_accepted.jsonl").write_text("".join(json.dumps(row) + "\n" for row in accepted))
    print(text)
    print(f"\n{len(accepted)} accepted answers for human review: {suite / 'uq_accepted.jsonl'}")
    return 0
