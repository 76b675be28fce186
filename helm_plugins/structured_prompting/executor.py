"""Running a DSPy program per instance inside helm-run, every LM call through HELM's request context.

A structured-prompting run spec carries a `DSPyAdapterSpec` (adapter_spec.py): HELM's adapter for the benchmark
renders each instance's prompt as usual (it becomes the program's `inputs`), then HELM's Executor, patched once at
plugin load, hands the scenario state to `DSPyExecution`, which runs the method's DSPy program on each request
state in HELM's `-n` threads, with a `HELMLM` whose requests go through `Executor.context.make_request` — the same
client, cache and retries as HELM's own requests.

Per instance the result's completion is the strictly extracted answer written as HELM's metric reads it (empty
when the output cannot be read: scored wrong), `thinking` holds the program's reasoning, and the
`structured_prompting` annotation records the raw output, parse and request failures, LM calls and tokens.
Optimised programs are loaded, or produced on demand from the scenario's non-evaluation split (see
`optimise_for_run`).
"""

import dataclasses
import json
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import dspy
from helm.benchmark.adaptation.adapter_spec import AdapterSpec
from helm.benchmark.adaptation.adapters.adapter_factory import AdapterFactory
from helm.benchmark.adaptation.request_state import RequestState
from helm.benchmark.adaptation.scenario_state import ScenarioState
from helm.benchmark.executor import Executor
from helm.benchmark.metrics.metric import MetricSpec
from helm.benchmark.model_deployment_registry import get_model_deployment
from helm.benchmark.model_metadata_registry import (
    CHATML_MODEL_TAG,
    INSTRUCTION_FOLLOWING_MODEL_TAG,
    get_model_metadata,
)
from helm.benchmark.runner import get_benchmark_output_path
from helm.benchmark.scenarios.scenario import (
    EVAL_SPLITS,
    VALID_SPLIT,
    Instance,
    ScenarioSpec,
    create_scenario,
    get_scenario_cache_path,
)
from helm.benchmark.window_services.tokenizer_service import TokenizerService
from helm.common.general import parallel_map
from helm.common.hierarchical_logger import hlog, hwarn
from helm.common.request import GeneratedOutput, RequestResult, Thinking
from helm.common.tokenization_request import TokenizationRequest

from helm_plugins.common.prices import litellm_cost
from helm_plugins.structured_prompting.benchmarks import LeakageError, check_disjoint, get_benchmark, split_optimisation
from helm_plugins.structured_prompting.lm import CallLog, HELMLM, LMRequestFailed
from helm_plugins.structured_prompting.adapter_spec import DSPyAdapterSpec, OptimiserBudget
from helm_plugins.structured_prompting.optimize import CallProgress, optimise
from helm_plugins.structured_prompting.programs import (
    OPTIMISERS,
    HELMMetric,
    ProgramError,
    build_program,
    load_program,
    program_path,
    program_summary,
    save_program,
)

ANNOTATION = "structured_prompting"


def token_counter(context, model_deployment: str) -> Callable[[str], Optional[int]]:
    """Count tokens with the deployment's HELM tokenizer; None when the deployment names none."""
    tokenizer = get_model_deployment(model_deployment).tokenizer_name
    if not tokenizer:
        return lambda text: None

    def count(text: str) -> Optional[int]:
        try:
            return len(context.tokenize(TokenizationRequest(text=text, tokenizer=tokenizer)).tokens)
        except Exception:  # a tokenizer that cannot load offline: tokens unknown, never a failed run
            return None

    return count


def price(model: str) -> Callable[[Optional[int], Optional[int]], Optional[float]]:
    """Dollars of a call by LiteLLM's price table (offline copy); None when the model has no known price."""

    def cost(prompt_tokens: Optional[int], completion_tokens: Optional[int]) -> Optional[float]:
        return litellm_cost(model, prompt_tokens, completion_tokens)

    return cost


def uses_chat(model: str) -> bool:
    """Send chat messages to instruction-following models, a flattened prompt to base models."""
    try:
        tags = get_model_metadata(model).tags
    except ValueError:
        return True
    return INSTRUCTION_FOLLOWING_MODEL_TAG in tags or CHATML_MODEL_TAG in tags


def make_lm(context, adapter_spec: AdapterSpec, deployment: Optional[str] = None) -> HELMLM:
    deployment = deployment or adapter_spec.model_deployment
    model = get_model_deployment(deployment).model_name if deployment != adapter_spec.model_deployment else adapter_spec.model
    return HELMLM(
        make_request=context.make_request,
        model_deployment=deployment,
        model=model,
        max_tokens=adapter_spec.max_tokens,
        temperature=adapter_spec.temperature,
        stop_sequences=adapter_spec.stop_sequences,
        num_outputs=adapter_spec.num_outputs,
        chat=uses_chat(model),
        count_tokens=token_counter(context, deployment),
        context_window=get_model_deployment(deployment).max_sequence_length,
    )


