"""Task pools: the hand-designed pool shipped with the package, a folder of tasks (e.g. written by the generator),
or the offline generation preset. Pools are prepared once per output folder: each task is copied, its prepare.py
run in the sandbox, and its reference scores (constant baseline and gradient-boosting reference) computed, under a
lock, into `<output>/mle_smith/prepared/<pool>/<task>/`.

    pool=human          helm_plugins/common/mle_task_pool (hand-designed)
    pool=smith_demo     tasks generated offline (template mode) from bundled and synthetic data (the demo)
    pool=/path/to/T     every task folder under T (e.g. `helm-plugins mle-smith --out T`)
"""

import hashlib
import json
import re
import shutil
from pathlib import Path
from typing import List, Optional

from helm_plugins.common import mle_tasks
from helm_plugins.common.folder_lock import FolderLock

GENERATED_PRESETS = {  # name -> (raw sources, tasks per source)
    "smith_demo": (["sklearn:load_wine", "synthetic:churn?seed=5", "synthetic:housing?seed=9"], 1),
    "smith_full": (["sklearn:load_wine", "sklearn:load_breast_cancer", "sklearn:load_digits", "sklearn:load_diabetes",
                    "synthetic:churn?seed=5", "synthetic:housing?seed=9", "synthetic:reviews?seed=2"], 2),
}


def pool_key(pool: str) -> str:
    if pool == "human" or pool in GENERATED_PRESETS:
        return pool
    path = Path(pool).resolve()
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", path.name)[:40] + "-" + hashlib.sha256(str(path).encode()).hexdigest()[:8]


def source_folder(pool: str, output_root: Path) -> Path:
    """The folder holding the pool's task definitions (generating the preset pools first if needed)."""
    if pool == "human":
        return mle_tasks.HUMAN_POOL
    if pool in GENERATED_PRESETS:
        folder = Path(output_root) / "mle_smith" / "generated" / pool
        done = folder / "generation.json"
        if not done.is_file():
            from helm_plugins.agents.mle_smith.generator import GeneratorConfig, generate_pool

            sources, per_source = GENERATED_PRESETS[pool]
            folder.mkdir(parents=True, exist_ok=True)
            with FolderLock(folder):
                if not done.is_file():
                    generate_pool(sources, folder, GeneratorConfig(max_tasks_per_source=per_source))
        return folder
    folder = Path(pool)
    if not folder.is_dir():
        raise ValueError(f"pool={pool!r}: use human, {', '.join(GENERATED_PRESETS)}, or a folder of tasks")
    return folder


def prepared_pool(pool: str, output_root: Path, num_tasks: Optional[int] = None,
                  sandbox=None) -> List[mle_tasks.MLETask]:
    """The pool's tasks (the first `num_tasks` by name), prepared with reference scores, in the output folder."""
    source = source_folder(pool, output_root)
    tasks = mle_tasks.load_tasks(source)
    if num_tasks is not None:
        tasks = tasks[:num_tasks]
    root = Path(output_root) / "mle_smith" / "prepared" / pool_key(pool)
    root.mkdir(parents=True, exist_ok=True)
    prepared = []
    with FolderLock(root):
        for task in tasks:
            target = root / task.name
            stamp = target / "private" / "prepared_from.json"
            digest = task_digest(task)
            if not (stamp.is_file() and json.loads(stamp.read_text()).get("digest") == digest):
                shutil.rmtree(target, ignore_errors=True)
                if _verified_copy(task, digest):  # a generator's output: prepared and scored by its own gates
                    mle_tasks.copy_task(task, target, include_prepared=True)
                else:
                    work = mle_tasks.copy_task(task, target, include_prepared=False)
                    result = mle_tasks.prepare_task(work, sandbox)
                    if not result.ok:
                        raise RuntimeError(f"pool {pool}: task {task.name}: {result.reason}")
                    mle_tasks.reference_scores(work, sandbox)
                stamp.write_text(json.dumps({"digest": digest, "source": str(task.root)}))
            prepared.append(mle_tasks.load_task(target))
    return prepared


def task_digest(task: mle_tasks.MLETask) -> str:
    """Hash of the task's definition (info, utils, raw), not of its prepared files."""
    h = hashlib.sha256()
    for path in sorted(p for p in task.root.rglob("*") if p.is_file()
                       and p.relative_to(task.root).parts[0] not in ("public", "private")):
        h.update(str(path.relative_to(task.root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def _verified_copy(task: mle_tasks.MLETask, digest: str) -> bool:
    """Is the source prepared by the generator from this very definition, with its reference scores?"""
    stamp = task.private_dir / "prepared_from.json"
    return (task.prepared and (task.private_dir / "reference_scores.json").is_file() and stamp.is_file()
            and json.loads(stamp.read_text()).get("digest") == digest)
