"""HAL's harness: each task in a fresh sandboxed directory, every model and tool call through a traced gateway.

Per task (as HAL's local runner): a new directory `tasks/<task id>/attempt<k>/` holding a copy of the agent folder,
`input.json` ({task id: public task}; the gold never leaves the harness), `agent_args.json`, the task's files and a
generated `run_agent.py`, which imports the agent's `run(tasks, **kwargs)` and writes `output.json`. The agent runs
in `helm_plugins.common.sandbox` (no network, confined to that directory, time, memory and process limits). Its
only way out is the gateway (two pipes): model calls, which the harness makes through HELM (the deployment's
client, HELM's cache and retries, token counts, prices), and tool calls, which the harness runs on the task's
environment. Both are traced to `traces/<task id>.jsonl`, outside the agent's reach, with secrets redacted.

Outcomes are appended to `results.jsonl` as tasks finish; a rerun of the same configuration skips finished tasks
(HAL's --continue_run). Transient failures (the sandbox did not start, a model call failed after HELM's retries)
are retried with a fresh directory; the agent's own failures (timeout, memory, crash, malformed output) are scored
as failed with the reason.
"""

import hashlib
import json
import os
import re
import shutil
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional

from helm_plugins.agents.hal.benchmarks import BENCHMARKS, Task, task_from_json, task_to_json
from helm_plugins.agents.hal.cost import Usage
from helm_plugins.common.sandbox import Sandbox, SandboxLimits

AGENT_FILES = Path(__file__).parent / "agent_files"
BUILTIN_AGENTS_DIR = Path(__file__).parent / "agents"
BUILTIN_AGENTS = {
    "oracle": "scripted.oracle",
    "random": "scripted.random_agent",
    "shortcut": "scripted.shortcut",
    "skilled": "scripted.skilled",
    "misbehave": "scripted.misbehave",
    "react": "react.run",
}
TRANSIENT = ("sandbox", "gateway")
MAX_TRACE_CHARS = 4000
SECRET = re.compile(r"(sk-[A-Za-z0-9_\-]{8,}|(?i:bearer)\s+[A-Za-z0-9_\-.]{12,})")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    text = SECRET.sub("[REDACTED]", text)
    for secret in secrets:
        if secret and len(secret) >= 6:
            text = text.replace(secret, "[REDACTED]")
    return text


def environment_secrets() -> List[str]:
    """Values of the caller's environment variables that look like credentials (never written anywhere)."""
    return [v for k, v in os.environ.items() if re.search(r"(KEY|TOKEN|SECRET|PASSWORD)", k.upper()) and len(v) >= 6]


@dataclass(frozen=True)
class AgentSpec:
    """An agent: a folder copied into each task directory and `module.function` inside it."""

    folder: str
    module: str
    function: str
    name: str

    @classmethod
    def parse(cls, agent: str) -> "AgentSpec":
        """`oracle`, `random`, `shortcut`, `skilled`, `react` (shipped), or `<folder>:<module>.<function>`."""
        if agent in BUILTIN_AGENTS:
            module, function = BUILTIN_AGENTS[agent].rsplit(".", 1)
            return cls(str(BUILTIN_AGENTS_DIR), module, function, agent)
        folder, sep, target = agent.rpartition(":")
        if not sep or "." not in target:
            raise ValueError(f"agent {agent!r}: use a shipped agent ({', '.join(sorted(BUILTIN_AGENTS))}) or "
                             "<folder>:<module>.<function>, e.g. agent=/home/me/my_agent:main.run")
        if not Path(folder).is_dir():
            raise ValueError(f"agent {agent!r}: folder {folder} does not exist")
        module, function = target.rsplit(".", 1)
        if not (Path(folder) / (module.replace(".", "/") + ".py")).is_file():
            raise ValueError(f"agent {agent!r}: no {module.replace('.', '/')}.py in {folder}")
        return cls(str(Path(folder).resolve()), module, function, agent)

    def digest(self) -> str:
        """Hash of the agent's source files (HAL's agent_hash)."""
        h = hashlib.sha256()
        for path in sorted(Path(self.folder).rglob("*.py")):
            h.update(str(path.relative_to(self.folder)).encode())
            h.update(path.read_bytes())
        return h.hexdigest()[:16]


