"""Sweeps of pretraining runs: token budgets, points run in parallel and reused, coordinate descent.

A *point* is one fully resolved PretrainConfig. `SweepExecutor` runs points in worker processes that share one
tokenized-data cache (datacache.py), each into `<root>/runs/<hash of its config>/`, and stores its outcome in
`result.json` there. A rerun reuses every finished point; an interrupted point resumes from its checkpoint. A run
whose loss turns NaN is recorded as diverged, with its step, and the sweep goes on.

`coordinate_descent` tunes one hyperparameter at a time over its grid, moves while the final validation loss
improves, and stops at a point that no neighbour beats. It is a generator (it yields the points it wants
evaluated and receives their losses), so `run_searches` can advance many searches in lockstep and evaluate all
their requests as one parallel batch.
"""

import hashlib
import json
import math
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any, Callable, Dict, Generator, List, Mapping, Optional, Sequence, Tuple

import torch
from pydantic import BaseModel, ConfigDict, Field, model_validator
from tqdm.auto import tqdm

from helm_plugins.common.configs import with_overrides
from helm_plugins.runners.pretrain.config import PretrainConfig
from helm_plugins.runners.pretrain.model import GPTConfig

CHINCHILLA_TOKENS_PER_PARAMETER = 20


# ----- budgets -----


def non_embedding_parameters(model: GPTConfig, device: str = "meta") -> int:
    """Parameters outside the token and position embeddings (the output head is tied to the token embedding).

    Counted on an unallocated ("meta") copy; device="cpu" is faster for models of a few thousand parameters."""
    from helm_plugins.runners.pretrain.model import GPT

    with torch.device(device):
        gpt = GPT(model.model_copy(update={"vocab_size": 8}))
    embedding = sum(p.numel() for m in gpt.modules() if isinstance(m, torch.nn.Embedding) for p in m.parameters())
    return gpt.num_parameters() - embedding


def budget_tokens(model: GPTConfig, chinchilla_multiple: float, tokens_per_parameter: float = CHINCHILLA_TOKENS_PER_PARAMETER) -> int:
    return round(chinchilla_multiple * tokens_per_parameter * non_embedding_parameters(model))


