"""helm-server on a suite and pages rendered by headless Chromium, for the browser tests."""

import contextlib
import shutil
import socket
import subprocess
import time
from pathlib import Path

from tests.conftest import BIN


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serve(root: Path, suite: str):
    """helm-server on `root`/benchmark_output, suite `suite`; yields its URL and stops it afterwards."""
    port = free_port()
    server = subprocess.Popen([BIN / "helm-server", "--suite", suite, "-p", str(port)], cwd=root,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.3)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)


def render(url: str, profile: Path, budget_ms: int = 15000) -> str:
    """The DOM of `url` after the page's scripts ran (Chromium's virtual time budget)."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "Chromium is missing: `make test` installs the Debian package chromium"
    completed = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
         "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}",
         f"--virtual-time-budget={budget_ms}", "--dump-dom", url],
        capture_output=True, text=True, timeout=120,
    )
    return completed.stdout
