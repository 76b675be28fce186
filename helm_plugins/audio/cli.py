"""`helm-plugins audio-report`: AHELM's aspect report over a suite's finished audio runs.

    helm-run --conf-paths run_specs/audio.conf --priority 1 --suite audio -m 100
    helm-plugins audio-report --suite audio          # audio_output/audio/audio_report.{md,json}

Mean win rate per aspect (perception, robustness, fairness, bias, reasoning) across the suite's models, the WER
gap between speaker genders with its permutation-test p-value, and the per-voice PARADE stereotype rates. It also
writes one run per model (group hp_audio_aspects) into the suite, so `helm-summarize` shows the aspect table in
the leaderboard (run it after this command).
"""

import argparse
import json
from pathlib import Path

from helm_plugins.cli import add_subcommand


def add_parser(subparsers) -> None:
    parser = add_subcommand(subparsers, "audio-report", "mean win rate per audio aspect over a suite's runs", __doc__, run)
    parser.add_argument("--suite", required=True, help="the HELM suite with the audio runs")
    parser.add_argument("-o", "--output-path", default="benchmark_output", help="HELM output path (as helm-run)")
    parser.add_argument("--output", type=Path, help="report folder (default: audio_output/<suite>)")
    parser.add_argument("--no-leaderboard-runs", action="store_true",
                        help="do not write the hp_audio_aspects runs into the suite")


def run(args: argparse.Namespace) -> int:
    from helm_plugins.common.offline import apply_offline_defaults

    apply_offline_defaults()  # before HELM's metrics module is imported (it looks for NLTK data)
    from helm_plugins.audio.report import aspect_records, build_report, render_markdown
    from helm_plugins.common.results import write_run_directory

    suite = Path(args.output_path) / "runs" / args.suite
    report = build_report(suite)
    output = args.output or Path("audio_output") / args.suite
    output.mkdir(parents=True, exist_ok=True)
    markdown = render_markdown(report)
    (output / "audio_report.md").write_text(markdown)
    (output / "audio_report.json").write_text(json.dumps(report, indent=2))
    if not args.no_leaderboard_runs:
        for record in aspect_records(report):
            write_run_directory(suite, record)
    print(markdown)
    print(f"Wrote {output / 'audio_report.md'} and {output / 'audio_report.json'}")
    return 0
