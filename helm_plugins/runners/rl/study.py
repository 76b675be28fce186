"""The study: on each task, train the program policy under each arm (duration weighting on/off, instrumentation
on/off) for each seed with asynchronous actors, then score best-of-N; write curves, tables and HELM runs.

Clock "simulated" (the default): every distinct program of a task's program space is run once in the sandbox by
worker processes (its normalised score, stage markers and measured duration are the action's outcome: programs are
seeded, so a rerun gives the same score), then actors on a virtual clock replay those outcomes; this lets three
arms x several seeds x tens of learner steps run in seconds. Clock "real": actor processes run every sampled
program in the sandbox as it is sampled (minutes to hours).

Outputs in the output folder: tasks/ (prepared task copies), outcomes/<task>.json (measured programs),
checkpoint.json (resumed from), study.json, study.md, curves.png; one HELM run per task x arm with a suite.
"""

import hashlib
import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

import numpy as np

from helm_plugins.common.sandbox import SandboxLimits
from helm_plugins.runners.rl.actors import ProcessActors, SimulatedActors
from helm_plugins.runners.rl.config import TASK_POOL, Arm, RLMLEConfig
from helm_plugins.runners.rl.environment import ProgramRunner, reward, score_outcomes
from helm_plugins.runners.rl.learner import Action, FactorisedPolicy, apply_gradient, policy_gradient

# ----- tasks and the program space -----


def find_task(name: str):
    """A task by name from this runner's pool or the shared MLE pool, or a task folder."""
    from helm_plugins.common.mle_tasks import HUMAN_POOL, load_task

    pooled = [pool / name for pool in (TASK_POOL, HUMAN_POOL) if (pool / name / "info" / "task.json").is_file()]
    if len(pooled) > 1:
        raise ValueError(f"task {name!r} is in both pools ({pooled[0]}, {pooled[1]}); pass the folder instead")
    for folder in pooled + [Path(name)]:
        if (folder / "info" / "task.json").is_file():
            return load_task(folder)
    known = sorted(p.name for pool in (TASK_POOL, HUMAN_POOL) for p in pool.iterdir() if (p / "info").is_dir())
    raise ValueError(f"unknown task {name!r}: not in the task pools ({', '.join(known)}) and not a task folder")


def prepare_tasks(names: Sequence[str], root: Path, sandbox_mode: str = "auto"):
    """Prepared copies of the tasks under `root` (reused when already prepared) and their reference scores."""
    from helm_plugins.common.mle_tasks import copy_task, load_task, make_sandbox, prepare_task, reference_scores

    prepared = []
    for name in names:
        task = find_task(name)
        copy = Path(root) / task.name
        if (copy / "info" / "task.json").is_file() and load_task(copy).prepared:
            work = load_task(copy)
        else:
            work = copy_task(task, copy, include_prepared=False)
            result = prepare_task(work, make_sandbox(sandbox_mode))
            if not result.ok:
                raise ValueError(f"task {name}: prepare.py failed: {result.reason}")
        references = reference_scores(work, make_sandbox(sandbox_mode))
        if not references.usable:
            raise ValueError(f"task {name}: the reference scores do not separate ({references}); no normalised score")
        prepared.append((work, references))
    return prepared


@dataclass
class ProgramSpace:
    heads: Dict[str, List[str]]

    def components(self, action: Action) -> Dict[str, str]:
        return {head: self.heads[head][index] for head, index in action.choice}

    def all_components(self) -> List[Dict[str, str]]:
        return [dict(zip(self.heads, values)) for values in itertools.product(*self.heads.values())]


@dataclass
class ActionRunner:
    """What an actor process runs: the action's program (picklable)."""

    runner: ProgramRunner
    space: ProgramSpace
    score: bool = True

    def run(self, action, time_limit: Optional[float] = None) -> Dict[str, Any]:
        components = self.space.components(action) if isinstance(action, Action) else action
        return self.runner.run(components, time_limit, score=self.score)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def measure_programs(runner: ProgramRunner, space: ProgramSpace, workers: int, cache: Path,
                     progress: Callable[[str], None] = print) -> Dict[str, Dict[str, Any]]:
    """{components key: outcome} for the whole program space; each distinct program text runs once (cached)."""
    table = json.loads(cache.read_text()) if cache.is_file() else {}
    programs = {"/".join(c.values()): (c, runner.program(c)) for c in space.all_components()}
    by_text: Dict[str, Dict[str, str]] = {}
    for key, (components, text) in programs.items():
        by_text.setdefault(_digest(text), components)
    todo = [digest for digest in by_text if digest not in table]
    if todo:
        progress(f"{runner.task.name}: running {len(todo)} distinct programs in the sandbox ({workers} workers)")
        with ProcessActors(workers, ActionRunner(runner, space, score=False)) as actors:
            outcomes = actors.run_all([by_text[d] for d in todo])
            for attempt, (digest, outcome) in enumerate(zip(todo, outcomes)):
                if outcome is None:  # its worker died: once more, then a failure
                    outcome = actors.run_all([by_text[digest]])[0] or {
                        "status": "failed", "score": None, "raw_score": None, "markers": 0, "wall_s": 0.0,
                        "cpu_s": 0.0, "duration_s": runner.limits.timeout_s, "timed_out": False,
                        "reason": "the actor process died twice"}
                outcomes[attempt] = outcome
        score_outcomes(runner, outcomes)
        for digest, outcome in zip(todo, outcomes):
            outcome.pop("stderr_tail", None)
            table[digest] = outcome
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps(table, indent=1))
    return {key: table[_digest(text)] for key, (_, text) in programs.items()}


