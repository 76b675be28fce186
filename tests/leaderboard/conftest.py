import shutil

import pytest

from tests.conftest import BIN, run_command
from tests.helm_server import serve


@pytest.fixture(scope="session")
def leaderboard_suite(demo_suite, tmp_path_factory):
    """A copy of the scaled-down demo suite (helm-run on demo.conf, pretraining, speculation, summarize; the shared
    fixture stays as summarize left it) after `helm-plugins leaderboard`, with a planted report folder whose plot
    belongs to the pretraining capability."""
    root = tmp_path_factory.mktemp("leaderboard")
    shutil.copytree(demo_suite / "benchmark_output" / "runs" / "t", root / "benchmark_output" / "runs" / "t",
                    ignore=shutil.ignore_patterns("eval_cache"))
    report = root / "planted_report"
    report.mkdir()
    plot = next((demo_suite / "pretrain").rglob("loss_curve.png")).read_bytes()
    (report / "planted_report_plot.png").write_bytes(plot + b"planted")  # another file: identical plots link once
    run_command([BIN / "helm-plugins", "leaderboard", "--suite", "t", "--plots", f"hp_pretraining={report}"], cwd=root)
    return root


@pytest.fixture(scope="module")
def leaderboard_server(leaderboard_suite):
    with serve(leaderboard_suite, "t") as url:
        yield url
