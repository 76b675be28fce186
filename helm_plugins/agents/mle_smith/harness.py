"""Agents on MLE tasks through HAL's harness: each (agent, task) in a fresh sandboxed directory holding only the
task's public files; the agent answers with its submission CSV; submissions are then scored with the task's
metric by a long-lived sandboxed scorer per task (the answers never enter an agent's directory).

The harness is shared with the HAL capability (its task directories, gateway for model calls through HELM,
checkpoint and retries); this module adds the `mle` benchmark to it: a task's public part is its description and
settings, its files are train.csv, test.csv, sample_submission.csv, description.txt and task.json.
"""

import atexit
import json
import tempfile
import threading
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from helm_plugins.agents.hal.benchmarks import BENCHMARKS, Environment, Task
from helm_plugins.common import mle_tasks

AGENTS_DIR = Path(__file__).parent / "agents"
SCRIPTED = {  # agent name -> (module.function, default kwargs)
    "sample": ("scripted.run", {"method": "sample"}),
    "constant": ("scripted.run", {"method": "constant"}),
    "onefeat": ("scripted.run", {"method": "onefeat"}),
    "linear": ("scripted.run", {"method": "linear"}),
    "knn": ("scripted.run", {"method": "knn"}),
    "ensemble": ("scripted.run", {"method": "ensemble"}),
    "coder": ("coder.run", {}),
}


class MLEBenchmark:
    """The `mle` benchmark of the HAL harness (tasks come from MLE task folders, not from a seed)."""

    description = "Machine-learning engineering tasks in MLE-Dojo's format, scored by each task's metric"

    def environment(self, task: Task) -> Environment:
        return Environment()  # no tools: the agent works on its files

    def score(self, task: Task, answer: Any, state: Dict[str, Any], sandbox=None) -> Tuple[float, str]:
        """1 when the agent returned a CSV text (the metric scores it afterwards), else 0."""
        if isinstance(answer, str) and "\n" in answer.strip() + "\n" and answer.strip():
            return 1.0, "submitted"
        return 0.0, "no submission"


if "mle" not in BENCHMARKS:
    BENCHMARKS.register("mle", MLEBenchmark())


def harness_task(task: mle_tasks.MLETask, task_id: Optional[str] = None) -> Task:
    with tempfile.TemporaryDirectory() as tmp:
        folder = mle_tasks.solution_workdir(task, Path(tmp))
        files = {p.name: p.read_text() for p in folder.iterdir()}
    info = json.loads(files["task.json"])
    public = {"benchmark": "mle", "instruction": task.description, "task": info, "files": sorted(files),
              "answer_format": "the text of submission.csv"}
    return Task(task_id or task.name, public, {"task_root": str(task.root)}, files)


def agent_target(agent: str) -> Tuple[str, Dict[str, Any]]:
    """(HAL agent string, default kwargs): a shipped MLE agent, or a user's <folder>:<module>.<function>."""
    if agent in SCRIPTED:
        target, kwargs = SCRIPTED[agent]
        return f"{AGENTS_DIR}:{target}", dict(kwargs)
    if ":" in agent:
        return agent, {}
    raise ValueError(f"agent={agent!r}: use one of {', '.join(SCRIPTED)} or <folder>:<module>.<function>")


# ---------------------------------------------------------------------------------------------------- scoring

_SCORERS: Dict[str, mle_tasks.TaskScorer] = {}
_SCORERS_LOCK = threading.Lock()


def scorer_for(task: mle_tasks.MLETask) -> mle_tasks.TaskScorer:
    """One long-lived scorer per prepared task folder in this process (closed at exit)."""
    key = str(task.root)
    with _SCORERS_LOCK:
        if key not in _SCORERS:
            _SCORERS[key] = mle_tasks.TaskScorer(task)
        return _SCORERS[key]


@atexit.register
def _close_scorers() -> None:
    for scorer in list(_SCORERS.values()):
        scorer.close()
    _SCORERS.clear()


def score_answer(task: mle_tasks.MLETask, answer: Any, work_dir: Path) -> mle_tasks.SubmissionScore:
    """Score an agent's answer (its submission CSV text) with the task's metric and reference scores."""
    references = mle_tasks.reference_scores(task)
    if not isinstance(answer, str) or not answer.strip():
        return mle_tasks.SubmissionScore(False, None, error="no submission", higher_is_better=task.info.higher_is_better)
    work_dir.mkdir(parents=True, exist_ok=True)
    path = work_dir / "submission.csv"
    path.write_text(answer)
    return scorer_for(task).score(path, references)


def task_record(task: mle_tasks.MLETask, result, score: mle_tasks.SubmissionScore) -> Dict[str, Any]:
    """What a run keeps per task: the harness's outcome and the submission's scores."""
    references = mle_tasks.reference_scores(task)
    return {
        "task": task.name, "origin": task.info.origin, "metric": task.info.metric,
        "higher_is_better": task.info.higher_is_better, "valid": score.valid, "raw_score": score.raw_score,
        "normalized": score.normalized, "score_error": score.error, "constant_score": references.constant,
        "gbm_score": references.gbm, "agent_error": result.reason if result.error_kind else "",
        "error_kind": result.error_kind, "wall_s": result.wall_s, "steps": result.steps, "usage": result.usage,
        "lm_calls": result.lm_calls,
    }


def run_pool(tasks: List[mle_tasks.MLETask], agent: str, agent_kwargs: Dict[str, Any], work_root: Path,
             models=None, timeout_s: float = 300.0, memory_mb: int = 2048, sandbox: str = "auto",
             max_concurrent: int = 2) -> Dict[str, Dict[str, Any]]:
    """Run one agent on the tasks with HAL's harness and score each submission: {task name: record}."""
    from helm_plugins.agents.hal.harness import AgentSpec, HarnessConfig, NoModels, run_tasks
    from helm_plugins.common.sandbox import SandboxLimits

    target, defaults = agent_target(agent)
    config = HarnessConfig(benchmark="mle", agent=AgentSpec.parse(target), agent_kwargs={**defaults, **agent_kwargs},
                           limits=SandboxLimits(timeout_s=timeout_s, memory_mb=memory_mb), sandbox=sandbox,
                           max_concurrent=max_concurrent)
    outcome = run_tasks([harness_task(t) for t in tasks], config, Path(work_root), models or NoModels())
    records = {}
    for task in tasks:
        result = outcome.results[task.name]
        score = score_answer(task, result.answer, Path(work_root) / "submissions" / task.name)
        records[task.name] = task_record(task, result, score)
    return records
