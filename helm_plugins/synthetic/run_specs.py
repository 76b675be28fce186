"""Run specs of the synthetic offline tasks (demo.conf runs them on the embedded default model).

    helm-run --run-entries 'hp_synthetic_arithmetic:model=helm-plugins/tiny-default' --suite demo -m 50
"""

import dataclasses
from typing import Annotated, Literal

from helm.benchmark.adaptation.adapter_spec import ADAPT_MULTIPLE_CHOICE_SEPARATE_ORIGINAL
from helm.benchmark.adaptation.common_adapter_specs import (
    format_instructions,
    get_generation_adapter_spec,
    get_multiple_choice_joint_adapter_spec,
    get_multiple_choice_separate_adapter_spec,
)
from helm.benchmark.metrics.common_metric_specs import get_basic_metric_specs, get_exact_match_metric_specs
from helm.benchmark.run_spec import RunSpec
from helm.benchmark.scenarios.scenario import ScenarioSpec
from pydantic import Field

from helm_plugins.common.run_entries import plugin_run_spec_function
from helm_plugins.synthetic.fact_world import WORLD_QUIZ_INSTRUCTIONS
from helm_plugins.synthetic.prompts import (
    ARITHMETIC_INSTRUCTIONS,
    CLOSED_BOOK_INSTRUCTIONS,
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
    num_instances: NumInstances = 200,
    seed: int = 0,
    closed_book: bool = False,
    method: Literal["joint", "separate"] = "joint",
) -> RunSpec:
    """joint: HELM's multiple_choice_joint, the model answers with a letter. separate: HELM's
    multiple_choice_separate_original, each option is scored by the model's log-probability of it as the
    short answer (needs a model that returns prompt log-probabilities, such as local Hugging Face models)."""
    if method == "joint":
        adapter_spec = get_multiple_choice_joint_adapter_spec(
            instructions=CLOSED_BOOK_INSTRUCTIONS if closed_book else FACT_WORLD_INSTRUCTIONS,
            input_noun=INPUT_NOUN,
            output_noun=OUTPUT_NOUN,
            max_train_instances=0,
            max_tokens=1,  # a single letter
            num_outputs=1,  # greedy decoding: one completion is the answer
        )
    else:
        adapter_spec = dataclasses.replace(
            get_multiple_choice_separate_adapter_spec(ADAPT_MULTIPLE_CHOICE_SEPARATE_ORIGINAL),
            instructions=format_instructions(WORLD_QUIZ_INSTRUCTIONS),  # the short-answer format of the corpus
            input_prefix=f"{INPUT_NOUN}: ",
            input_suffix="\n",
            output_prefix=f"{OUTPUT_NOUN}: ",
        )
    return RunSpec(
        name=f"hp_synthetic_fact_world:num_instances={num_instances},seed={seed},closed_book={closed_book},method={method}",
        scenario_spec=ScenarioSpec(
            class_name=_class_name(SyntheticFactWorldScenario),
            args={"num_instances": num_instances, "seed": seed, "closed_book": closed_book},
        ),
        adapter_spec=adapter_spec,
        metric_specs=get_exact_match_metric_specs(),
        # One group per setting and method: HELM averages a model's runs within a group.
        groups=["hp_synthetic_fact_world" + ("_closed_book" if closed_book else "") + ("_separate" if method == "separate" else "")],
    )
