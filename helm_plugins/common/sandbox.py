"""Run untrusted code (agents, generated programs) confined to one directory, without network, under limits.

    sandbox = Sandbox()                                    # bubblewrap if installed, else a clear error
    result = sandbox.run([sys.executable, "agent.py"], workdir, SandboxLimits(timeout_s=60, memory_mb=1024))
    result.ok, result.reason, result.stdout                # reason: "timeout", "memory", "exit code 1", ...

Modes:
- `bwrap` (Debian package `bubblewrap`): new mount, PID, network, IPC and UTS namespaces. The process sees a
  read-only system (/usr, the Python installation and its environment) and exactly one writable directory, the
  work directory, mounted at the same path; nothing else of the host file system (home, other tasks, answer keys)
  exists inside. The network namespace has no interface but a down loopback, so any connection fails. When the
  caller is root, the process runs as an unprivileged user id (so that the process limit applies and it cannot
  write files it does not own).
- `unshare` (util-linux): network and PID namespaces only. Writes and reads are NOT confined; use it only where
  bubblewrap cannot run, and say so.
- `none`: an explicit opt-out with the resource limits only (no confinement, network allowed).
- `auto`: `bwrap` when available, else a `SandboxUnavailable` error naming the package and the opt-out.

Limits (all modes): wall-clock timeout (the whole process tree is killed), address space (memory), number of
processes of the sandbox user (fork bombs), CPU seconds, size of any written file, open files. The limits are set
with `prlimit` on the sandbox's first process and inherited by its children.
"""

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from pydantic import BaseModel, Field

MODES = ("auto", "bwrap", "unshare", "none")
UNPRIVILEGED_UID_RANGE = (100_000, 165_000)  # ids of no real user; a fresh one per sandbox


class SandboxUnavailable(RuntimeError):
    """The requested isolation cannot be provided on this machine."""


class SandboxLimits(BaseModel):
    """Resource limits of one sandboxed process tree."""

    timeout_s: float = Field(60.0, gt=0)  # wall clock; the process tree is killed after it
    memory_mb: int = Field(1024, ge=16)  # address space of each process (RLIMIT_AS)
    max_processes: int = Field(64, ge=1)  # processes of the sandbox user (RLIMIT_NPROC; bwrap as root only)
    cpu_s: Optional[int] = Field(None, ge=1)  # CPU seconds per process (RLIMIT_CPU); None: timeout only
    max_file_mb: int = Field(256, ge=1)  # size of any file written (RLIMIT_FSIZE)
    max_open_files: int = Field(256, ge=16)  # RLIMIT_NOFILE
    max_output_chars: int = Field(200_000, ge=1000)  # stdout/stderr kept (the rest is cut)


@dataclass
class SandboxResult:
    returncode: Optional[int]
    stdout: str
    stderr: str
    wall_s: float
    timed_out: bool = False
    mode: str = "none"
    signal_name: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    @property
    def reason(self) -> str:
        """Why the process failed, in words ("" when it succeeded)."""
        if self.timed_out:
            return "timeout: killed after the wall-clock limit"
        if self.returncode == 0:
            return ""
        if "MemoryError" in self.stderr or "Cannot allocate memory" in self.stderr:
            return "memory: the memory limit was reached"
        if "Resource temporarily unavailable" in self.stderr and "fork" in self.stderr.lower():
            return "processes: the process limit was reached"
        if self.signal_name:
            return f"killed by {self.signal_name}"
        return f"exit code {self.returncode}"


def _python_roots() -> List[str]:
    """Directories the Python interpreter and its installed packages need, read-only in the sandbox."""
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.realpath(sys.executable))}
    roots |= {os.path.realpath(p) for p in list(roots)}
    return sorted(r for r in roots if r and os.path.isdir(r))


SYSTEM_DIRS = ("/usr", "/etc/alternatives", "/etc/ssl", "/etc/ld.so.cache", "/etc/localtime")


