"""Executing an MLE task run inside helm-run: the agent on every task of the scenario (HAL's harness, one
sandbox per task), its submissions scored by the tasks' metrics in the sandbox.

Per request state the completion is the submission CSV (cut for the run page) and the `mle` annotation holds the
scores (valid, raw, normalised between the constant baseline and the gradient-boosting reference), the reference
scores, the agent's failure if any, wall time, steps and model usage. Work files go to
`<helm-run output path>/mle_smith/runs/<pool>/<agent>/<model>/` (`results.jsonl` is the harness's checkpoint:
rerunning the same entry continues a partial run).
"""

import dataclasses
import json
import re
from pathlib import Path

from helm.benchmark.adaptation.scenario_state import ScenarioState
from helm.common.hierarchical_logger import hlog
from helm.common.request import GeneratedOutput, RequestResult

from helm_plugins.agents.mle_smith.adapter_spec import MLEAdapterSpec
from helm_plugins.agents.mle_smith.harness import run_pool
from helm_plugins.common import mle_tasks

MAX_COMPLETION_CHARS = 2000


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", name)[:80]


def execute_mle_run(executor, scenario_state: ScenarioState) -> ScenarioState:
    spec: MLEAdapterSpec = scenario_state.adapter_spec
    states = scenario_state.request_states
    if not states:
        return scenario_state
    extra = states[0].instance.extra_data
    tasks = [mle_tasks.load_task(Path(s.instance.extra_data["mle_task_root"])) for s in states]
    models = None
    if not spec.model_deployment.startswith("simulated/"):
        from helm_plugins.agents.hal.executor import HELMModels

        models = HELMModels(executor.context.make_request, spec.model_deployment,
                            getattr(executor.context, "tokenize", None))
    kwargs = json.loads(spec.mle_agent_kwargs)
    kwargs.setdefault("model", spec.model_deployment)
    work_root = (Path(extra["mle_output_root"]) / "mle_smith" / "runs" / _safe(extra["mle_pool_key"])
                 / _safe(spec.mle_agent) / _safe(spec.model_deployment))
    records = run_pool(tasks, spec.mle_agent, kwargs, work_root, models, spec.mle_timeout_s, spec.mle_memory_mb,
                       spec.mle_sandbox, spec.mle_max_concurrent)
    hlog(f"MLE {extra['mle_pool_key']} / {spec.mle_agent} / {spec.model_deployment}: {len(tasks)} tasks, "
         f"{sum(r['valid'] for r in records.values())} valid submissions")
    new_states = []
    for state, task in zip(states, tasks):
        record = records[task.name]
        submission = work_root / "submissions" / task.name / "submission.csv"
        text = submission.read_text()[:MAX_COMPLETION_CHARS] if submission.is_file() else ""
        new_states.append(dataclasses.replace(
            state,
            result=RequestResult(success=True, embedding=[], cached=False, request_time=record["wall_s"],
                                 completions=[GeneratedOutput(text=text, logprob=0.0, tokens=[])]),
            annotations={**(state.annotations or {}), "mle": record},
        ))
    return ScenarioState(adapter_spec=spec, request_states=new_states, annotator_specs=scenario_state.annotator_specs)