def benchmark_key(spec: DSPyAdapterSpec) -> str:
    args = json.loads(spec.dspy_benchmark_args)
    return spec.dspy_benchmark + "".join(f",{k}={v}" for k, v in sorted(args.items()))


# Adapter-spec fields that do not change what an optimiser produces: where programs live, whether to optimise,
# and how many evaluation instances helm-run's -m keeps.
_NOT_PROGRAM_SETTINGS = {"dspy_program", "dspy_programs_dir", "dspy_optimize", "max_eval_instances"}


def program_settings(spec: DSPyAdapterSpec) -> Dict[str, Any]:
    """Everything that changes an optimised program: the benchmark and its rendering (HELM's adapter spec), the
    deployment and its request settings (max_tokens, temperature, stops), the method, seed, proposer model and
    budget (threads excluded), and DSPy's version."""
    settings = {f.name: getattr(spec, f.name) for f in dataclasses.fields(spec) if f.name not in _NOT_PROGRAM_SETTINGS}
    budget = OptimiserBudget(**json.loads(spec.dspy_budget)).model_dump(exclude={"num_threads"})
    settings.update(dspy_budget=budget, dspy_benchmark_args=json.loads(spec.dspy_benchmark_args),
                    dspy_version=dspy.__version__)
    return json.loads(json.dumps(settings, default=str, sort_keys=True))


def programs_dir(spec: DSPyAdapterSpec, output_path: str) -> Path:
    """The run's programs folder: dspy_programs_dir when given, else <output path>/dspy_programs."""
    return Path(spec.dspy_programs_dir) if spec.dspy_programs_dir else Path(output_path) / "dspy_programs"


def keyed_program_path(spec: DSPyAdapterSpec, output_path: str) -> Path:
    return program_path(programs_dir(spec, output_path), benchmark_key(spec), spec.model_deployment, spec.dspy_method,
                        spec.dspy_seed, program_settings(spec))


def optimisation_examples(
    context, spec: DSPyAdapterSpec, evaluation: List[Instance], parallelism: int, output_path: str
) -> Tuple[List[dspy.Example], List[dspy.Example], HELMMetric]:
    """The scenario's non-evaluation instances rendered by the benchmark's HELM adapter, split into train and val."""
    benchmark = get_benchmark(spec.dspy_benchmark)
    baseline = benchmark.baseline(**json.loads(spec.dspy_benchmark_args))
    scenario_spec = baseline.scenario_spec
    if benchmark.optimisation_scenario:
        scenario_spec = ScenarioSpec(class_name=benchmark.optimisation_scenario, args=scenario_spec.args)
    scenario = create_scenario(scenario_spec)
    instances = scenario.get_instances(get_scenario_cache_path(output_path, scenario.name))
    eval_splits = set(spec.eval_splits or EVAL_SPLITS)
    pool = [i if i.id is not None else dataclasses.replace(i, id=f"optimisation{n}")
            for n, i in enumerate(i for i in instances if i.split not in eval_splits)]
    if not pool:
        raise ProgramError(
            f"{benchmark.name}: the HELM scenario has no instances outside the evaluation splits to optimise on; "
            "pass program=<optimised program file> instead"
        )
    check_disjoint(evaluation, pool, f"{benchmark.name} optimisation data")
    train, val = split_optimisation(pool, benchmark.val_fraction, spec.dspy_seed)
    render_spec = dataclasses.replace(spec, max_train_instances=0, eval_splits=[VALID_SPLIT])
    adapter = AdapterFactory.get_adapter(AdapterSpec(**{f.name: getattr(render_spec, f.name)
                                                        for f in dataclasses.fields(AdapterSpec)}),
                                         TokenizerService(context))
    rendered = adapter.adapt([dataclasses.replace(i, split=VALID_SPLIT) for i in train + val], parallelism)
    states: Dict[str, RequestState] = {}
    examples: Dict[str, dspy.Example] = {}
    for state in rendered:
        correct = [r.output.text for r in state.instance.references if r.is_correct]
        gold = correct[0]
        if state.output_mapping:
            gold = next(letter for letter, text in state.output_mapping.items() if text == gold)
        states[state.request.prompt] = state
        examples[state.instance.id or state.request.prompt] = dspy.Example(
            inputs=state.request.prompt, output=gold
        ).with_inputs("inputs")
    key = lambda i: i.id or ""  # noqa: E731
    metric = HELMMetric(benchmark, spec, [MetricSpec(s.class_name, s.args) for s in baseline.metric_specs], states)
    return [examples[key(i)] for i in train], [examples[key(i)] for i in val], metric


