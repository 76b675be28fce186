"""The environment: run a solution program in the sandbox on a task's public data, grade its submission, reward.

    runner = ProgramRunner(task_name, io, grader, work_root, limits)
    outcome = runner.run({"features": "onehot", "model": "forest", "size": "small"}, time_limit=None)
    reward(outcome, instrumentation=True)     # the task score, or -10 + 0.1 per stage marker for a failed run

Each run gets a fresh directory (its only writable place), the public data read-only, no network, and the time and
memory limits; the program is instrumented with stage markers under a nonce drawn for the run. Durations are
measured as wall seconds and as CPU seconds of the program (reported by the launcher that runs it, under the run's
nonce; a program killed before reporting is charged its wall time), since on a shared machine wall time mostly
measures the other jobs.
"""

import re
import shutil
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Protocol

from helm_plugins.common.sandbox import Sandbox, SandboxLimits
from helm_plugins.runners.rl.instrumentation import (
    FAILURE_REWARD,
    failure_credit,
    instrument,
    markers_reached,
    new_nonce,
)
from helm_plugins.runners.rl.programs import TaskIO, render_program

MIN_DURATION_S = 1e-3
# runs solution.py as __main__ and, however it ends, reports the CPU seconds of its process (and waited-for children)
LAUNCHER = """import resource, runpy, sys
nonce = sys.argv.pop(1)
try:
    runpy.run_path("solution.py", run_name="__main__")
finally:
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    sys.stderr.write("\\n@@cpu %s %.6f\\n" % (nonce, sum(u.ru_utime + u.ru_stime for u in usage)))
"""
CPU_LINE = re.compile(r"^@@cpu (\w+) ([0-9.]+)$", re.M)


class Grader(Protocol):
    def grade(self, submission: Path) -> Dict[str, Any]:
        """{"valid": bool, "score": normalised higher-is-better or None, "raw_score": float or None, "reason": str}"""


@dataclass
class ProgramRunner:
    """Runs programs of one task; picklable, so actor processes receive it whole."""

    task: str
    io: TaskIO
    grader: Any  # a Grader
    work_root: str
    limits: SandboxLimits = field(default_factory=lambda: SandboxLimits(timeout_s=60, memory_mb=2048))
    sandbox_mode: str = "auto"
    duration: str = "cpu"  # "cpu" or "wall": which measure is the action's duration
    keep_runs: bool = False  # keep each run's directory (program, submission) for inspection
    python: str = field(default_factory=lambda: sys.executable)

    def program(self, components: Mapping[str, str]) -> str:
        return render_program(components, self.io)

    def run(self, components: Mapping[str, str], time_limit: Optional[float] = None, source: Optional[str] = None) -> Dict[str, Any]:
        """Run `source` (default: the program of `components`) and grade it; never raises for a bad program."""
        source = source if source is not None else self.program(components)
        nonce = new_nonce()
        try:
            instrumented = instrument(source, nonce)
        except SyntaxError as error:
            instrumented = source  # runs as written and fails: no marker reached
            parse_error = f"syntax error line {error.lineno}: {error.msg}"
        else:
            parse_error = ""
        workdir = Path(self.work_root) / f"run-{uuid.uuid4().hex[:12]}"
        workdir.mkdir(parents=True)
        (workdir / "solution.py").write_text(instrumented)
        limits = self.limits
        task_limit_hit = True
        if time_limit is not None and time_limit < limits.timeout_s:
            limits = limits.model_copy(update={"timeout_s": max(time_limit, 0.05)})
            task_limit_hit = False
        sandbox = Sandbox(self.sandbox_mode, extra_read_only=[self.io.public_dir])
        result = sandbox.run([self.python, "-c", LAUNCHER, nonce], workdir, limits,
                             env={"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"})
        reported = [float(m.group(2)) for m in CPU_LINE.finditer(result.stderr) if m.group(1) == nonce]
        cpu = reported[-1] if reported else result.wall_s  # killed before reporting: it used the whole time
        outcome: Dict[str, Any] = {
            "status": "failed", "score": None, "raw_score": None,
            "markers": markers_reached(result.stdout, nonce),
            "wall_s": result.wall_s, "cpu_s": cpu,
            "timed_out": result.timed_out and not task_limit_hit,  # stopped by the caller's limit (window)
            "reason": parse_error or result.reason,
            "stderr_tail": result.stderr[-400:],
        }
        submission = workdir / "submission.csv"
        if result.ok:
            if not submission.is_file():
                outcome["reason"] = "no submission.csv written"
            else:
                graded = self.grader.grade(submission)
                outcome["raw_score"] = graded.get("raw_score")
                if graded.get("valid") and graded.get("score") is not None:
                    outcome["status"], outcome["score"] = "ok", float(graded["score"])
                else:
                    outcome["reason"] = f"invalid submission: {graded.get('reason', '')}"
        measured = cpu if self.duration == "cpu" else result.wall_s
        outcome["duration_s"] = max(measured, MIN_DURATION_S)
        if not self.keep_runs:
            shutil.rmtree(workdir, ignore_errors=True)
        return outcome


def reward(outcome: Mapping[str, Any], instrumentation: bool, failure_reward: float = FAILURE_REWARD,
           per_marker: float = 0.1) -> float:
    """The task score of a graded run; for a failed run -10 plus 0.1 per marker (instrumentation) or -10."""
    if outcome["status"] == "ok":
        return float(outcome["score"])
    return failure_credit(int(outcome["markers"]), failure_reward, per_marker) if instrumentation else failure_reward