def with_budget(config: PretrainConfig, tokens: int, evaluations: int = 10, checkpoints: int = 4) -> PretrainConfig:
    """`config` trained for `tokens` (rounded to whole steps): the schedule, and so its decay, ends at the budget."""
    if tokens < config.tokens_per_step:
        raise ValueError(
            f"a budget of {tokens:,} tokens is smaller than one batch ({config.batch_size} x "
            f"{config.model.context_length} = {config.tokens_per_step:,} tokens): raise the budget or lower batch_size"
        )
    steps = round(tokens / config.tokens_per_step)
    return config.model_copy(
        update={
            "max_steps": steps,
            "eval_every": max(1, steps // evaluations),
            "checkpoint_every": max(1, steps // checkpoints),
        }
    )


# ----- points and their execution -----


def point_key(config: PretrainConfig) -> str:
    return hashlib.sha256(json.dumps(config.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()[:16]


def _result_record(config: PretrainConfig, **fields) -> Dict[str, Any]:
    return {"key": point_key(config), "run_name": config.run_name, **fields}


def run_point(config: PretrainConfig, root: Path, data_cache: Optional[Path] = None) -> Dict[str, Any]:
    """Train `config` (or reuse its stored result) and return the record stored in result.json."""
    from helm_plugins.runners.pretrain.trainer import Trainer, TrainingDiverged

    folder = Path(root) / "runs" / point_key(config)
    result_path = folder / "result.json"
    if result_path.is_file():
        return json.loads(result_path.read_text())
    trainer = Trainer(config, folder, data_cache=data_cache)
    try:
        result = trainer.train(progress=False, export=False)
    except TrainingDiverged as diverged:
        record = _result_record(config, status="diverged", step=diverged.step, final_val_loss=None, curve=[])
    else:
        curve = [{"step": e["step"], "tokens": e["tokens"], "val_loss": e["val_loss"]} for e in result.evaluations]
        status = "done" if all(math.isfinite(point["val_loss"]) for point in curve) else "diverged"
        record = _result_record(
            config,
            status=status,
            step=result.step,
            final_val_loss=result.final_val_loss if status == "done" else None,
            tokens=result.tokens,
            train_seconds=round(result.train_seconds, 3),
            tokens_per_second=round(result.tokens_per_second, 1),
            num_parameters=result.num_parameters,
            curve=curve if status == "done" else [],
        )
    tmp = result_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(record, indent=1))
    os.replace(tmp, result_path)
    return record


def final_loss(record: Mapping[str, Any]) -> float:
    """The loss coordinate descent compares: +inf for a diverged run."""
    return record["final_val_loss"] if record["status"] == "done" else math.inf


def _init_worker(threads: int) -> None:
    torch.set_num_threads(threads)


def _run_in_worker(config_json: Dict[str, Any], root: str, data_cache: Optional[str]) -> Dict[str, Any]:
    return run_point(PretrainConfig.model_validate(config_json), Path(root), Path(data_cache) if data_cache else None)


class SweepExecutor:
    """Runs points serially (workers=1) or in `workers` processes, each with `threads_per_worker` torch threads."""

    def __init__(self, root: Path, workers: int = 1, threads_per_worker: int = 1, progress: bool = True, share_data: bool = True):
        if workers < 1 or threads_per_worker < 1:
            raise ValueError(f"workers ({workers}) and threads_per_worker ({threads_per_worker}) must be >= 1")
        self.root = Path(root)
        self.workers = workers
        self.threads_per_worker = threads_per_worker
        self.progress = progress
        self.data_cache = self.root / "data_cache" if share_data else None
        self.runs_started = 0  # points trained (not reused) by this executor
        self._pool: Optional[ProcessPoolExecutor] = None  # started once, kept for every batch of points

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def __enter__(self) -> "SweepExecutor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _workers(self) -> ProcessPoolExecutor:
        if self._pool is None:
            context = multiprocessing.get_context("spawn")  # fork would copy torch's thread pools
            self._pool = ProcessPoolExecutor(self.workers, mp_context=context, initializer=_init_worker, initargs=(self.threads_per_worker,))
        return self._pool

    def is_done(self, config: PretrainConfig) -> bool:
        return (self.root / "runs" / point_key(config) / "result.json").is_file()

    def run(self, configs: Sequence[PretrainConfig], description: str = "sweep") -> List[Dict[str, Any]]:
        """Records in the order of `configs`; duplicates run once."""
        from helm_plugins.runners.pretrain.datacache import cache_key, cached_tokenize

        unique = {point_key(c): c for c in configs}
        todo = [c for c in unique.values() if not self.is_done(c)]
        records: Dict[str, Dict[str, Any]] = {}
        if self.data_cache is not None:  # build each cache entry once, before the workers read it
            for config in {cache_key(c): c for c in todo}.values():
                cached_tokenize(config, self.data_cache)
        bar = tqdm(total=len(unique), initial=len(unique) - len(todo), desc=description, unit="run", disable=not self.progress)
        self.runs_started += len(todo)
        cache = str(self.data_cache) if self.data_cache else None
        if self.workers == 1 or len(todo) <= 1:
            torch.set_num_threads(self.threads_per_worker)
            for config in todo:
                records[point_key(config)] = run_point(config, self.root, self.data_cache)
                bar.update(1)
        else:
            pool = self._workers()
            futures = {pool.submit(_run_in_worker, c.model_dump(mode="json"), str(self.root), cache): point_key(c) for c in todo}
            try:
                for future in as_completed(futures):
                    records[futures[future]] = future.result()
                    bar.update(1)
            except BaseException:
                self.close()
                raise
        bar.close()
        for key, config in unique.items():
            if key not in records:
                records[key] = run_point(config, self.root, self.data_cache)  # stored earlier: read back
        return [records[point_key(c)] for c in configs]


# ----- coordinate descent -----


class Axis(BaseModel):
    """One hyperparameter's grid: explicit ordered `values`, or a geometric ladder (`factor`) around the start."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(description="dotted config key, e.g. optimizer.lr or optimizer.options.momentum")
    values: Optional[List[Any]] = Field(None, description="the grid, in order; neighbours are adjacent entries")
    factor: Optional[float] = Field(None, gt=1, description="neighbours are value * factor and value / factor")
    minimum: Optional[float] = Field(None, description="ladder: smallest allowed value")
    maximum: Optional[float] = Field(None, description="ladder: largest allowed value")

    @model_validator(mode="after")
    def _one_kind(self) -> "Axis":
        if (self.values is None) == (self.factor is None):
            raise ValueError(f"axis {self.key}: give either values or factor")
        if self.values is not None and not self.values:
            raise ValueError(f"axis {self.key}: values is empty")
        return self

    def neighbours(self, value: Any) -> List[Tuple[int, Any]]:
        """(direction, value) of the grid neighbours of `value` (direction -1 below, +1 above)."""
        if self.factor is not None:
            found = [(-1, float(f"{value / self.factor:.6g}")), (1, float(f"{value * self.factor:.6g}"))]
            return [(d, v) for d, v in found if (self.minimum is None or v >= self.minimum) and (self.maximum is None or v <= self.maximum)]
        grid = list(self.values)
        if value not in grid:
            raise ValueError(f"axis {self.key}: the start value {value!r} is not on the grid {grid}")
        index = grid.index(value)
        return [(d, grid[index + d]) for d in (-1, 1) if 0 <= index + d < len(grid)]

    def step(self, value: Any, direction: int) -> Optional[Any]:
        return next((v for d, v in self.neighbours(value) if d == direction), None)


Point = Dict[str, Any]  # dotted key -> value
Search = Generator[List[Point], List[float], Dict[str, Any]]


def _frozen(point: Point) -> str:
    return json.dumps(point, sort_keys=True)


def coordinate_descent(start: Point, axes: Sequence[Axis], max_cycles: int = 10) -> Search:
    """Yields lists of points, receives their losses; returns {"best": point, "loss": float, "path": [...],
    "evaluated": n}. The path lists every move (axis, from, to, loss)."""
    missing = [axis.key for axis in axes if axis.key not in start]
    if missing:
        raise ValueError(f"coordinate descent: the start point has no value for {missing}")
    seen: Dict[str, float] = {}

    def evaluate(points: List[Point]):
        new = [p for p in points if _frozen(p) not in seen]
        if new:
            losses = yield new
            for point, loss in zip(new, losses):
                seen[_frozen(point)] = loss if loss is not None and math.isfinite(loss) else math.inf
        return [seen[_frozen(p)] for p in points]

    current = dict(start)
    (best,) = yield from evaluate([current])
    path = [{"axis": None, "from": None, "to": None, "loss": best, "point": dict(current)}]
    for _ in range(max_cycles):
        moved = False
        for axis in axes:
            neighbours = axis.neighbours(current[axis.key])
            candidates = [{**current, axis.key: value} for _, value in neighbours]
            losses = yield from evaluate(candidates)
            if not candidates or min(losses) >= best:
                continue
            index = min(range(len(losses)), key=losses.__getitem__)
            direction = neighbours[index][0]
            while True:  # keep going the winning way along this axis while the loss falls
                path.append({"axis": axis.key, "from": current[axis.key], "to": candidates[index][axis.key], "loss": losses[index], "point": dict(candidates[index])})
                current, best, moved = candidates[index], losses[index], True
                further = axis.step(current[axis.key], direction)
                if further is None:
                    break
                candidates, index = [{**current, axis.key: further}], 0
                losses = yield from evaluate(candidates)
                if losses[0] >= best:
                    break
        if not moved:
            break
    return {"best": current, "loss": best, "path": path, "evaluated": len(seen)}


def run_searches(searches: Mapping[str, Search], evaluate: Callable[[List[Point], List[str]], List[float]]) -> Dict[str, Dict[str, Any]]:
    """Advance every search in lockstep; each round's requests go to `evaluate(points, search_names)` at once."""
    results: Dict[str, Dict[str, Any]] = {}
    pending: Dict[str, List[Point]] = {}
    for name, search in searches.items():
        try:
            pending[name] = next(search)
        except StopIteration as stop:
            results[name] = stop.value
    while pending:
        names = [name for name, points in pending.items() for _ in points]
        losses = evaluate([point for points in pending.values() for point in points], names)
        offset, advanced = 0, {}
        for name, points in pending.items():
            share, offset = losses[offset : offset + len(points)], offset + len(points)
            try:
                advanced[name] = searches[name].send(share)
            except StopIteration as stop:
                results[name] = stop.value
        pending = advanced
    return results


def check_key(model: type, dotted_key: str) -> None:
    """Raise ValueError for a dotted key that names no config field, listing the valid names at that level."""
    node, path = model, []
    for part in dotted_key.split("."):
        fields = getattr(node, "model_fields", None)
        if fields is None:  # a free-form mapping (optimizer.options): its builder checks the names
            return
        if part not in fields:
            where = ".".join(path) or "the config"
            raise ValueError(f"unknown hyperparameter {dotted_key!r}: {where} has no {part!r}; valid: {', '.join(sorted(fields))}")
        path.append(part)
        node = fields[part].annotation


def apply_point(base: PretrainConfig, point: Point, **fixed: Any) -> PretrainConfig:
    """`base` with the point's dotted keys (and `fixed` ones) set; out-of-range values raise ValueError."""
    for key in point:
        check_key(type(base), key)
    try:
        return with_overrides(base, {**point, **fixed})
    except ValueError as error:
        raise ValueError(f"point {point}: {error}") from None
