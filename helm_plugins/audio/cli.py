"""`helm-plugins audio-report`: AHELM's aspect report over a suite's finished audio runs.

    helm-run --conf-paths run_specs/audio.conf --priority 1 --suite audio -m 100
    helm-plugins audio-report --suite audio          # audio_output/audio/audio_report.{md,json}

Mean win rate per AHELM aspect across the suite's models with bootstrap intervals, and a plot of them
(`audio_aspects.png`, which `helm-plugins leaderboard --plots hp_audio=<report folder>` links), each group's main
metric with its interval, the WER gap between speaker genders with its paired permutation test, and the per-voice
PARADE stereotype rates. `helm-plugins summarize` computes the same mean win rates in the aspect groups' tables.
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
    parser.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples for the intervals")


def run(args: argparse.Namespace) -> int:
    from helm_plugins.common.offline import apply_offline_defaults

    apply_offline_defaults()  # before HELM's metrics module is imported (it looks for NLTK data)
    from helm_plugins.audio.report import PLOT_FILE, build_report, plot_report, render_markdown

    if args.resamples < 1:
        raise ValueError("--resamples must be at least 1")
    suite = Path(args.output_path) / "runs" / args.suite
    report = build_report(suite, args.resamples)
    output = args.output or Path("audio_output") / args.suite
    output.mkdir(parents=True, exist_ok=True)
    markdown = render_markdown(report)
    (output / "audio_report.md").write_text(markdown)
    (output / "audio_report.json").write_text(json.dumps(report, indent=2))
    plot_report(report, output / PLOT_FILE)
    print(markdown)
    print(f"Wrote {output / 'audio_report.md'}, {output / 'audio_report.json'} and {output / PLOT_FILE}")
    return 0