class OptimisationFailed(RuntimeError):
    """The optimiser could not produce a program (its data could not be read, or every LM call failed)."""


def optimise_for_run(context, spec: DSPyAdapterSpec, evaluation: List[Instance], parallelism: int,
                     path: Path, output_path: str, progress: bool = True) -> dspy.Module:
    """Optimise the run's program and save it at `path`; a program whose optimisation got no LM reply at all is
    never saved (OptimisationFailed)."""
    trainset, valset, metric = optimisation_examples(context, spec, evaluation, parallelism, output_path)
    lm = make_lm(context, spec)
    prompt_lm = make_lm(context, spec, spec.dspy_prompt_model) if spec.dspy_prompt_model else lm
    budget = OptimiserBudget(**{"num_threads": parallelism, **json.loads(spec.dspy_budget)})
    bar = CallProgress(f"{spec.dspy_method} {spec.dspy_benchmark} {spec.model}", price(spec.model), enabled=progress)
    bar.watch(lm.call_log)
    if prompt_lm is not lm:
        bar.watch(prompt_lm.call_log)
    try:
        result = optimise(spec.dspy_method, lm, prompt_lm, trainset, valset, metric, metric.with_feedback,
                          spec.dspy_seed, budget)
    finally:
        bar.close()
    if lm.call_log.calls and lm.call_log.failed_calls == lm.call_log.calls:
        raise OptimisationFailed(
            f"every one of the {lm.call_log.calls} LM calls of the {spec.dspy_method} optimisation failed "
            f"(validation score {result.val_score:.1f}%), so no program was saved; last error: {lm.call_log.last_error}"
        )
    cost = price(spec.model)(result.prompt_tokens, result.completion_tokens)
    save_program(result.program, path, {
        "benchmark": spec.dspy_benchmark, "benchmark_args": json.loads(spec.dspy_benchmark_args),
        "model": spec.model, "model_deployment": spec.model_deployment, "method": spec.dspy_method,
        "seed": spec.dspy_seed, "dspy_version": dspy.__version__, "module": type(result.program).__name__,
        "prompt_model": spec.dspy_prompt_model or spec.model_deployment, "budget": budget.model_dump(),
        "settings": program_settings(spec),
        "train_size": len(trainset), "val_size": len(valset),
        "lm_calls": result.calls, "new_lm_calls": result.new_calls, "failed_lm_calls": lm.call_log.failed_calls,
        "prompt_tokens": result.prompt_tokens,
        "completion_tokens": result.completion_tokens, "cost_usd": cost, "seconds": round(result.seconds, 2),
        "val_score": result.val_score, "program": program_summary(result.program),
    })
    hlog(f"Optimised {spec.dspy_method} program saved to {path} ({result.calls} LM calls, val {result.val_score:.1f}%)")
    return result.program


def resolve_program(context, spec: DSPyAdapterSpec, evaluation: List[Instance], parallelism: int,
                    output_path: str) -> Tuple[dspy.Module, Dict[str, Any]]:
    """The run's program and the metadata of its optimisation (empty for zero-shot methods)."""
    if spec.dspy_method not in OPTIMISERS:
        return build_program(spec.dspy_method), {}
    path = Path(spec.dspy_program) if spec.dspy_program else keyed_program_path(spec, output_path)
    if not path.exists() and spec.dspy_program:
        raise ProgramError(f"program file {path} (program=) does not exist")
    if not path.exists():
        if spec.dspy_optimize == "never":
            raise ProgramError(
                f"no optimised {spec.dspy_method} program at {path} and optimisation is off "
                f"(optimize={spec.dspy_optimize}); run `helm-plugins optimize --benchmark {spec.dspy_benchmark} "
                f"--model-deployment {spec.model_deployment} --method {spec.dspy_method} --seed {spec.dspy_seed}` "
                "with the run entry's other settings, or pass program=<file>"
            )
        hlog(f"No optimised program at {path}: optimising {spec.dspy_method} now")
        optimise_for_run(context, spec, evaluation, parallelism, path, output_path)
    meta_path = path.with_suffix(".meta.json")
    metadata = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    if metadata.get("lm_calls") and metadata.get("failed_lm_calls") == metadata["lm_calls"]:
        raise OptimisationFailed(f"the program at {path} was optimised without a single successful LM call; "
                                 "delete it and optimise again")
    return load_program(spec.dspy_method, path), metadata


