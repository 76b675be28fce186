"""Run spec of structured prompting: one benchmark, one method, any HELM model deployment.

    helm-run --run-entries 'hp_structured_prompting:benchmark=synthetic_arithmetic,method=cot,model=helm-plugins/tiny-default' \
        --suite sp -m 50

method=helm is HELM's own run spec of the benchmark (fixed prompt); predict, cot, bfrs, miprov2 and gepa run the
DSPy program on HELM's rendered prompt (see executor.py). Each (benchmark, method) has its own run group, so
the leaderboard puts the methods side by side under the benchmark's group.
"""

import dataclasses
import json
from typing import Annotated, Literal, Optional

from helm.benchmark.adaptation.adapter_spec import AdapterSpec
from helm.benchmark.metrics.metric import MetricSpec
from helm.benchmark.run_spec import RunSpec
from pydantic import Field

from helm_plugins.common.run_entries import plugin_run_spec_function
from helm_plugins.structured_prompting.benchmarks import BENCHMARKS, get_benchmark
from helm_plugins.structured_prompting.adapter_spec import DSPyAdapterSpec, OptimiserBudget

Method = Literal["helm", "predict", "cot", "bfrs", "miprov2", "gepa"]
BenchmarkName = Literal[tuple(BENCHMARKS)]  # type: ignore[valid-type]


PLUMBING_GROUP = "hp_sp_plumbing"  # runs that check the pipeline, kept out of the benchmarks' tables


def group_name(benchmark: str, method: str) -> str:
    return f"hp_sp_{benchmark}_{method}"


@plugin_run_spec_function("hp_structured_prompting")
def get_structured_prompting_spec(
    benchmark: BenchmarkName,
    method: Method = "cot",
    seed: int = 0,
    num_instances: Annotated[int, Field(gt=0)] = 200,
    data_seed: int = 0,
    program: str = "",
    programs_dir: str = "",
    optimize: Literal["auto", "never"] = "auto",
    prompt_model: str = "",
    candidates: Annotated[int, Field(ge=1)] = 16,
    demos: Annotated[int, Field(ge=0)] = 3,
    gepa_max_metric_calls: Optional[Annotated[int, Field(ge=1)]] = None,
    max_tokens: Annotated[int, Field(ge=1)] = 4000,
    plumbing_check: bool = False,
) -> RunSpec:
    """seed: optimiser seed; num_instances, data_seed: size and seed of the synthetic benchmarks; program: an
    optimised program file; programs_dir: where optimised programs are kept (default <output path>/dspy_programs);
    candidates, demos, gepa_max_metric_calls: optimiser budget (the paper: 16, 3, auto); max_tokens: output budget
    of each DSPy call, reasoning plus answer (the paper's 4,000). Every argument that changes the results is in the
    run name; optimised programs are keyed by every setting that changes them (executor.program_settings).
    plumbing_check: the run only checks that the pipeline runs end to end (e.g. a model too small for DSPy's
    prompts, which can only record failures): it goes to the plumbing-checks group, not the benchmark's table."""
    bench = get_benchmark(benchmark)
    benchmark_args = {"num_instances": num_instances, "seed": data_seed} if bench.offline else {}
    baseline = bench.baseline(**benchmark_args)
    name = f"hp_structured_prompting:benchmark={benchmark},method={method}"
    if bench.offline:
        name += f",num_instances={num_instances},data_seed={data_seed}"
    metric_specs = list(baseline.metric_specs) + [
        # named, not imported: the metric module loads HELM's metrics and DSPy's helpers only when a run scores
        MetricSpec(class_name="helm_plugins.structured_prompting.metrics.StructuredPromptingMetric",
                   args={"benchmark": benchmark})
    ]
    groups = [group_name(benchmark, method)]
    if plumbing_check:
        name += ",plumbing_check=true"
        groups = [PLUMBING_GROUP]
    if method == "helm":
        return dataclasses.replace(baseline, name=name, metric_specs=metric_specs, groups=groups)
    budget = {"candidates": candidates, "max_bootstrapped_demos": demos, "max_labeled_demos": demos,
              "gepa_max_metric_calls": gepa_max_metric_calls}
    OptimiserBudget(**budget)
    if max_tokens != 4000:
        name += f",max_tokens={max_tokens}"
    if method in ("bfrs", "miprov2", "gepa"):
        name += f",seed={seed}"
        for key, value, default in (("candidates", candidates, 16), ("demos", demos, 3),
                                    ("gepa_max_metric_calls", gepa_max_metric_calls, None)):
            if value != default:
                name += f",{key}={value}"
        if program:
            name += f",program={program}"
        if prompt_model:
            name += f",prompt_model={prompt_model}"
    base = {f.name: getattr(baseline.adapter_spec, f.name) for f in dataclasses.fields(AdapterSpec)}
    base.update(
        max_train_instances=0,  # DSPy's demos replace HELM's in-context examples (also in the optimisation data)
        num_outputs=1,  # one program run per instance
        temperature=0.0,  # the paper's setting; `temperature=` in the run entry overrides it
        max_tokens=max_tokens,  # room for the reasoning and the field markers
        stop_sequences=[],  # HELM's stops (e.g. "\n") would cut DSPy's multi-line field format
    )
    adapter_spec = DSPyAdapterSpec(
        **base,
        dspy_benchmark=benchmark,
        dspy_benchmark_args=json.dumps(benchmark_args, sort_keys=True),
        dspy_method=method,
        dspy_seed=seed,
        dspy_program=program,
        dspy_programs_dir=programs_dir,
        dspy_optimize=optimize,
        dspy_prompt_model=prompt_model,
        dspy_budget=json.dumps(budget),
    )
    return RunSpec(name=name, scenario_spec=baseline.scenario_spec, adapter_spec=adapter_spec,
                   metric_specs=metric_specs, annotators=baseline.annotators, groups=groups)
