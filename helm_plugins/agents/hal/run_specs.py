"""Run specs of HAL (arXiv 2510.11977): an agent on an agent benchmark, with cost, trace flags and a sandbox.

    helm-run --run-entries 'hp_hal:benchmark=airline,agent=oracle,model=simulated/scripted' --suite S -m 30
    helm-run --run-entries 'hp_hal:benchmark=fileqa,agent=react,reasoning_effort=high,model=openai/gpt-4.1-2025-04-14' ...
    helm-plugins hal-report --suite S

Benchmarks: airline, fileqa, usaco (offline, seeded) and usaco_released (the released USACO problems, from
`data_path`). `model` is the HELM deployment the agent's model calls go to (the react agent), or a simulated model whose price
the scripted agents' declared usage is charged at. Agent keyword arguments (HAL's -A k=v): reasoning_effort, skill,
max_steps, tokens_per_step; a user agent is `agent=<folder>:<module>.<function>` with its own kwargs as `agent_args`
(k1:v1;k2:v2). `judge` adds the rubric judge over flagged traces (any deployment).
"""

import json
from typing import Annotated, Optional

from helm.benchmark.annotation.annotator import AnnotatorSpec
from helm.benchmark.metrics.metric import MetricSpec
from helm.benchmark.run_spec import RunSpec
from helm.benchmark.scenarios.scenario import ScenarioSpec
from pydantic import Field

from helm_plugins.agents.hal.adapter_spec import AgentAdapterSpec, register_hal
from helm_plugins.agents.hal.benchmarks import BENCHMARKS
from helm_plugins.agents.hal.harness import AgentSpec
from helm_plugins.common.run_entries import plugin_run_spec_function

MODULE = "helm_plugins.agents.hal"
SANDBOXES = ("auto", "bwrap", "unshare", "none")

register_hal()


def parse_agent_args(text: str) -> dict:
    """`k1:v1;k2:v2` (run entries split at commas and equals signs); values read as JSON where they parse."""
    kwargs = {}
    for part in filter(None, text.split(";")):
        key, sep, value = part.partition(":")
        if not sep or not key.strip():
            raise ValueError(f"agent_args {text!r}: expected key:value pairs separated by ';'")
        try:
            kwargs[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            kwargs[key.strip()] = value
    return kwargs


def agent_label(agent: str, reasoning_effort: str, skill: Optional[float]) -> str:
    """The leaderboard row label beside the model (HELM's tables show the adapter spec's instructions)."""
    label = f"agent={agent.split(':')[-1]}"
    label += f" effort={reasoning_effort}" if reasoning_effort else ""
    return label + (f" skill={skill}" if skill is not None else "")


@plugin_run_spec_function("hp_hal")
def get_hal_spec(
    benchmark: str,
    agent: str = "oracle",
    num_tasks: Annotated[int, Field(gt=0)] = 30,
    seed: int = 0,
    data_path: str = "",
    reasoning_effort: str = "",
    skill: Optional[Annotated[float, Field(ge=0, le=1)]] = None,
    max_steps: Annotated[int, Field(gt=0)] = 12,
    tokens_per_step: Annotated[int, Field(ge=0)] = 200,
    agent_args: str = "",
    timeout: Annotated[float, Field(gt=0)] = 120.0,
    memory_mb: Annotated[int, Field(ge=64)] = 1024,
    sandbox: str = "auto",
    max_concurrent: Annotated[int, Field(gt=0)] = 4,
    backend: str = "local",
    price_file: str = "",
    allow_unknown_cost: bool = False,
    judge: str = "",
    judge_all: bool = False,
) -> RunSpec:
    BENCHMARKS.get(benchmark)  # an unknown name fails here, listing the known ones
    AgentSpec.parse(agent)
    if sandbox not in SANDBOXES:
        raise ValueError(f"sandbox={sandbox!r}: choose one of {', '.join(SANDBOXES)}")
    if backend not in ("local", "ray"):
        raise ValueError(f"backend={backend!r}: choose local or ray")
    kwargs = {"seed": seed, "max_steps": max_steps, "tokens_per_step": tokens_per_step, **parse_agent_args(agent_args)}
    if reasoning_effort:
        kwargs["reasoning_effort"] = reasoning_effort
    if skill is not None:
        kwargs["skill"] = skill
    settings = f"benchmark={benchmark},agent={agent.replace('/', '_').replace(':', '_')}"
    settings += f",reasoning_effort={reasoning_effort}" if reasoning_effort else ""
    settings += f",skill={skill}" if skill is not None else ""
    settings += f",seed={seed}" if seed else ""
    settings += f",judge={judge.replace('/', '_')}" if judge else ""
    adapter_spec = AgentAdapterSpec(
        method="generation", instructions=agent_label(agent, reasoning_effort, skill), input_prefix="", output_prefix="", max_train_instances=0,
        num_outputs=1, temperature=0.0, max_eval_instances=num_tasks,
        max_tokens=1,  # the rendered prompt is only shown on the run page; a small model's window must hold it
        hal_benchmark=benchmark, hal_agent=agent, hal_agent_kwargs=json.dumps(kwargs, sort_keys=True),
        hal_timeout_s=timeout, hal_memory_mb=memory_mb, hal_sandbox=sandbox, hal_max_concurrent=max_concurrent,
        hal_backend=backend, hal_price_file=price_file, hal_allow_unknown_cost=allow_unknown_cost,
    )
    annotators = []
    if judge:
        annotators.append(AnnotatorSpec(class_name=f"{MODULE}.annotators.TraceRubricAnnotator",
                                        args={"judge": judge, "judge_all": judge_all, "seed": seed}))
    return RunSpec(
        name=f"hp_hal:{settings}",
        scenario_spec=ScenarioSpec(class_name=f"{MODULE}.scenarios.HALScenario",
                                   args={"benchmark": benchmark, "num_tasks": num_tasks, "seed": seed,
                                         "data_path": data_path}),
        adapter_spec=adapter_spec,
        metric_specs=[MetricSpec(class_name=f"{MODULE}.metrics.HALMetric", args={})],
        annotators=annotators,
        groups=[f"hp_hal_{benchmark}"],
    )
