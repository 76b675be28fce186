"""Run spec of the provenance query test.

    helm-run --run-entries 'hp_provenance:transcript=tiny-default,max_examples=500,model=helm-plugins/tiny-default' --suite S
    helm-run --run-entries 'hp_provenance:transcript=alice.jsonl,model=org/reference' \\
             'hp_provenance:transcript=alice.jsonl,reference=org/reference,model=org/bob' --suite S
"""

from typing import Annotated

from helm.benchmark.adaptation.common_adapter_specs import get_language_modeling_adapter_spec
from helm.benchmark.metrics.metric import MetricSpec
from helm.benchmark.run_spec import RunSpec
from helm.benchmark.scenarios.scenario import ScenarioSpec
from pydantic import Field

from helm_plugins.common.run_entries import input_label, plugin_run_spec_function

MODULE = "helm_plugins.statistics.provenance"


@plugin_run_spec_function("hp_provenance")
def get_provenance_spec(
    transcript: str,
    reference: str = "",
    max_examples: Annotated[int, Field(ge=0)] = 0,
    permutations: Annotated[int, Field(ge=0)] = 999,
    seed: int = 0,
) -> RunSpec:
    """transcript: 'tiny-default' (the embedded model's own training run) or a JSONL path; reference: a JSONL
    loss file or a model whose hp_provenance run on the same transcript is in the suite."""
    label = input_label(transcript, ["tiny-default"], "transcript file")
    reference_label = input_label(reference, what="reference loss file") if reference.endswith(".jsonl") else (
        reference.replace("/", "_") or "none")
    name = f"hp_provenance:transcript={label},reference={reference_label},max_examples={max_examples},seed={seed}"
    return RunSpec(
        name=name,
        scenario_spec=ScenarioSpec(
            class_name=f"{MODULE}.scenarios.ProvenanceQueryScenario",
            args={"transcript": transcript, "max_examples": max_examples, "seed": seed},
        ),
        adapter_spec=get_language_modeling_adapter_spec(),
        metric_specs=[
            MetricSpec(
                class_name=f"{MODULE}.metrics.ProvenanceQueryMetric",
                args={"transcript": transcript, "reference": reference, "permutations": permutations, "seed": seed},
            )
        ],
        groups=["hp_provenance_query"],
    )
