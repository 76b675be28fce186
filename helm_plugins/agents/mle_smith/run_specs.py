"""Run specs of MLE-Smith (arXiv 2510.07307): an agent on a pool of ML-engineering tasks in MLE-Dojo's format.

    helm-run --run-entries 'hp_mle_task:pool=human,agent=knn,model=simulated/scripted' --suite S
    helm-run --run-entries 'hp_mle_task:pool=/path/to/generated,agent=coder,model=openai/gpt-4.1-2025-04-14' ...
    helm-plugins mle-report --suite S        # Elo per pool and the agreement between pools

pool: human (the shipped hand-designed pool), smith_demo / smith_full (generated offline from bundled and synthetic
data on first use), or a folder of tasks (e.g. written by `helm-plugins mle-smith`). agent: sample, constant,
onefeat, linear, knn, ensemble (scripted, no model: use model=simulated/scripted), coder (a model writes and
debugs the solution program: any HELM deployment), or <folder>:<module>.<function>. pool_label groups the runs
(default: human for the shipped pool, generated otherwise).
"""

import hashlib
import json
from pathlib import Path
from typing import Annotated, Optional

from helm.benchmark.metrics.metric import MetricSpec
from helm.benchmark.run_spec import RunSpec
from helm.benchmark.scenarios.scenario import ScenarioSpec
from pydantic import Field

from helm_plugins.agents.mle_smith.adapter_spec import MLEAdapterSpec, register_mle
from helm_plugins.common.run_entries import plugin_run_spec_function

MODULE = "helm_plugins.agents.mle_smith"
SHIPPED_AGENTS = ("sample", "constant", "onefeat", "linear", "knn", "ensemble", "coder")
SANDBOXES = ("auto", "bwrap", "unshare", "none")

register_mle()


@plugin_run_spec_function("hp_mle_task")
def get_mle_task_spec(
    pool: str = "human",
    agent: str = "linear",
    num_tasks: Optional[Annotated[int, Field(gt=0)]] = None,
    pool_label: str = "",
    skill: Optional[Annotated[float, Field(ge=0, le=1)]] = None,
    seed: int = 0,
    max_steps: Annotated[int, Field(gt=0)] = 3,
    timeout: Annotated[float, Field(gt=0)] = 300.0,
    memory_mb: Annotated[int, Field(ge=256)] = 2048,
    sandbox: str = "auto",
    max_concurrent: Annotated[int, Field(gt=0)] = 2,
) -> RunSpec:
    if agent not in SHIPPED_AGENTS and ":" not in agent:
        raise ValueError(f"agent={agent!r}: use one of {', '.join(SHIPPED_AGENTS)} or <folder>:<module>.<function>")
    if sandbox not in SANDBOXES:
        raise ValueError(f"sandbox={sandbox!r}: choose one of {', '.join(SANDBOXES)}")
    label = pool_label or ("human" if pool == "human" else "generated")
    if label not in ("human", "generated"):
        raise ValueError(f"pool_label={pool_label!r}: choose human or generated")
    kwargs = {"seed": seed, "max_steps": max_steps}
    if skill is not None:
        kwargs["skill"] = skill
    pool_name = pool
    if pool not in ("human", "smith_demo", "smith_full"):  # a folder: its name and a hash of its absolute path
        folder = Path(pool).resolve()
        if not folder.is_dir():
            raise ValueError(f"pool={pool!r}: use human, smith_demo, smith_full or a folder of tasks (no folder {folder})")
        pool_name = f"{folder.name}-{hashlib.sha256(str(folder).encode()).hexdigest()[:8]}"
    settings = f"pool={pool_name},agent={agent.replace('/', '_').replace(':', '_')}"
    settings += f",skill={skill}" if skill is not None else ""
    settings += f",seed={seed}" if seed else ""
    adapter_spec = MLEAdapterSpec(
        method="generation", instructions=f"agent={agent.split(':')[-1]}" + (f" skill={skill}" if skill is not None else ""),
        input_prefix="", output_prefix="", max_train_instances=0, num_outputs=1, temperature=0.0,
        max_eval_instances=num_tasks, max_tokens=1,
        mle_agent=agent, mle_agent_kwargs=json.dumps(kwargs, sort_keys=True), mle_timeout_s=timeout,
        mle_memory_mb=memory_mb, mle_sandbox=sandbox, mle_max_concurrent=max_concurrent,
    )
    return RunSpec(
        name=f"hp_mle_task:{settings}",
        scenario_spec=ScenarioSpec(class_name=f"{MODULE}.scenarios.MLETaskScenario",
                                   args={"pool": pool, "num_tasks": num_tasks}),
        adapter_spec=adapter_spec,
        metric_specs=[MetricSpec(class_name=f"{MODULE}.metrics.MLESubmissionMetric", args={})],
        groups=[f"hp_mle_task_{label}"],
    )
