"""Run spec of SpecEval (arXiv 2509.02464): a candidate answers prompts per specification statement, a judge rates
each response against its statement.

    helm-run --run-entries 'hp_spec_adherence:spec=toy,model=helm-plugins/tiny-default' --suite S
    helm-run --run-entries 'hp_spec_adherence:spec=specs/openai.jsonl,provider=openai,prompts=prompts/openai.jsonl,judge=anthropic/claude-3-7-sonnet-20250219,model=openai/gpt-4.1-2025-04-14' --suite S

`judge` is any HELM model deployment (empty: the candidate judges itself); `provider` is the organization whose
specification it is (built-in specs know theirs; otherwise the file name). `helm-plugins spec-matrix --suite S`
builds the candidate × judge × specification matrix from the finished runs.
"""

from pathlib import Path
from typing import Annotated, Literal

from helm.benchmark.adaptation.common_adapter_specs import get_generation_adapter_spec
from helm.benchmark.annotation.annotator import AnnotatorSpec
from helm.benchmark.metrics.common_metric_specs import get_basic_generation_metric_specs
from helm.benchmark.metrics.metric import MetricSpec
from helm.benchmark.run_spec import RunSpec
from helm.benchmark.scenarios.scenario import ScenarioSpec
from pydantic import Field

from helm_plugins.common.run_entries import input_label, plugin_run_spec_function
from helm_plugins.judges.spec_adherence.statements import BUILTIN_PROVIDERS, load_spec


MODULE = "helm_plugins.judges.spec_adherence"  # classes named, not imported: HELM loads them when a run needs them


def _label(value: str) -> str:
    return input_label(value) if value.endswith(".jsonl") else value.replace("/", "_")


@plugin_run_spec_function("hp_spec_adherence")
def get_spec_adherence_spec(
    spec: str = "toy",
    provider: str = "",
    prompts: str = "",
    judge: str = "",
    mode: Literal["likert", "binary", "pairwise"] = "likert",
    threshold: Annotated[float, Field(ge=1, le=5)] = 4,
    baseline: str = "",
    num_samples: Annotated[int, Field(gt=0)] = 1,
    judge_max_tokens: Annotated[int, Field(gt=0)] = 512,
    seed: int = 0,
    plumbing_check: bool = False,
) -> RunSpec:
    load_spec(spec)  # a bad specification fails here, naming the file, line and field
    provider = provider or BUILTIN_PROVIDERS.get(spec) or Path(spec).stem
    if mode == "pairwise" and not baseline:
        raise ValueError("mode=pairwise needs baseline=<model deployment>")
    settings = f"mode={mode}" + (f",threshold={threshold:g}" if mode == "likert" else "") + (
        f",baseline={_label(baseline)}" if baseline else "")
    return RunSpec(
        name=f"hp_spec_adherence:spec={_label(spec)},prompts={_label(prompts) or 'examples'},"
             f"judge={_label(judge) or 'self'},{settings},seed={seed}" + (",plumbing_check=true" if plumbing_check else ""),
        scenario_spec=ScenarioSpec(
            class_name=f"{MODULE}.scenarios.SpecStatementScenario", args={"spec": spec, "prompts": prompts, "provider": provider}
        ),
        adapter_spec=get_generation_adapter_spec(
            max_train_instances=0,
            max_tokens=1024,  # candidates answer in full; lower it with num_output_tokens for small models
            temperature=0.0,  # the paper's candidates answer at temperature 0
        ),
        annotators=[
            AnnotatorSpec(
                class_name=f"{MODULE}.annotators.SpecAdherenceAnnotator",
                args={"judge": judge, "mode": mode, "threshold": threshold, "baseline": baseline,
                      "num_samples": num_samples, "max_tokens": judge_max_tokens, "seed": seed},
            )
        ],
        metric_specs=[MetricSpec(class_name=f"{MODULE}.metrics.SpecAdherenceMetric", args={})]
        + get_basic_generation_metric_specs([]),
        # Self-judged and cross-judged runs in separate groups (HELM averages a model's runs within a group);
        # the per-judge, per-specification cells are in the spec-matrix report.
        # Plumbing checks (e.g. a judge too small to write verdicts) go to their own group, off the tables.
        groups=["hp_judges_plumbing"] if plumbing_check else [f"hp_spec_adherence_{mode}" + ("_self" if not judge else "_cross")],
    )
