"""The environment: run a solution program in the sandbox on an MLE task's public files, score it, reward it.

    runner = ProgramRunner(task, references, work_root)          # an MLE task (helm_plugins.common.mle_tasks)
    outcome = runner.run({"features": "onehot", "model": "forest", "size": "small"})
    reward(outcome, instrumentation=True)     # the normalised score, or -10 + 0.1 per stage marker for a failed run

Each run gets a fresh directory holding the public files (its only writable place), no network, and the time and
memory limits; the program is instrumented with stage markers under a nonce drawn for the run. The submission is
validated and scored by the task's metric (in its own sandboxed process, `mle_tasks.score_submissions`) and
normalised, (s - s_const) / (s_gbm - s_const), so higher is better on every task. `run(..., score=False)` keeps the
submission for `score_outcomes`, which scores many runs of a task in one process.

Durations are measured as wall seconds and as CPU seconds of the program (reported by the launcher that runs it,
under the run's nonce; a program killed before reporting is charged its wall time): on a shared machine wall time
mostly measures the other jobs.
"""

import math
import re
import shutil
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from helm_plugins.common.sandbox import Sandbox, SandboxLimits
from helm_plugins.runners.rl.instrumentation import (
    FAILURE_REWARD,
    failure_credit,
    helm_completer,
    instrument,
    lm_instrument,
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
PROGRAM_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
_COMPLETERS: Dict[Tuple[str, str], Callable[[str], str]] = {}  # per actor process: one HELM client per deployment
CPU_LINE = re.compile(r"^@@cpu (\w+) ([0-9.]+)$", re.M)


@dataclass
class ProgramRunner:
    """Runs programs on one task; picklable, so actor processes receive it whole."""

    task: Any  # an MLETask, prepared
    references: Any  # its ReferenceScores (the normalisation)
    work_root: str
    limits: SandboxLimits = field(default_factory=lambda: SandboxLimits(timeout_s=60, memory_mb=2048))
    sandbox_mode: str = "auto"
    duration: str = "cpu"  # "cpu" or "wall": which measure is the action's duration
    keep_runs: bool = False  # keep each run's directory (program, submission) for inspection
    python: str = field(default_factory=lambda: sys.executable)
    instrumentation_model: Optional[str] = None  # a HELM deployment that inserts the markers (else the AST pass)
    local_path: str = "prod_env"  # HELM's local path (credentials, model configs, cache) for that deployment

    def instrument(self, source: str, nonce: str) -> Tuple[str, str]:
        """(instrumented program, who did it: "ast", "lm" or "ast-fallback" when the LM's edit was rejected)."""
        if self.instrumentation_model:
            key = (self.instrumentation_model, self.local_path)
            if key not in _COMPLETERS:
                _COMPLETERS[key] = helm_completer(self.instrumentation_model, self.local_path)
            edited = lm_instrument(source, nonce, _COMPLETERS[key])
            if edited is not None:
                return edited, "lm"
            return instrument(source, nonce), "ast-fallback"
        return instrument(source, nonce), "ast"

    @property
    def io(self) -> TaskIO:
        return TaskIO.from_info(self.task.info)

    def program(self, components: Mapping[str, str]) -> str:
        return render_program(components, self.io)

    def run(self, components: Mapping[str, str], time_limit: Optional[float] = None, source: Optional[str] = None,
            score: bool = True) -> Dict[str, Any]:
        """Run `source` (default: the program of `components`) and score it; never raises for a bad program."""
        from helm_plugins.common.mle_tasks import solution_workdir

        source = source if source is not None else self.program(components)
        nonce = new_nonce()
        try:
            instrumented, instrumenter = self.instrument(source, nonce)
            parse_error = ""
        except SyntaxError as error:
            instrumented, instrumenter = source, "none"  # runs as written and fails: no marker reached
            parse_error = f"syntax error line {error.lineno}: {error.msg}"
        workdir = solution_workdir(self.task, Path(self.work_root) / f"run-{uuid.uuid4().hex[:12]}")
        (workdir / "solution.py").write_text(instrumented)
        limits, window_limited = self.limits, False
        if time_limit is not None and time_limit < limits.timeout_s:
            limits, window_limited = limits.model_copy(update={"timeout_s": max(time_limit, 0.05)}), True
        result = Sandbox(self.sandbox_mode).run([self.python, "-c", LAUNCHER, nonce], workdir, limits, env=PROGRAM_ENV)
        reported = [float(m.group(2)) for m in CPU_LINE.finditer(result.stderr) if m.group(1) == nonce]
        cpu = reported[-1] if reported else result.wall_s  # killed before reporting: it used the whole time
        outcome: Dict[str, Any] = {
            "status": "failed", "score": None, "raw_score": None,
            "markers": markers_reached(result.stdout, nonce),
            "wall_s": result.wall_s, "cpu_s": cpu,
            "timed_out": result.timed_out and window_limited,  # stopped by the caller's limit (the window)
            "reason": parse_error or result.reason,
            "stderr_tail": result.stderr[-300:],
            "instrumenter": instrumenter,
        }
        outcome["duration_s"] = max(cpu if self.duration == "cpu" else result.wall_s, MIN_DURATION_S)
        submission = workdir / "submission.csv"
        if result.ok and not submission.is_file():
            outcome["reason"] = "no submission.csv written"
        elif result.ok:
            outcome["status"] = "unscored"
            outcome["submission"] = str(submission)
            if score:
                score_outcomes(self, [outcome])
        if not self.keep_runs and outcome["status"] != "unscored":
            shutil.rmtree(workdir, ignore_errors=True)
        return outcome


def score_outcomes(runner: ProgramRunner, outcomes: List[Dict[str, Any]]) -> None:
    """Score the unscored outcomes' submissions with the task's metric (one sandboxed process), in place."""
    from helm_plugins.common.mle_tasks import score_submissions

    pending = {str(i): o for i, o in enumerate(outcomes) if o["status"] == "unscored"}
    if not pending:
        return
    scores = score_submissions(runner.task, {k: Path(o["submission"]) for k, o in pending.items()},
                               references=runner.references)
    for key, outcome in pending.items():
        scored = scores[key]
        outcome["raw_score"] = scored.raw_score
        if scored.valid and scored.normalized is not None and math.isfinite(scored.normalized):
            outcome["status"], outcome["score"] = "ok", float(scored.normalized)
        else:
            outcome["status"] = "failed"
            outcome["reason"] = f"invalid submission: {scored.error or 'no normalised score'}"
        if not runner.keep_runs:
            shutil.rmtree(Path(outcome["submission"]).parent, ignore_errors=True)
        outcome.pop("submission")


def reward(outcome: Mapping[str, Any], instrumentation: bool, failure_reward: float = FAILURE_REWARD,
           per_marker: float = 0.1) -> float:
    """The task score of a graded run; for a failed run -10 plus 0.1 per marker (instrumentation) or -10."""
    if outcome["status"] == "ok":
        return float(outcome["score"])
    return failure_credit(int(outcome["markers"]), failure_reward, per_marker) if instrumentation else failure_reward

