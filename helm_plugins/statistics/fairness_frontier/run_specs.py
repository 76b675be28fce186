"""Run spec of a deployment used as a soft classifier with a protected group attribute.

    helm-run --run-entries 'hp_fairness:model=helm-plugins/tiny-default' --suite S
    helm-run --run-entries 'hp_fairness:source=loans.jsonl,model=openai/gpt2' --suite S
    helm-plugins fairness-frontier --from-suite S --contested openai/gpt2
"""

from typing import Annotated

from helm.benchmark.adaptation.adapter_spec import ADAPT_MULTIPLE_CHOICE_SEPARATE_ORIGINAL, AdapterSpec
from helm.benchmark.metrics.metric import MetricSpec
from helm.benchmark.run_spec import RunSpec
from helm.benchmark.scenarios.scenario import ScenarioSpec
from pydantic import Field

from helm_plugins.common.run_entries import input_label, plugin_run_spec_function

MODULE = "helm_plugins.statistics.fairness_frontier"


@plugin_run_spec_function("hp_fairness")
def get_fairness_spec(
    source: str = "synthetic",
    items: Annotated[int, Field(ge=2)] = 300,
    shots: Annotated[int, Field(ge=0)] = 4,
    pi: Annotated[float, Field(gt=0, lt=1)] = 0.3,
    zeta: Annotated[float, Field(ge=0)] = 1.0,
    seed: int = 0,
) -> RunSpec:
    """source: 'synthetic' (fact-world statements, group = the name's gender, P(Y=1 | A) = sigmoid(-zeta A)) or
    a JSONL of {"id", "text", "label", "group"}; shots: few-shot examples from the training items."""
    label = input_label(source, ["synthetic"], "items file")
    return RunSpec(
        name=f"hp_fairness:source={label},items={items},shots={shots},pi={pi},zeta={zeta},seed={seed}",
        scenario_spec=ScenarioSpec(
            class_name=f"{MODULE}.scenarios.FairnessClassificationScenario",
            args={"source": source, "items": items, "train_items": max(20, 5 * shots), "pi": pi, "zeta": zeta, "seed": seed},
        ),
        adapter_spec=AdapterSpec(
            method=ADAPT_MULTIPLE_CHOICE_SEPARATE_ORIGINAL, instructions="Answer Yes or No.", input_prefix="",
            input_suffix="\n", output_prefix="Answer: ", output_suffix="", instance_prefix="\n\n",
            max_train_instances=shots, num_outputs=1, max_tokens=0, temperature=0.0,
        ),
        metric_specs=[MetricSpec(class_name=f"{MODULE}.metrics.FairnessClassificationMetric", args={})],
        groups=["hp_fairness"],
    )