# ----- one training run -----


def exact_expectations(policy: FactorisedPolicy, space: ProgramSpace,
                       table: Dict[str, Dict[str, Any]]) -> Dict[str, float]:
    """Under the policy's solve distribution: expected normalised score (failures 0) and expected duration."""
    score = duration = 0.0
    for components in space.all_components():
        p = 1.0
        for head, value in components.items():
            p *= policy.probabilities(head)[space.heads[head].index(value)]
        outcome = table["/".join(components.values())]
        score += p * (outcome["score"] if outcome["status"] == "ok" else 0.0)
        duration += p * outcome["duration_s"]
    return {"policy_score": score, "policy_duration_s": duration}


def train_run(config: RLMLEConfig, arm: Arm, seed: int, task_index: int, space: ProgramSpace,
              table: Optional[Dict[str, Dict[str, Any]]], actors, state: Dict[str, Any],
              save: Callable[[], None]) -> Dict[str, Any]:
    """Train one policy (resuming from `state`), then best-of-N; returns the finished state."""
    rng = np.random.default_rng([seed, task_index])
    policy = FactorisedPolicy(space.heads)
    history: List[Dict[str, Any]] = []
    if state.get("policy"):
        policy = FactorisedPolicy.from_state(space.heads, state["policy"])
        rng.bit_generator.state = state["rng"]
        history = state["history"]
        if isinstance(actors, SimulatedActors):
            actors.clock, actors.version = state["clock"], len(history)

    def sample(previous) -> Action:
        if previous is None or rng.random() >= config.improve_fraction:
            return policy.sample_solve(rng)
        return policy.sample_improve(previous.action, "ran" if previous.outcome["status"] == "ok" else "failed", rng)

    for step in range(len(history), config.steps):
        window = actors.next_batch(sample, config.window_s)
        done = window.completions
        record: Dict[str, Any] = {"step": step + 1, "clock_s": window.end, "completions": len(done),
                                  "cut": window.cut, "dropped": window.dropped}
        if done:
            rewards = [reward(c.outcome, arm.instrumentation) for c in done]
            gradient = policy_gradient(policy, [c.action for c in done], rewards, [c.duration for c in done],
                                       arm.duration_weighting, arm.advantage)
            apply_gradient(policy, gradient, config.learning_rate)
            scores = [c.outcome["score"] if c.outcome["status"] == "ok" else 0.0 for c in done]
            record.update(mean_reward=float(np.mean(rewards)), mean_score=float(np.mean(scores)),
                          failure_rate=float(np.mean([c.outcome["status"] != "ok" for c in done])),
                          mean_duration_s=float(np.mean([c.duration for c in done])),
                          improve_share=float(np.mean([c.action.kind == "improve" for c in done])))
        if table is not None:
            record.update(exact_expectations(policy, space, table))
        history.append(record)
        state.update(policy=policy.state(), rng=rng.bit_generator.state, history=history,
                     clock=getattr(actors, "clock", 0.0))
        if (step + 1) % config.checkpoint_every == 0:
            save()
    state["best_of_n"] = best_of_n(policy, space, config.best_of, rng, table, actors)
    state["final_mode"] = policy.mode()
    state["done"] = True
    state["policy"] = policy.state()
    save()
    return state


def best_of_n(policy: FactorisedPolicy, space: ProgramSpace, n: int, rng: np.random.Generator,
              table: Optional[Dict[str, Dict[str, Any]]], actors) -> Dict[str, Any]:
    """N programs: half solve, each followed by an improvement of it; the best valid normalised score."""
    actions: List[Action] = []
    while len(actions) < n:
        solve = policy.sample_solve(rng)
        actions.append(solve)
        if len(actions) < n:
            actions.append(solve)  # placeholder, replaced once the solve's outcome is known
    outcomes: List[Dict[str, Any]] = []
    for index in range(0, n, 2):
        solve_outcome = _outcome(actions[index], space, table, actors)
        outcomes.append(solve_outcome)
        if index + 1 < n:
            status = "ran" if solve_outcome["status"] == "ok" else "failed"
            actions[index + 1] = policy.sample_improve(actions[index], status, rng)
            outcomes.append(_outcome(actions[index + 1], space, table, actors))
    scores = [o["score"] for o in outcomes if o["status"] == "ok"]
    best = int(np.argmax([o["score"] if o["status"] == "ok" else -math.inf for o in outcomes])) if scores else None
    return {"score": max(scores) if scores else None, "valid": len(scores), "n": n,
            "best_program": "/".join(space.components(actions[best]).values()) if best is not None else None}


