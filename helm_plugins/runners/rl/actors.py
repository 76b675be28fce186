"""Asynchronous actors under a wall-clock budget. Each learner step is an episode window of `window_s` seconds:
every actor starts a fresh episode (a "solve" action), then keeps working on its own solution, action after action
(half of them "improve the previous solution"), until the window ends; an action still running at the deadline is
cut (counted, not learned from). The learner gets every action that finished in the window, whatever the mix. An
actor on a fast approach finishes many actions per window, one on a slow approach few: action x arrives about
pi(x) T / dt_x times, the bias the duration weighting removes. Two clocks, one interface
`next_batch(sample, window_s) -> Window`:

- `SimulatedActors`: a virtual clock over known outcomes (each action's measured duration); used for studies over
  many seeds and arms, and for planted bandits in tests.
- `ProcessActors`: real worker processes running actions (sandboxed programs) through a picklable runner, side by
  side; an action gets the time left in the window as its limit. A worker that dies mid-action loses that action:
  it is dropped, counted in `dropped`, and a fresh worker takes its place.

`sample(previous)` gets the actor's previous completion in this window (None at the start) and returns an action.
"""

import itertools
import multiprocessing
import time
from dataclasses import dataclass
from multiprocessing.connection import wait
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

Outcome = Dict[str, Any]  # {"status": "ok"|"failed", "score", "markers", "duration_s", "wall_s", "cpu_s", "reason"}
Sampler = Callable[[Optional["Completion"]], Any]


@dataclass
class Completion:
    action: Any
    outcome: Outcome
    actor: int
    started: float  # clock time the action started
    finished: float
    policy_version: int  # learner steps done when the action was sampled

    @property
    def duration(self) -> float:
        return float(self.outcome["duration_s"])


@dataclass
class Window:
    completions: List[Completion]
    cut: int  # actions still running at the deadline (their time spent, nothing learned)
    dropped: int = 0  # actions lost with their worker process
    end: float = 0.0


@dataclass
class SimulatedActors:
    """`n_actors` actors on a virtual clock; `outcome(action)` gives the outcome, whose duration_s sets its length."""

    n_actors: int
    outcome: Callable[[Any], Outcome]
    clock: float = 0.0
    version: int = 0

    def next_batch(self, sample: Sampler, window_s: float) -> Window:
        end = self.clock + window_s
        completions, cut = [], 0
        for actor in range(self.n_actors):
            t, previous = self.clock, None
            while True:
                action = sample(previous)
                outcome = self.outcome(action)
                duration = float(outcome["duration_s"])
                if not duration > 0:
                    raise ValueError(f"action {action!r}: duration must be positive, got {duration}")
                if t + duration > end:
                    cut += 1
                    break
                previous = Completion(action, outcome, actor, t, t + duration, self.version)
                completions.append(previous)
                t += duration
        self.clock = end
        self.version += 1
        return Window(sorted(completions, key=lambda c: c.finished), cut, 0, end)


def _actor_loop(connection, runner) -> None:
    connection.send(("ready", None))
    while True:
        job = connection.recv()
        if job is None:
            return
        job_id, action, time_limit = job
        try:
            outcome = runner.run(action, time_limit)
        except Exception as error:  # a runner bug is an outcome of the action, not the end of the actor
            outcome = {"status": "failed", "score": None, "markers": 0, "duration_s": 1e-3, "wall_s": 0.0,
                       "cpu_s": 0.0, "timed_out": False, "reason": f"runner error: {type(error).__name__}: {error}"}
        connection.send((job_id, outcome))


@dataclass
class _Worker:
    process: Any
    connection: Any
    job: Optional[Tuple[int, Any, float, Optional[float]]] = None  # (job id, action, started, time limit)
    previous: Optional[Completion] = None


