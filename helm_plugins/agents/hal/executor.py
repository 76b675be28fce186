"""Executing a HAL run inside helm-run: the harness over the scenario's tasks, model calls through HELM.

HELM's adapter has rendered one request state per task; `execute_agent_run` (registered for `AgentAdapterSpec`)
runs the agent on all tasks with the harness and writes, per request state, the agent's answer as the completion
and the `hal` annotation: score, usage per model, cost, steps, wall time, error, flags with evidence. Model calls
of the agent go through `executor.context.make_request` (the deployment's client, HELM's cache and retries) and
are counted with the deployment's HELM tokenizer (an estimate of 4 characters per token, flagged, when it has none).

Work files go to `<helm-run output path>/hal_runs/<benchmark>/<agent>/<model>/`: `results.jsonl` (the checkpoint:
rerunning the same entry continues a partial run), `traces/<task>.jsonl` and the task directories.
"""

import dataclasses
import json
import re
import threading
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from helm.benchmark.adaptation.scenario_state import ScenarioState
from helm.benchmark.model_deployment_registry import get_model_deployment
from helm.benchmark.model_metadata_registry import CHATML_MODEL_TAG, INSTRUCTION_FOLLOWING_MODEL_TAG, get_model_metadata
from helm.common.cache_backend_config import BlackHoleCacheBackendConfig
from helm.common.hierarchical_logger import hlog
from helm.common.request import GeneratedOutput, Request, RequestResult
from helm.common.tokenization_request import TokenizationRequest

from helm_plugins.agents.hal.adapter_spec import SIMULATED_MODELS, AgentAdapterSpec
from helm_plugins.agents.hal.benchmarks import task_from_json
from helm_plugins.agents.hal.cost import PriceTable, Usage, UnknownPriceError, run_cost
from helm_plugins.agents.hal.flags import final_flags, prefilter, read_trace
from helm_plugins.agents.hal.harness import AgentSpec, HarnessConfig, Models, NoModels, TaskResult, make_backend, run_tasks
from helm_plugins.common.sandbox import SandboxLimits


def flatten(messages: List[Dict[str, str]]) -> str:
    return "\n\n".join(m.get("content", "") if m.get("role") == "user" else f"{m.get('role', '').capitalize()}: {m.get('content', '')}"
                       for m in messages) + "\n\nAssistant:"