def execute_dspy_run(executor: Executor, scenario_state: ScenarioState) -> ScenarioState:
    """The execution handler of DSPyAdapterSpec runs (registered in adapter_spec.install_dspy_executor)."""
    return DSPyExecution(executor, scenario_state.adapter_spec).execute(scenario_state)


class DSPyExecution:
    def __init__(self, executor: Executor, spec: DSPyAdapterSpec):
        self.context = executor.context
        self.parallelism = executor.execution_spec.parallelism
        self.output_path = get_benchmark_output_path()  # helm-run's -o/--output-path (HELM keeps it in runner.py)
        self.spec = spec
        self.benchmark = get_benchmark(spec.dspy_benchmark)

    def execute(self, scenario_state: ScenarioState) -> ScenarioState:
        spec = self.spec
        try:
            program, optimisation = resolve_program(
                self.context, spec, [s.instance for s in scenario_state.request_states], self.parallelism,
                self.output_path,
            )
            failed_optimisation = None
        except (ProgramError, LeakageError):
            raise  # a configuration error of the entry: HELM reports it with the run's name
        except Exception as error:  # the optimiser itself broke (e.g. every LM call failed): record, don't abort
            failed_optimisation = f"{spec.dspy_method} optimisation failed: {type(error).__name__}: {error}"
            hwarn(f"{failed_optimisation}. Every instance of this run is recorded as an optimisation failure "
                  "(stat sp_optimisation_failure = 1) and scored wrong; its accuracy is not a measurement of the "
                  "method.")
            program, optimisation = None, {}
        optimisation_stats = {k: optimisation.get(k) for k in ("lm_calls", "prompt_tokens", "completion_tokens",
                                                               "cost_usd", "val_score", "seconds")}
        base_lm = make_lm(self.context, spec)
        letter_reader = HELMMetric(self.benchmark, spec, [], {})

        def process(state: RequestState) -> RequestState:
            log = CallLog(keep_messages=True)
            lm = base_lm.with_log(log)
            output: Optional[str] = None
            reasoning: Optional[str] = None
            error: Optional[str] = None
            status = "ok"
            try:
                if program is None:
                    raise OptimisationFailed(failed_optimisation)
                with dspy.context(lm=lm, adapter=dspy.ChatAdapter()):
                    prediction = program(inputs=state.request.prompt)
                output = prediction.get("output")
                reasoning = prediction.get("reasoning")
            except OptimisationFailed as failure:
                status, error = "optimisation_failure", str(failure)
            except LMRequestFailed as failure:
                status, error = "request_failure", str(failure)
            except Exception as failure:  # DSPy's AdapterParseError and other unreadable replies
                status, error = "parse_failure", f"{type(failure).__name__}: {str(failure)[:500]}"
            text = letter_reader.completion_text(state, output) if status == "ok" else ""
            if status == "ok" and not text:
                status = "parse_failure"
                error = f"no {self.benchmark.answer} answer in the output {output!r}"
            if error and status != "optimisation_failure":
                hwarn(f"{state.instance.id}: {status}: {error}")
            completion = GeneratedOutput(text=text, logprob=0.0, tokens=[],
                                         thinking=Thinking(text=reasoning) if reasoning else None)
            result = RequestResult(
                success=True, embedding=[], completions=[completion],
                cached=bool(log.records) and log.new_calls == 0,
                request_time=sum(r.request_time for r in log.records),
            )
            annotation = {
                "method": spec.dspy_method, "raw_output": output, "reasoning": reasoning, "status": status,
                "error": error, "lm_calls": log.calls, "new_lm_calls": log.new_calls,
                "prompt_tokens": log.tokens("prompt"), "completion_tokens": log.tokens("completion"),
                "optimisation": optimisation_stats,
                # what was sent and received, in full: instructions, demos and fields of every call
                "calls": [{"messages": r.messages, "replies": r.replies, "success": r.success} for r in log.records],
            }
            return dataclasses.replace(state, result=result, annotations={**(state.annotations or {}), ANNOTATION: annotation})

        start = time.time()
        states = parallel_map(process, scenario_state.request_states, parallelism=self.parallelism)
        failures = sum(s.annotations[ANNOTATION]["status"] != "ok" for s in states)
        hlog(f"DSPy {spec.dspy_method}: {len(states)} instances in {time.time() - start:.1f}s, {failures} failures")
        return ScenarioState(adapter_spec=scenario_state.adapter_spec, request_states=states,
                             annotator_specs=scenario_state.annotator_specs)