def _outcome(action: Action, space: ProgramSpace, table, actors) -> Dict[str, Any]:
    if table is not None:
        return table["/".join(space.components(action).values())]
    return actors.run_all([action])[0] or {"status": "failed", "score": None}


# ----- the study -----


def run_key(task: str, arm: str, seed: int) -> str:
    return f"{task}|{arm}|{seed}"


class Checkpoint:
    """checkpoint.json: the config and every run's state (policy, RNG, history); written atomically."""

    def __init__(self, path: Path, config: RLMLEConfig):
        self.path = Path(path)
        self.data: Dict[str, Any] = {"config": config.model_dump(mode="json"), "runs": {}}
        if self.path.is_file():
            try:
                saved = json.loads(self.path.read_text())
            except json.JSONDecodeError as error:
                raise ValueError(f"{self.path}: not a readable checkpoint ({error}); delete it or use another "
                                 "--output") from None
            before, now = saved.get("config", {}), self.data["config"]
            defaults = {name: f.default for name, f in type(config).model_fields.items()}
            ignored = ("checkpoint_every", "workers")  # do not change results
            changed = sorted(k for k in set(before) | set(now)
                             if before.get(k, defaults.get(k)) != now.get(k) and k not in ignored)
            if changed:
                raise ValueError(f"{self.path} was written with a different config (changed: {', '.join(changed)}); "
                                 "use another --output or delete the checkpoint to start over")
            self.data["runs"] = saved.get("runs", {})

    def state(self, key: str) -> Dict[str, Any]:
        return self.data["runs"].setdefault(key, {})

    def save(self) -> None:
        tmp = self.path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.data))
        tmp.replace(self.path)


def run_study(config: RLMLEConfig, output_dir: Path, suite_dir: Optional[Path] = None,
              progress: Callable[[str], None] = print) -> Dict[str, Any]:
    from helm_plugins.runners.rl.report import late_mean, summarize, write_helm_runs, write_report

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "config.json").write_text(json.dumps(config.model_dump(mode="json"), indent=2))
    checkpoint = Checkpoint(output_dir / "checkpoint.json", config)
    space = ProgramSpace({head: list(options) for head, options in config.components.items()})
    limits = SandboxLimits(timeout_s=config.timeout_s, memory_mb=config.memory_mb)
    tables: Dict[str, Dict[str, Dict[str, Any]]] = {}
    for task_index, (task, references) in enumerate(prepare_tasks(config.tasks, output_dir / "tasks", config.sandbox)):
        work_root = output_dir / "work" / task.name
        work_root.mkdir(parents=True, exist_ok=True)
        runner = ProgramRunner(task, references, str(work_root), limits, config.sandbox, config.duration,
                               instrumentation_model=config.instrumentation_model, local_path=config.local_path)
        table = None
        if config.clock == "simulated":
            table = measure_programs(runner, space, config.workers, output_dir / "outcomes" / f"{task.name}.json",
                                     progress)
            tables[task.name] = table
        for arm in config.arms:
            for seed in config.seeds:
                state = checkpoint.state(run_key(task.name, arm.name, seed))
                if state.get("done"):
                    continue
                if table is not None:
                    actors = SimulatedActors(config.actors,
                                             lambda a, t=table: t["/".join(space.components(a).values())])
                    train_run(config, arm, seed, task_index, space, table, actors, state, checkpoint.save)
                else:
                    with ProcessActors(config.actors, ActionRunner(runner, space)) as actors:
                        train_run(config, arm, seed, task_index, space, None, actors, state, checkpoint.save)
                        state["dropped_actions"] = len(actors.dropped)
                    checkpoint.save()
                best = state["best_of_n"]["score"]
                progress(f"{task.name} {arm.name} seed {seed}: best-of-{config.best_of} "
                         f"{'n/a' if best is None else f'{best:.3f}'}, late score "
                         f"{late_mean([h.get('mean_score') for h in state['history']]) or 0:.3f}")
    summary = summarize(config, checkpoint.data["runs"], tables)
    (output_dir / "study.json").write_text(json.dumps(summary, indent=2))
    write_report(summary, output_dir)
    if suite_dir is not None:
        write_helm_runs(config, summary, Path(suite_dir), output_dir)
    return summary
