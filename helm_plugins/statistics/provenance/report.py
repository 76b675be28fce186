"""Provenance reports: the query test on a transcript and per-example loss files, tables, plots, HELM runs."""

import math
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from helm_plugins.common.results import RunInstance, RunRecord, make_stat, write_run_directory
from helm_plugins.statistics.provenance.hypothesis_tests import QueryTestResult, query_test
from helm_plugins.statistics.provenance.transcript import aligned, read_losses, read_transcript

QUERY_GROUP = "hp_provenance_query"  # the query test alone (helm-run, or loss files)
DEMO_GROUP = "hp_provenance_demo"  # the demo: query, reshuffle and n-gram tests of each suspect


def test_from_files(
    transcript_path: Path,
    losses_path: Path,
    reference_path: Optional[Path] = None,
    permutations: int = 999,
    seed: int = 0,
) -> QueryTestResult:
    examples = read_transcript(transcript_path)
    losses = aligned(examples, read_losses(losses_path), str(losses_path))
    reference = aligned(examples, read_losses(reference_path), str(reference_path)) if reference_path else None
    return query_test([e.position for e in examples], losses, reference, permutations, seed)


def format_result(name: str, result: QueryTestResult) -> str:
    permutation = f"{result.permutation_p:.4f}" if result.permutation_p is not None else "-"
    return (
        f"| {name} | {result.n:,} | {'yes' if result.with_reference else 'no'} | {result.spearman:+.4f} | "
        f"{result.log10_p:.2f} | {result.z:+.2f} | {permutation} |"
    )


TABLE_HEADER = [
    "| suspect | examples | reference | Spearman rho | log10 p | z | permutation p |",
    "|---|---|---|---|---|---|---|",
]


def plot_p_values(query: Dict[str, List[QueryTestResult]], path: Path, title: str) -> None:
    """log10 p of the query test against the number of queried examples, one line per suspect (+ reference)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4.5))
    for key, results in query.items():
        style = "-" if key.endswith("+reference") else "--"
        axis.plot([r.n for r in results], [max(r.log10_p, -300) for r in results], style, marker="o", label=key)
    axis.axhline(math.log10(0.05), color="gray", linewidth=0.8, label="p = 0.05")
    axis.set(xscale="log", xlabel="queried examples", ylabel="log10 p (query test, two-sided)", title=title)
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def write_helm_run(
    suite_dir: Path,
    suspect: str,
    result: QueryTestResult,
    description: str,
    reference: Optional[str] = None,
    extra_stats: Optional[Dict[str, float]] = None,
    instances: Sequence[RunInstance] = (),
    group: str = QUERY_GROUP,
) -> Path:
    stats = {
        "provenance_spearman": result.spearman,
        "provenance_log10_p": result.log10_p,
        "provenance_z": result.z,
        "num_examples": result.n,
        "provenance_permutation_p": result.permutation_p if result.permutation_p is not None else [],  # [] = no value
        **(extra_stats or {}),
    }
    name = f"hp_provenance:reference={reference or 'none'},model={suspect}"
    record = RunRecord(
        name=name,
        scenario_name="hp_provenance",
        scenario_description=description,
        scenario_class="helm_plugins.statistics.provenance.report.test_from_files",
        scenario_args={"reference": reference or "none"},
        model=suspect,
        method="provenance_query_test",
        groups=[group],
        stats=[make_stat(key, value) for key, value in stats.items()],
        instances=instances,
    )
    return write_run_directory(suite_dir, record)
