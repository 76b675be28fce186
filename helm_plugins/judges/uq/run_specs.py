"""Run specs of UQ (arXiv 2508.17580): answers to unsolved questions judged by UQ validators, and the validators'
meta-evaluation on planted answers.

    helm-run --run-entries 'hp_uq:questions=released,judge=openai/o3-2025-04-16,model=openai/gpt-4o-2024-11-20' --suite S
    helm-run --run-entries 'hp_uq_meta:strategy=pipeline[cc*3|U;flc*3|U;c*3|U],model=helm-plugins/tiny-default' --suite S

`judge` is any HELM model deployment; empty means the evaluated model judges itself (the generator–validator
set-up). In a run entry, separate strategy stages with ";" (HELM splits entries at commas).
"""

from typing import Annotated, Literal

from helm.benchmark.adaptation.common_adapter_specs import get_generation_adapter_spec
from helm.benchmark.annotation.annotator import AnnotatorSpec
from helm.benchmark.metrics.common_metric_specs import get_basic_generation_metric_specs
from helm.benchmark.metrics.metric import MetricSpec
from helm.benchmark.run_spec import RunSpec
from helm.benchmark.scenarios.scenario import ScenarioSpec
from pydantic import Field

from helm_plugins.common.run_entries import input_label, plugin_run_spec_function
from helm_plugins.judges.uq.strategy import DEFAULT_STRATEGY, compact, parse_strategy
from helm_plugins.synthetic.prompts import ARITHMETIC_INSTRUCTIONS, INPUT_NOUN, OUTPUT_NOUN

UQ_INSTRUCTIONS = "Answer the question. Give a complete answer with your reasoning."


MODULE = "helm_plugins.judges.uq"  # classes named, not imported: HELM loads them when a run needs them


def _annotator(strategy: str, judge: str, target: str, judge_temperature: float, judge_max_tokens: int, seed: int):
    return AnnotatorSpec(
        class_name=f"{MODULE}.annotators.UQValidatorAnnotator",
        args={"strategy": strategy, "judge": judge, "target": target, "temperature": judge_temperature,
              "max_tokens": judge_max_tokens, "seed": seed},
    )


PLUMBING_GROUP = "hp_judges_plumbing"  # runs that check the pipeline (e.g. a judge too small to write verdicts)


def _plumbing_name(plumbing_check: bool) -> str:
    return ",plumbing_check=true" if plumbing_check else ""


def _group(name: str, strategy: str, plumbing_check: bool = False) -> str:
    """HELM averages a model's runs within a group: the default strategy has its own group, others share one
    (helm-plugins uq-report lists every run separately). Plumbing checks go to their own group, off the tables."""
    if plumbing_check:
        return PLUMBING_GROUP
    return name if parse_strategy(strategy) == parse_strategy(DEFAULT_STRATEGY) else f"{name}_custom"


def _settings(strategy: str, judge: str, seed: int) -> str:
    return f"strategy={compact(parse_strategy(strategy))},judge={judge.replace('/', '_') or 'self'},seed={seed}"


@plugin_run_spec_function("hp_uq")
def get_uq_spec(
    questions: str = "generated",
    num_questions: Annotated[int, Field(gt=0)] = 20,
    strategy: str = DEFAULT_STRATEGY,
    judge: str = "",
    judge_temperature: Annotated[float, Field(ge=0)] = 1.0,
    judge_max_tokens: Annotated[int, Field(gt=0)] = 1024,
    seed: int = 0,
    plumbing_check: bool = False,
) -> RunSpec:
    """questions: 'generated' (offline), 'released' (the 500 UQ questions, via datasets) or a UQ-format JSONL path."""
    parse_strategy(strategy)  # a bad strategy fails here, before any request
    label = input_label(questions, ["generated", "released"], "UQ questions file")
    return RunSpec(
        name=f"hp_uq:questions={label},{_settings(strategy, judge, seed)}" + _plumbing_name(plumbing_check),
        scenario_spec=ScenarioSpec(
            class_name=f"{MODULE}.scenarios.UQScenario", args={"questions": questions, "num_questions": num_questions, "seed": seed}
        ),
        adapter_spec=get_generation_adapter_spec(
            instructions=UQ_INSTRUCTIONS,
            max_train_instances=0,  # unsolved questions have no demonstrations
            max_tokens=2048,  # room for a worked answer; lower it with num_output_tokens for small models
            temperature=0.0,
        ),
        annotators=[_annotator(strategy, judge, "response", judge_temperature, judge_max_tokens, seed)],
        metric_specs=[MetricSpec(class_name=f"{MODULE}.metrics.UQValidatorMetric", args={})]
        + get_basic_generation_metric_specs([]),
        groups=[_group("hp_uq", strategy, plumbing_check)],
    )


@plugin_run_spec_function("hp_uq_meta")
def get_uq_meta_spec(
    num_questions: Annotated[int, Field(gt=0)] = 40,
    questions: Literal["arithmetic", "factoring"] = "arithmetic",
    labelled: str = "",
    strategy: str = DEFAULT_STRATEGY,
    judge: str = "",
    judge_temperature: Annotated[float, Field(ge=0)] = 1.0,
    judge_max_tokens: Annotated[int, Field(gt=0)] = 1024,
    seed: int = 0,
    plumbing_check: bool = False,
) -> RunSpec:
    """questions: generated 'arithmetic' word problems, or 'factoring' (products of two 3-digit primes: hard to
    answer, easy to check, so a capable model validates better than it answers); labelled: a JSONL of human-labelled
    answers (UQ dev/diamond or HLE style, see scenarios.py) instead of generated questions."""
    parse_strategy(strategy)
    if labelled:
        data = f"labelled={input_label(labelled, what='labelled answers file')}"
        adapter_spec = get_generation_adapter_spec(instructions=UQ_INSTRUCTIONS, max_train_instances=0,
                                                   max_tokens=2048, temperature=0.0)  # as hp_uq: a worked answer
    elif questions == "factoring":
        data = f"questions=factoring,num_questions={num_questions}"
        adapter_spec = get_generation_adapter_spec(instructions=UQ_INSTRUCTIONS, max_train_instances=0,
                                                   max_tokens=1024, temperature=0.0)  # room to work it out
    else:
        data = f"num_questions={num_questions}"
        adapter_spec = get_generation_adapter_spec(
            instructions=ARITHMETIC_INSTRUCTIONS,
            input_noun=INPUT_NOUN,
            output_noun=OUTPUT_NOUN,
            max_train_instances=0,
            max_tokens=100,  # a worked solution takes about 60 tokens of the default model
            stop_sequences=["\n"],
            temperature=0.0,
        )
    return RunSpec(
        name=f"hp_uq_meta:{data},{_settings(strategy, judge, seed)}" + _plumbing_name(plumbing_check),
        scenario_spec=ScenarioSpec(
            class_name=f"{MODULE}.scenarios.UQMetaEvalScenario",
            args={"num_questions": num_questions, "seed": seed, "labelled": labelled, "questions": questions},
        ),
        adapter_spec=adapter_spec,
        annotators=[_annotator(strategy, judge, "planted", judge_temperature, judge_max_tokens, seed)],
        metric_specs=[MetricSpec(class_name=f"{MODULE}.metrics.UQMetaEvalMetric", args={})]
        + get_basic_generation_metric_specs([]),
        groups=[_group("hp_uq_meta", strategy, plumbing_check)],
    )
