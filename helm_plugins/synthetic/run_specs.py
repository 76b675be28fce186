"""Run specs of the synthetic offline tasks (demo.conf runs them on the embedded default model).

    helm-run --run-entries 'hp_synthetic_arithmetic:model=helm-plugins/tiny-default' --suite demo -m 50
"""

from typing import Annotated

from helm.benchmark.adaptation.common_adapter_specs import (
    get_generation_adapter_spec,
    get_multiple_choice_joint_adapter_spec,
    get_multiple_choice_joint_chain_of_thought_adapter_spec,
)
from helm.benchmark.metrics.common_metric_specs import get_basic_metric_specs, get_exact_match_metric_specs
from helm.benchmark.metrics.metric import MetricSpec
from helm.benchmark.run_spec import RunSpec
from helm.benchmark.scenarios.scenario import ScenarioSpec
from pydantic import Field

from helm_plugins.common.run_entries import plugin_run_spec_function
from helm_plugins.synthetic.prompts import (
    ARITHMETIC_INSTRUCTIONS,
    COT_SUFFIX,
    FACT_WORLD_COT_INSTRUCTIONS,
    FACT_WORLD_INSTRUCTIONS,
    INPUT_NOUN,
    OUTPUT_NOUN,
)
from helm_plugins.synthetic.scenarios import SyntheticArithmeticScenario, SyntheticFactWorldScenario

NumInstances = Annotated[int, Field(gt=0, le=100_000)]


def _class_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__name__}"


@plugin_run_spec_function("hp_synthetic_arithmetic")
def get_synthetic_arithmetic_spec(num_instances: NumInstances = 200, seed: int = 0) -> RunSpec:
    adapter_spec = get_generation_adapter_spec(
        instructions=ARITHMETIC_INSTRUCTIONS,
        input_noun=INPUT_NOUN,
        output_noun=OUTPUT_NOUN,
        max_train_instances=0,  # the task is stated by the instructions; few-shot via max_train_instances=k
        max_tokens=100,  # a worked solution takes about 60 tokens of the default model
        stop_sequences=["\n"],
    )
    return RunSpec(
        name=f"hp_synthetic_arithmetic:num_instances={num_instances},seed={seed}",
        scenario_spec=ScenarioSpec(
            class_name=_class_name(SyntheticArithmeticScenario), args={"num_instances": num_instances, "seed": seed}
        ),
        adapter_spec=adapter_spec,
        metric_specs=get_basic_metric_specs(["final_number_exact_match"]),
        groups=["hp_synthetic_arithmetic"],
    )


@plugin_run_spec_function("hp_synthetic_fact_world")
def get_synthetic_fact_world_spec(
    num_instances: NumInstances = 200, seed: int = 0, chain_of_thought: bool = False
) -> RunSpec:
    """Direct: the answer is one letter (exact_match). Chain of thought: the model first repeats the fact that
    answers the question, then writes "The answer is X" (HELM's chain_of_thought_correctness)."""
    if chain_of_thought:
        adapter_spec = get_multiple_choice_joint_chain_of_thought_adapter_spec(
            instructions=FACT_WORLD_COT_INSTRUCTIONS,
            input_noun=INPUT_NOUN,
            output_noun=OUTPUT_NOUN,
            max_train_instances=0,
            max_tokens=40,  # the fact (about 8 tokens of the default model) and "The answer is X."
            num_outputs=1,
            chain_of_thought_suffix=COT_SUFFIX,
        )
        metric_specs = get_basic_metric_specs([]) + [
            MetricSpec(class_name="helm.benchmark.metrics.gpqa_chain_of_thought_metric.GPQAChainOfThoughtMetric")
        ]
        group = "hp_synthetic_fact_world_cot"
    else:
        adapter_spec = get_multiple_choice_joint_adapter_spec(
            instructions=FACT_WORLD_INSTRUCTIONS,
            input_noun=INPUT_NOUN,
            output_noun=OUTPUT_NOUN,
            max_train_instances=0,
            max_tokens=1,  # a single letter
            num_outputs=1,  # greedy decoding: one completion is the answer
        )
        metric_specs = get_exact_match_metric_specs()
        group = "hp_synthetic_fact_world"
    return RunSpec(
        name=f"hp_synthetic_fact_world:num_instances={num_instances},seed={seed},chain_of_thought={chain_of_thought}",
        scenario_spec=ScenarioSpec(
            class_name=_class_name(SyntheticFactWorldScenario), args={"num_instances": num_instances, "seed": seed}
        ),
        adapter_spec=adapter_spec,
        metric_specs=metric_specs,
        groups=[group],
    )