class ProcessActors:
    """Real asynchronous actors: `n_actors` worker processes running `runner.run(action, time_limit) -> Outcome`."""

    def __init__(self, n_actors: int, runner: Any, start_method: str = "spawn", min_action_s: float = 0.5):
        self.runner = runner
        self.context = multiprocessing.get_context(start_method)
        self.workers = [self._spawn() for _ in range(n_actors)]  # the clock starts once all are ready
        self.version = 0
        self.min_action_s = min_action_s  # an actor with less time left in the window waits for the next one
        self.dropped: List[Dict[str, Any]] = []
        self._ids = itertools.count()
        self._t0 = time.monotonic()

    @property
    def clock(self) -> float:
        return time.monotonic() - self._t0

    def _spawn(self) -> _Worker:
        parent, child = self.context.Pipe()
        process = self.context.Process(target=_actor_loop, args=(child, self.runner), daemon=True)
        process.start()
        child.close()
        if not parent.poll(120) or parent.recv()[0] != "ready":  # started and imported: the clock may run
            raise RuntimeError("an actor process did not start within 120 s")
        return _Worker(process, parent)

    def _dispatch(self, worker: _Worker, action: Any, time_limit: Optional[float]) -> int:
        job_id = next(self._ids)
        worker.job = (job_id, action, self.clock, time_limit)
        worker.connection.send((job_id, action, time_limit))
        return job_id

    def _wait_one(self) -> Tuple[_Worker, Optional[Completion], Tuple]:
        """The next finished worker, its completion (None for a worker that died: its action is dropped) and job."""
        busy = [w for w in self.workers if w.job is not None]
        if not busy:
            raise RuntimeError("no action is running")
        handles = {}
        for worker in busy:
            handles[worker.connection] = worker
            handles[worker.process.sentinel] = worker
        while True:
            for ready in wait(list(handles)):
                worker = handles[ready]
                job = worker.job
                job_id, action, started, _ = job
                try:
                    while worker.connection.poll():
                        got_id, outcome = worker.connection.recv()
                        if got_id == job_id:
                            worker.job = None
                            actor = self.workers.index(worker)
                            return worker, Completion(action, outcome, actor, started, self.clock, self.version), job
                except (EOFError, OSError):
                    pass
                worker.process.join(timeout=0.2)
                if worker.process.is_alive():
                    continue  # woken without a result (a spurious wake-up): keep waiting
                # the worker died mid-action: drop the action, count it, replace the worker
                self.dropped.append({"action": action, "exitcode": worker.process.exitcode, "at": self.clock})
                index = self.workers.index(worker)
                self.workers[index] = self._spawn()
                return self.workers[index], None, job

    def next_batch(self, sample: Sampler, window_s: float) -> Window:
        end = self.clock + window_s
        completions, cut, dropped_before = [], 0, len(self.dropped)
        for worker in self.workers:
            worker.previous = None
            self._dispatch(worker, sample(None), end - self.clock)
        while any(w.job is not None for w in self.workers):
            worker, completion, job = self._wait_one()
            if completion is not None:
                if completion.outcome.get("timed_out") and job[3] is not None and completion.finished >= end - 0.05:
                    cut += 1  # stopped by the window's deadline, not by the task's own time limit
                    continue
                completions.append(completion)
                worker.previous = completion
            left = end - self.clock
            if left >= self.min_action_s:
                self._dispatch(worker, sample(worker.previous), left)
        self.version += 1
        return Window(completions, cut, len(self.dropped) - dropped_before, end)

    def run_all(self, actions: Sequence[Any]) -> List[Optional[Outcome]]:
        """Run a fixed list of actions on the workers (order kept, no window); None where the worker died."""
        results: List[Optional[Outcome]] = [None] * len(actions)
        pending = list(enumerate(actions))
        position_of: Dict[int, int] = {}
        while pending or any(w.job is not None for w in self.workers):
            for worker in self.workers:
                if worker.job is None and pending:
                    position, action = pending.pop(0)
                    position_of[self._dispatch(worker, action, None)] = position
            _, completion, job = self._wait_one()
            if completion is not None:
                results[position_of[job[0]]] = completion.outcome
        return results

    def close(self) -> None:
        for worker in self.workers:
            if worker.job is not None:  # an action still running: its result is not wanted
                worker.process.terminate()
                continue
            try:
                worker.connection.send(None)
            except (BrokenPipeError, OSError):
                pass
        for worker in self.workers:
            worker.process.join(timeout=2)
            if worker.process.is_alive():
                worker.process.terminate()
                worker.process.join(timeout=2)

    def __enter__(self) -> "ProcessActors":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
