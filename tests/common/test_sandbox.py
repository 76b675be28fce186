"""Each limit of the sandbox, proven by a process that tries to break it."""

import os
import shutil
import socket
import sys
import threading

import pytest

from helm_plugins.common.sandbox import Sandbox, SandboxLimits, SandboxUnavailable

pytestmark = pytest.mark.skipif(not shutil.which("bwrap"), reason="bubblewrap is not installed (apt-get install -y bubblewrap)")
LIMITS = SandboxLimits(timeout_s=20, memory_mb=512, max_processes=32)


def run(code, workdir, limits=LIMITS, **kwargs):
    return Sandbox("bwrap").run([sys.executable, "-c", code], workdir, limits, **kwargs)


def test_writes_inside_its_directory_and_returns_output(tmp_path):
    result = run("open('out.txt', 'w').write('hello'); print('done')", tmp_path)
    assert result.ok and result.stdout.strip() == "done"
    assert (tmp_path / "out.txt").read_text() == "hello"
    assert (tmp_path / "out.txt").stat().st_uid == os.geteuid()  # handed back to the caller


def test_write_outside_its_directory_is_refused(tmp_path):
    workdir = tmp_path / "task"
    workdir.mkdir()
    target = tmp_path / "escaped.txt"
    result = run(f"open({str(target)!r}, 'w').write('x')", workdir)
    assert not result.ok and ("PermissionError" in result.stderr or "FileNotFoundError" in result.stderr)
    assert not target.exists()


def test_files_outside_its_directory_are_invisible(tmp_path):
    workdir = tmp_path / "task"
    workdir.mkdir()
    secret = tmp_path / "gold.json"
    secret.write_text('{"answer": 42}')
    result = run(f"print(open({str(secret)!r}).read())", workdir)
    assert not result.ok and "FileNotFoundError" in result.stderr and "42" not in result.stdout
    home = run("import os; print(os.path.exists('/root') and os.listdir('/root'))", workdir)
    assert "'.bashrc'" not in home.stdout


def test_network_is_blocked(tmp_path):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    accepted = []
    threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True).start()
    result = run(f"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=3)", tmp_path)
    server.close()
    assert not result.ok and ("ConnectionRefusedError" in result.stderr or "unreachable" in result.stderr)
    assert accepted == []
    outside = run("import socket; socket.create_connection(('1.1.1.1', 80), timeout=3)", tmp_path)
    assert not outside.ok and "unreachable" in outside.stderr


def test_timeout_kills_the_process_tree(tmp_path):
    code = "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); time.sleep(60)"
    result = run(code, tmp_path, SandboxLimits(timeout_s=1.5))
    assert result.timed_out and result.reason.startswith("timeout") and result.wall_s < 10


def test_memory_cap(tmp_path):
    result = run("x = bytearray(800 * 1024 * 1024)", tmp_path, SandboxLimits(timeout_s=20, memory_mb=256))
    assert not result.ok and result.reason.startswith("memory")
    fits = run("x = bytearray(50 * 1024 * 1024); print(len(x))", tmp_path, SandboxLimits(timeout_s=20, memory_mb=256))
    assert fits.ok


def test_fork_bomb_is_contained(tmp_path):
    code = ("import os, time\nn = 0\ntry:\n    while True:\n        if os.fork() == 0:\n            time.sleep(30)\n"
            "            os._exit(0)\n        n += 1\nexcept OSError:\n    print('refused after', n)\n")
    result = run(code, tmp_path, SandboxLimits(timeout_s=10, max_processes=20))
    assert "refused after" in result.stdout
    assert int(result.stdout.split()[-1]) < 20


def test_unknown_mode_and_missing_tool_are_clear_errors(monkeypatch):
    with pytest.raises(ValueError, match="unknown sandbox mode 'docker'"):
        Sandbox("docker")
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(SandboxUnavailable, match="apt-get install -y bubblewrap.*sandbox=none"):
        Sandbox("auto")