@dataclass
class Sandbox:
    mode: str = "auto"
    extra_read_only: Sequence[str] = field(default_factory=tuple)  # more host paths visible read-only

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"unknown sandbox mode {self.mode!r}; choose one of {', '.join(MODES)}")
        if self.mode == "auto":
            if not shutil.which("bwrap"):
                raise SandboxUnavailable(
                    "no sandbox: bubblewrap is not installed (Debian: apt-get install -y bubblewrap). Pass "
                    "sandbox=unshare for network/PID isolation without file confinement, or sandbox=none to run "
                    "agent code unconfined (trusted code only)."
                )
            self.mode = "bwrap"
        tool = {"bwrap": "bwrap", "unshare": "unshare"}.get(self.mode)
        if tool and not shutil.which(tool):
            raise SandboxUnavailable(f"sandbox mode {self.mode!r} needs `{tool}`, which is not installed")
        if not shutil.which("prlimit"):
            raise SandboxUnavailable("`prlimit` (util-linux) is needed to set the sandbox's resource limits")

    @property
    def confines_files(self) -> bool:
        return self.mode == "bwrap"

    def _limits_prefix(self, limits: SandboxLimits) -> List[str]:
        mb = 1024 * 1024
        args = ["prlimit", f"--as={limits.memory_mb * mb}", f"--fsize={limits.max_file_mb * mb}",
                f"--nofile={limits.max_open_files}", f"--nproc={limits.max_processes}", "--core=0"]
        if limits.cpu_s:
            args.append(f"--cpu={limits.cpu_s}")
        return args + ["--"]

    def _bwrap_prefix(self, workdir: Path, uid: Optional[int]) -> List[str]:
        args = ["bwrap", "--die-with-parent", "--new-session", "--unshare-ipc", "--unshare-pid", "--unshare-net",
                "--unshare-uts", "--unshare-cgroup-try", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
        binds = [p for p in list(SYSTEM_DIRS) + _python_roots() + [os.path.realpath(p) for p in self.extra_read_only]
                 if os.path.exists(p)]
        bound = [Path(p) for p in binds if os.path.isdir(p)] + [Path("/usr")]
        parents = sorted({str(parent) for path in binds + [str(workdir)] for parent in Path(path).parents
                          if str(parent) != "/" and not any(parent == b or b in parent.parents for b in bound)})
        for parent in parents:  # traversable parents (bwrap would make them 0700, closed to the sandbox user)
            args += ["--perms", "0755", "--dir", parent]
        for name in ("bin", "lib", "lib64", "sbin"):  # merged /usr: /bin -> usr/bin, ...
            path = Path("/") / name
            if path.is_symlink():
                args += ["--symlink", os.readlink(path), str(path)]
            elif path.is_dir():
                args += ["--ro-bind", str(path), str(path)]
        for path in binds:
            args += ["--ro-bind", path, path]
        args += ["--bind", str(workdir), str(workdir), "--chdir", str(workdir)]
        if uid is None:
            return args + ["--unshare-user"]  # unprivileged caller: a user namespace (limits count per namespace)
        # root caller: drop to an unprivileged id inside (RLIMIT_NPROC does not bind root)
        args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--",
                 "setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all"]
        return args

    def command(self, argv: Sequence[str], workdir: Path, limits: SandboxLimits, uid: Optional[int] = None) -> List[str]:
        """The full command line that runs `argv` in `workdir` under this sandbox."""
        prefix = self._limits_prefix(limits)
        if self.mode == "bwrap":
            return prefix + self._bwrap_prefix(workdir, uid) + ["--"] + list(argv)
        if self.mode == "unshare":
            return prefix + ["unshare", "--user", "--map-root-user", "--net", "--pid", "--fork", "--kill-child"] + list(argv)
        return prefix + list(argv)

    def start(self, argv: Sequence[str], workdir: Path, limits: SandboxLimits, env: Optional[Dict[str, str]] = None,
              pass_fds: Sequence[int] = (), stdin=subprocess.DEVNULL) -> "SandboxProcess":
        """Start `argv` with `workdir` as its only writable directory (and current directory)."""
        workdir = Path(workdir).resolve()
        if not workdir.is_dir():
            raise FileNotFoundError(f"sandbox work directory {workdir} does not exist")
        uid = None
        if self.mode == "bwrap" and os.geteuid() == 0:
            uid = random.SystemRandom().randrange(*UNPRIVILEGED_UID_RANGE)
            _chown_tree(workdir, uid)
        environment = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(workdir), "TMPDIR": str(workdir),
                       "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1", **(env or {})}
        process = subprocess.Popen(
            self.command(argv, workdir, limits, uid), cwd=workdir, env=environment, stdin=stdin,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, pass_fds=tuple(pass_fds), start_new_session=True,
        )
        return SandboxProcess(process, limits, self.mode, workdir, uid)

    def run(self, argv: Sequence[str], workdir: Path, limits: SandboxLimits, env: Optional[Dict[str, str]] = None,
            input_text: Optional[str] = None) -> SandboxResult:
        """Run to completion (or to the timeout) and return the outcome; stdin gets `input_text` if given."""
        handle = self.start(argv, workdir, limits, env, stdin=subprocess.PIPE if input_text is not None else subprocess.DEVNULL)
        return handle.wait(input_text)


def _chown_tree(root: Path, uid: int) -> None:
    for directory, subdirs, files in os.walk(root):
        os.chown(directory, uid, uid)
        for name in files:
            os.chown(os.path.join(directory, name), uid, uid, follow_symlinks=False)


@dataclass
class SandboxProcess:
    process: subprocess.Popen
    limits: SandboxLimits
    mode: str
    workdir: Path
    uid: Optional[int]
    started: float = field(default_factory=time.monotonic)

    def kill(self) -> None:
        """Kill the whole process tree (its session; bwrap's PID namespace dies with its first process)."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def wait(self, input_text: Optional[str] = None) -> SandboxResult:
        remaining = max(0.01, self.limits.timeout_s - (time.monotonic() - self.started))
        timed_out = False
        try:
            out, err = self.process.communicate(input_text.encode() if input_text is not None else None, timeout=remaining)
        except subprocess.TimeoutExpired:
            timed_out = True
            self.kill()
            out, err = self.process.communicate()
        self.kill()  # leftovers of a process that exited while its children ran on (unshare/none modes)
        code = self.process.returncode
        cut = self.limits.max_output_chars
        result = SandboxResult(
            returncode=None if timed_out else code,
            stdout=out.decode(errors="replace")[:cut],
            stderr=err.decode(errors="replace")[-cut:],
            wall_s=time.monotonic() - self.started,
            timed_out=timed_out,
            mode=self.mode,
            signal_name=signal.Signals(-code).name if code is not None and code < 0 and -code in signal.Signals._value2member_map_ else "",
        )
        if self.uid is not None:  # hand the directory back to the caller
            _chown_tree(self.workdir, os.geteuid())
        return result