@dataclass(frozen=True)
class HarnessConfig:
    benchmark: str
    agent: AgentSpec
    agent_kwargs: Dict[str, Any]
    limits: SandboxLimits
    sandbox: str = "auto"
    max_attempts: int = 2  # transient failures are retried up to this many attempts
    max_concurrent: int = 4

    def key(self) -> str:
        """Identifies the configuration whose finished tasks a rerun may reuse."""
        payload = json.dumps([self.benchmark, self.agent.name, self.agent.digest(), self.agent_kwargs,
                              self.limits.model_dump(), self.sandbox], sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


@dataclass
class TaskResult:
    task_id: str
    score: float
    answer: Any
    reason: str
    error_kind: str = ""  # timeout | memory | processes | crash | malformed_output | missing_output | sandbox | gateway
    usage: Dict[str, Dict[str, int]] = field(default_factory=dict)  # model -> Usage fields (real and simulated)
    steps: int = 0
    lm_calls: int = 0
    tool_calls: int = 0
    tool_errors: int = 0
    marks: Dict[str, int] = field(default_factory=dict)  # environment marks: catastrophic_action, ...
    wall_s: float = 0.0
    attempts: int = 1
    extra_tasks: int = 0
    agent_metrics: Dict[str, Any] = field(default_factory=dict)
    level: int = 1
    config_key: str = ""
    token_count_estimated: bool = False

    def to_json(self) -> Dict[str, Any]:
        return asdict(self)


# -------------------------------------------------------------------------------------------------- model access

class Models:
    """What the gateway calls for `lm` requests; subclasses reach models (HELM, or a test double)."""

    def complete(self, payload: Dict[str, Any]) -> Dict[str, Any]:
        """-> {"text", "model", "prompt_tokens", "completion_tokens", "cached", "estimated"} or {"error"}."""
        return {"error": "this run has no model: the agent may not make model calls"}


class NoModels(Models):
    pass


# ------------------------------------------------------------------------------------------------------ gateway

class Gateway:
    """Serves one sandboxed agent's requests (a thread), tracing each."""

    def __init__(self, task: Task, environment, models: Models, trace, secrets: List[str]):
        self.task, self.environment, self.models, self.trace, self.secrets = task, environment, models, trace, secrets
        self.usage: Dict[str, Usage] = {}
        self.lm_calls = self.tool_calls = self.tool_errors = 0
        self.marks: Dict[str, int] = {}
        self.gateway_error = ""
        self.estimated = False
        self.request_r, self.request_w = os.pipe()
        self.reply_r, self.reply_w = os.pipe()
        self.thread = threading.Thread(target=self.serve, daemon=True)

    def child_fds(self):
        return self.request_w, self.reply_r

    def start(self):
        self.thread.start()

    def close_child_ends(self):
        os.close(self.request_w)
        os.close(self.reply_r)

    def serve(self):
        with os.fdopen(self.request_r, "r") as requests, os.fdopen(self.reply_w, "w", buffering=1) as replies:
            for line in requests:
                try:
                    payload = json.loads(line)
                    reply = self.handle(payload if isinstance(payload, dict) else {})
                except json.JSONDecodeError:
                    reply = {"error": "gateway requests are JSON lines"}
                try:
                    replies.write(json.dumps(reply, default=str) + "\n")
                    replies.flush()
                except (BrokenPipeError, ValueError):
                    return

    def add_usage(self, model: str, prompt: int, completion: int, cached: int = 0):
        self.usage.setdefault(model, Usage()).add(prompt, completion, cached)

    def handle(self, payload: Dict[str, Any]) -> Dict[str, Any]:
        kind = payload.get("kind")
        if kind == "tools":
            return {"tools": self.environment.tool_specs}
        if kind == "tool":
            self.tool_calls += 1
            name, arguments = str(payload.get("name")), payload.get("arguments") or {}
            outcome = self.environment.call(name, arguments)
            self.tool_errors += bool(outcome.error)
            for mark in outcome.marks:
                self.marks[mark] = self.marks.get(mark, 0) + 1
            self.trace("tool", name=name, arguments=arguments, result=outcome.result, error=outcome.error,
                       marks=outcome.marks)
            return {"result": outcome.result, "error": outcome.error}
        if kind == "simulated_lm":
            model = str(payload.get("model"))
            counts = [max(0, int(payload.get(k) or 0)) for k in ("prompt_tokens", "completion_tokens", "cached_prompt_tokens")]
            self.add_usage(model, *counts)
            self.trace("simulated_lm", model=model, prompt_tokens=counts[0], completion_tokens=counts[1],
                       cached_prompt_tokens=counts[2], note=str(payload.get("note", ""))[:200])
            return {"ok": True}
        if kind == "lm":
            self.lm_calls += 1
            reply = self.models.complete(payload)
            if reply.get("error"):
                self.gateway_error = reply["error"]
            else:
                self.add_usage(reply["model"], reply["prompt_tokens"], reply["completion_tokens"])
                self.estimated |= bool(reply.get("estimated"))
            messages = payload.get("messages") or []
            self.trace("lm", model=reply.get("model"), prompt=(messages[-1].get("content", "") if messages else ""),
                       text=reply.get("text", ""), prompt_tokens=reply.get("prompt_tokens"),
                       completion_tokens=reply.get("completion_tokens"), cached=reply.get("cached"),
                       error=reply.get("error", ""))
            return reply
        if kind == "log":
            self.trace("log", message=str(payload.get("message", "")))
            return {"ok": True}
        return {"error": f"unknown gateway request kind {kind!r}"}


# --------------------------------------------------------------------------------------------------- one task

class Tracer:
    def __init__(self, path: Path, task_id: str, secrets: List[str]):
        self.path, self.task_id, self.secrets = path, task_id, secrets
        self.lock = threading.Lock()
        self.attempt = 0
        self.seq = 0

    def __call__(self, kind: str, **fields):
        self.seq += 1
        event = {"task_id": self.task_id, "attempt": self.attempt, "seq": self.seq, "time": round(time.time(), 3),
                 "kind": kind, **fields}
        event = {k: (v[:MAX_TRACE_CHARS] + " […]" if isinstance(v, str) and len(v) > MAX_TRACE_CHARS else v)
                 for k, v in event.items()}  # long prompts, replies and outputs are cut, field by field
        text = json.dumps(event, default=str)
        with self.lock, open(self.path, "a") as file:
            file.write(redact(text, self.secrets) + "\n")


def prepare_task_dir(directory: Path, task: Task, config: HarnessConfig) -> None:
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    shutil.copytree(config.agent.folder, directory / "agent", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("hal_gateway.py", "run_agent.py"):
        shutil.copy(AGENT_FILES / name, directory / name)
    (directory / "agent_spec.json").write_text(json.dumps({"module": config.agent.module, "function": config.agent.function}))
    (directory / "input.json").write_text(json.dumps({task.id: task.public}))
    (directory / "agent_args.json").write_text(json.dumps(config.agent_kwargs))
    for name, text in task.files.items():
        (directory / name).write_text(text)


def read_output(directory: Path, task_id: str):
    """(answer, agent metrics, error kind, reason, extra task count) from output.json, validated."""
    path = directory / "output.json"
    if not path.is_file():
        return None, {}, "missing_output", "the agent wrote no output", 0
    try:
        output = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        return None, {}, "malformed_output", f"output.json is not JSON: {error}", 0
    if not isinstance(output, dict):
        return None, {}, "malformed_output", "the agent returned a non-dict output", 0
    extra = len([k for k in output if k != task_id])
    if task_id not in output:
        return None, {}, "missing_output", f"no answer for task {task_id} ({extra} answers for unknown tasks)", extra
    entry = output[task_id]
    if isinstance(entry, dict):
        if "answer" not in entry:
            return None, {}, "malformed_output", "answer object without an `answer` field", extra
        metrics = entry.get("metrics") if isinstance(entry.get("metrics"), dict) else {}
        return entry["answer"], metrics, "", "", extra
    return entry, {}, "", "", extra


def execute_task(task: Task, config: HarnessConfig, work_root: Path, models: Models) -> TaskResult:
    """Run one task (retrying transient failures) and score it."""
    benchmark = BENCHMARKS.get(config.benchmark)
    sandbox = Sandbox(config.sandbox)
    secrets = environment_secrets()
    (work_root / "traces").mkdir(parents=True, exist_ok=True)
    trace_path = work_root / "traces" / f"{task.id}.jsonl"
    trace_path.unlink(missing_ok=True)
    tracer = Tracer(trace_path, task.id, secrets)
    result = None
    for attempt in range(1, config.max_attempts + 1):
        tracer.attempt = attempt
        result = _attempt(task, config, work_root / "tasks" / task.id / f"attempt{attempt}", models, sandbox,
                          benchmark, tracer, secrets)
        result.attempts = attempt
        if result.error_kind not in TRANSIENT:
            break
        tracer("retry", reason=result.reason)
    result.config_key = config.key()
    tracer("result", score=result.score, reason=result.reason, error_kind=result.error_kind)
    return result


def _attempt(task, config, directory, models, sandbox, benchmark, tracer, secrets) -> TaskResult:
    prepare_task_dir(directory, task, config)
    environment = benchmark.environment(task)
    gateway = Gateway(task, environment, models, tracer, secrets)
    start = time.monotonic()
    try:
        handle = sandbox.start([sys.executable, str(directory / "run_agent.py")], directory, config.limits,
                               env={"HAL_GATEWAY_FDS": "%d,%d" % gateway.child_fds()}, pass_fds=gateway.child_fds())
    except OSError as error:
        tracer("sandbox", error=str(error))
        return TaskResult(task.id, 0.0, None, f"sandbox did not start: {error}", "sandbox", level=task.level)
    finally:
        gateway.close_child_ends()  # the child holds its own copies
    gateway.start()
    outcome = handle.wait()
    gateway.thread.join(timeout=10)
    wall = time.monotonic() - start
    tracer("sandbox", returncode=outcome.returncode, timed_out=outcome.timed_out, wall_s=round(wall, 3),
           stderr=redact(outcome.stderr[-2000:], secrets), stdout=redact(outcome.stdout[-1000:], secrets))
    answer, metrics, error_kind, reason, extra = read_output(directory, task.id)
    if not outcome.ok:
        error_kind = outcome.reason.split(":")[0] if outcome.reason.startswith(("timeout", "memory", "processes")) else "crash"
        reason = f"agent failed: {outcome.reason}; {_last_line(outcome.stderr)}".rstrip("; ")
        if "bwrap:" in outcome.stderr or "setpriv:" in outcome.stderr or "prlimit:" in outcome.stderr:
            error_kind, reason = "sandbox", f"sandbox failed: {_last_line(outcome.stderr)}"
        answer = None
    if gateway.gateway_error and error_kind:  # the agent died after a failed model call: transient, retried
        error_kind, reason = "gateway", f"model call failed: {gateway.gateway_error[:300]}"
    # (an agent that handled a failed model call itself and answered is scored on its answer)
    score = 0.0
    if not error_kind:
        try:
            score, reason = benchmark.score(task, answer, environment.final_state(), sandbox)
        except Exception as error:  # a scorer bug must not lose the run: failed, with the reason
            score, reason, error_kind = 0.0, f"scoring failed: {error!r}", "scoring"
    steps = metrics.get("steps") if isinstance(metrics.get("steps"), int) else gateway.lm_calls + gateway.tool_calls
    return TaskResult(
        task_id=task.id, score=float(score), answer=answer if isinstance(answer, (str, int, float, type(None))) else json.dumps(answer),
        reason=reason, error_kind=error_kind, usage={m: asdict(u) for m, u in gateway.usage.items()}, steps=steps,
        lm_calls=gateway.lm_calls, tool_calls=gateway.tool_calls, tool_errors=gateway.tool_errors, marks=gateway.marks,
        wall_s=round(wall, 3), extra_tasks=extra, agent_metrics={k: v for k, v in metrics.items() if isinstance(v, (int, float, str))},
        level=task.level, token_count_estimated=gateway.estimated,
    )


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


# ----------------------------------------------------------------------------------------------------- backends

class LocalBackend:
    """A thread per concurrent task; each task is its own sandboxed process (HAL's asyncio semaphore)."""

    name = "local"

    def __init__(self, max_concurrent: int = 4):
        self.max_concurrent = max(1, int(max_concurrent))

    def map(self, function: Callable[[Task], TaskResult], tasks: List[Task], on_result: Callable[[TaskResult], None]):
        with ThreadPoolExecutor(self.max_concurrent) as pool:
            for result in pool.map(function, tasks):
                on_result(result)


class RayBackend:
    """Tasks as Ray tasks (one sandbox each) on a Ray cluster: `address` of a running cluster, or a local one
    started here. Every worker needs bubblewrap and this package; model calls are made on the worker."""

    name = "ray"

    def __init__(self, max_concurrent: int = 4, address: Optional[str] = None):
        try:
            import ray
        except ImportError:
            raise ValueError("the Ray backend needs Ray: pip install 'helm-plugins[ray]'") from None
        self.ray = ray
        self.max_concurrent = max(1, int(max_concurrent))
        if not ray.is_initialized():
            ray.init(address=address, num_cpus=None if address else self.max_concurrent, include_dashboard=False,
                     log_to_driver=False, configure_logging=False)

    def map(self, function, tasks, on_result):
        ray = self.ray
        remote = ray.remote(num_cpus=1)(lambda t: function(t))
        pending = [remote.remote(task) for task in tasks]
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            on_result(ray.get(done[0]))


def make_backend(name: str, max_concurrent: int, address: Optional[str] = None):
    if name == "local":
        return LocalBackend(max_concurrent)
    if name == "ray":
        return RayBackend(max_concurrent, address)
    raise ValueError(f"unknown backend {name!r}; choose local or ray")


# ------------------------------------------------------------------------------------------------------- a run

@dataclass
class RunOutcome:
    results: Dict[str, TaskResult]
    resumed: int
    work_root: Path


def load_checkpoint(path: Path, key: str) -> Dict[str, TaskResult]:
    finished: Dict[str, TaskResult] = {}
    if not path.is_file():
        return finished
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            result = TaskResult(**row)
        except (json.JSONDecodeError, TypeError):
            continue  # a line cut by an interruption: that task runs again
        if result.config_key == key:
            finished[result.task_id] = result
    return finished


def run_tasks(tasks: List[Task], config: HarnessConfig, work_root: Path, models: Models,
              backend=None, resume: bool = True, progress: Optional[Callable[[TaskResult], None]] = None) -> RunOutcome:
    """Run every task not already finished under the same configuration; results in task order."""
    work_root = Path(work_root)
    work_root.mkdir(parents=True, exist_ok=True)
    checkpoint = work_root / "results.jsonl"
    key = config.key()
    finished = load_checkpoint(checkpoint, key) if resume else {}
    if not resume and checkpoint.exists():
        checkpoint.unlink()
    todo = [t for t in tasks if t.id not in finished]
    lock = threading.Lock()

    def on_result(result: TaskResult):
        with lock:
            finished[result.task_id] = result
            with open(checkpoint, "a") as file:
                file.write(json.dumps(result.to_json(), default=str) + "\n")
        if progress:
            progress(result)

    backend = backend or LocalBackend(config.max_concurrent)
    resumed = len(tasks) - len(todo)
    if backend.name == "ray":
        payloads = [task_to_json(t) for t in todo]
        backend.map(lambda payload: execute_task(task_from_json(payload), config, work_root, models), payloads, on_result)
    else:
        backend.map(lambda task: execute_task(task, config, work_root, models), todo, on_result)
    return RunOutcome({t.id: finished[t.id] for t in tasks}, resumed, work_root)