class HELMModels(Models):
    """Model calls of agents as HELM requests on one deployment (or another the agent names)."""

    def __init__(self, make_request: Callable[[Request], RequestResult], deployment: str,
                 tokenize: Optional[Callable[[TokenizationRequest], Any]] = None):
        self.make_request, self.deployment, self.tokenize = make_request, deployment, tokenize
        self.lock = threading.Lock()

    def count(self, deployment: str, text: str):
        tokenizer = get_model_deployment(deployment).tokenizer_name
        if tokenizer and self.tokenize is not None:
            try:
                return len(self.tokenize(TokenizationRequest(text=text, tokenizer=tokenizer)).tokens), False
            except Exception:  # a tokenizer that cannot load: estimate, and say so
                pass
        return max(1, (len(text) + 3) // 4), True

    def fit(self, deployment: str, prompt: str, max_tokens: int):
        """A base model's prompt cut from the left (the latest steps are kept) to fit the deployment's window with
        room for the reply (a quarter of the window at most)."""
        window = get_model_deployment(deployment).max_sequence_length
        if not window:
            return prompt, max_tokens
        max_tokens = min(max_tokens, window // 4)
        while len(prompt) > 16 and self.count(deployment, prompt)[0] > window - max_tokens:
            prompt = "[…]" + prompt[len(prompt) // 8:]
        return prompt, max_tokens

    def complete(self, payload: Dict[str, Any]) -> Dict[str, Any]:
        deployment = payload.get("model") or self.deployment
        try:
            model = get_model_deployment(deployment).model_name or deployment
        except ValueError as error:
            return {"error": f"model {deployment!r}: {error}"}
        messages = [{"role": str(m.get("role", "user")), "content": str(m.get("content", ""))}
                    for m in payload.get("messages") or [] if isinstance(m, dict)]
        if not messages:
            return {"error": "a model call needs messages: [{role, content}, ...]"}
        chat = _uses_chat(model)
        common = dict(model=model, model_deployment=deployment, temperature=float(payload.get("temperature") or 0.0),
                      max_tokens=int(payload.get("max_tokens") or 512), num_completions=1,
                      stop_sequences=[str(s) for s in payload.get("stop") or []])
        if chat:
            request = Request(messages=messages, **common)
        else:
            prompt, common["max_tokens"] = self.fit(deployment, flatten(messages), common["max_tokens"])
            request = Request(prompt=prompt, **common)
        result = self.make_request(request)
        if not result.success or not result.completions:
            return {"error": (result.error or "no completion")[:500], "model": model}
        text = result.completions[0].text
        prompt_text = request.prompt or "\n".join(m["content"] for m in messages)
        prompt_tokens, estimated_prompt = self.count(deployment, prompt_text)
        completion_tokens = len(result.completions[0].tokens) or None
        estimated_completion = False
        if completion_tokens is None:
            completion_tokens, estimated_completion = self.count(deployment, text) if text else (0, False)
        return {"text": text, "model": model, "prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                "cached": bool(result.cached), "estimated": estimated_prompt or estimated_completion}


class WorkerHELMModels(Models):
    """HELMModels built inside a Ray worker from the run's local path (credentials, prod_env deployments) and cache
    configuration, so that model calls made on other machines still go through HELM's clients, cache and retries."""

    def __init__(self, local_path: str, cache_backend_config, deployment: str):
        self.local_path, self.cache_backend_config, self.deployment = local_path, cache_backend_config, deployment
        self._inner: Optional[HELMModels] = None
        self._lock = threading.Lock()

    def __getstate__(self):
        return {"local_path": self.local_path, "cache_backend_config": self.cache_backend_config,
                "deployment": self.deployment}

    def __setstate__(self, state):
        self.__init__(state["local_path"], state["cache_backend_config"], state["deployment"])

    def complete(self, payload: Dict[str, Any]) -> Dict[str, Any]:
        with self._lock:
            if self._inner is None:
                import helm_plugins.plugin  # noqa: F401  (the package's deployments)
                from helm.benchmark.config_registry import register_configs_from_directory
                from helm.common.local_context import LocalContext

                register_configs_from_directory(self.local_path)
                context = LocalContext(self.local_path, self.cache_backend_config)
                self._inner = HELMModels(context.make_request, self.deployment, context.tokenize)
        return self._inner.complete(payload)


def _uses_chat(model: str) -> bool:
    try:
        tags = get_model_metadata(model).tags
    except ValueError:
        return True
    return INSTRUCTION_FOLLOWING_MODEL_TAG in tags or CHATML_MODEL_TAG in tags


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", name)[:80]


def harness_config(spec: AgentAdapterSpec) -> HarnessConfig:
    kwargs = json.loads(spec.hal_agent_kwargs)
    kwargs.setdefault("model", spec.model_deployment)
    return HarnessConfig(
        benchmark=spec.hal_benchmark, agent=AgentSpec.parse(spec.hal_agent), agent_kwargs=kwargs,
        limits=SandboxLimits(timeout_s=spec.hal_timeout_s, memory_mb=spec.hal_memory_mb),
        sandbox=spec.hal_sandbox, max_attempts=spec.hal_max_attempts, max_concurrent=spec.hal_max_concurrent,
    )


def task_annotation(result: TaskResult, prices: PriceTable, allow_unknown: bool, trace_path: Path) -> Dict[str, Any]:
    usage = {m: Usage(**u) for m, u in result.usage.items()}
    cost = run_cost(usage, prices, allow_unknown)
    events = read_trace(trace_path)
    hits = prefilter(events, result.to_json())
    return {**result.to_json(), "cost_usd": cost.cost_usd, "unpriced_models": cost.unpriced_models,
            "prefilter": hits, "flags": final_flags(hits), "trace_path": str(trace_path)}


def execute_agent_run(executor, scenario_state: ScenarioState) -> ScenarioState:
    spec: AgentAdapterSpec = scenario_state.adapter_spec
    states = scenario_state.request_states
    if not states:
        return scenario_state
    prices = PriceTable.load(spec.hal_price_file or None)
    config = harness_config(spec)
    priced_model = spec.model
    if prices.price(priced_model) is None and not spec.hal_allow_unknown_cost:  # fail before spending anything
        run_cost({priced_model: Usage(1, 1, 1)}, prices, allow_unknown=False)
    if spec.model_deployment in SIMULATED_MODELS:
        models: Models = NoModels()
    elif spec.hal_backend == "ray":
        execution = executor.execution_spec
        cache = execution.sqlite_cache_backend_config or execution.mongo_cache_backend_config or BlackHoleCacheBackendConfig()
        models = WorkerHELMModels(execution.local_path, cache, spec.model_deployment)
    else:
        models = HELMModels(executor.context.make_request, spec.model_deployment, getattr(executor.context, "tokenize", None))
    output_root = Path(states[0].instance.extra_data["hal_output_root"])
    work_root = output_root / "hal_runs" / spec.hal_benchmark / _safe(config.agent.name) / _safe(spec.model_deployment)
    tasks = [task_from_json(s.instance.extra_data["hal_task"]) for s in states]
    backend = make_backend(spec.hal_backend, spec.hal_max_concurrent)
    outcome = run_tasks(tasks, config, work_root, models, backend=backend, resume=True)
    hlog(f"HAL {spec.hal_benchmark} / {config.agent.name} / {spec.model_deployment}: {len(tasks)} tasks "
         f"({outcome.resumed} resumed from {work_root / 'results.jsonl'})")
    new_states = []
    for state in states:
        result = outcome.results[state.instance.id]
        try:
            annotation = task_annotation(result, prices, spec.hal_allow_unknown_cost,
                                         work_root / "traces" / f"{result.task_id}.jsonl")
        except UnknownPriceError as error:
            raise UnknownPriceError(f"{spec.hal_benchmark}/{config.agent.name}: {error}") from None
        answer = result.answer if isinstance(result.answer, str) else json.dumps(result.answer)
        new_states.append(dataclasses.replace(
            state,
            result=RequestResult(success=True, embedding=[], cached=False, request_time=result.wall_s,
                                 completions=[GeneratedOutput(text=answer or "", logprob=0.0, tokens=[])]),
            annotations={**(state.annotations or {}), "hal": annotation},
        ))
    return ScenarioState(adapter_spec=spec, request_states=new_states, annotator_specs=scenario_state.annotator_specs)
