import shutil
import socket
import subprocess
import time

import pytest

from tests.conftest import BIN, run_command


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
    shutil.copy(next((demo_suite / "pretrain").rglob("loss_curve.png")), report / "planted_report_plot.png")
    run_command([BIN / "helm-plugins", "leaderboard", "--suite", "t", "--plots", f"hp_pretraining={report}"], cwd=root)
    return root


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def leaderboard_server(leaderboard_suite):
    port = _free_port()
    server = subprocess.Popen([BIN / "helm-server", "--suite", "t", "-p", str(port)], cwd=leaderboard_suite,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.3)
    yield f"http://127.0.0.1:{port}"
    server.terminate()
    server.wait(timeout=30)
