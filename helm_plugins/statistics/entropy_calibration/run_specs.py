"""Run specs of entropy calibration: a generation run and a loss run per model on the same documents.

    helm-run --run-entries \\
        'hp_entce:part=generation,model=helm-plugins/tiny-default' \\
        'hp_entce:part=loss,model=helm-plugins/tiny-default' --suite S
    helm-run --run-entries 'hp_entce:part=generation,tau=0.8,model=helm-plugins/tiny-default' --suite S

The loss run adds EntCE when the generation run at temperature 1 of the same model and documents is already in
the suite. Other temperatures give the generation entropy H_t (the log loss at temperature tau needs the full
distribution, which API models do not return; `helm-plugins entce --demo` measures it for local models).
"""

import re
from typing import Annotated, Literal

from helm.benchmark.adaptation.adapter_spec import ADAPT_GENERATION, AdapterSpec
from helm.benchmark.adaptation.common_adapter_specs import get_language_modeling_adapter_spec
from helm.benchmark.metrics.metric import MetricSpec
from helm.benchmark.run_spec import RunSpec
from helm.benchmark.scenarios.scenario import ScenarioSpec
from pydantic import Field

from helm_plugins.common.run_entries import plugin_run_spec_function

MODULE = "helm_plugins.statistics.entropy_calibration"


@plugin_run_spec_function("hp_entce")
def get_entropy_calibration_spec(
    part: Literal["generation", "loss"],
    source: str = "synthetic",
    tau: Annotated[float, Field(gt=0)] = 1.0,
    steps: Annotated[int, Field(ge=2)] = 48,
    samples: Annotated[int, Field(ge=1)] = 4,
    documents: Annotated[int, Field(ge=2)] = 200,
    prompt_words: Annotated[int, Field(ge=1)] = 12,
    seed: int = 0,
    prompt_prefix: str = "",
) -> RunSpec:
    """source: 'synthetic' (held-out synthetic documents) or a JSONL file of {"id", "text"}; steps: T, the
    generated tokens and the continuation's words (each at least one token); samples: generations per prompt;
    prompt_prefix: text before each generation prompt, so that both parts condition alike: HELM's language-modelling
    requests start with the tokenizer's end-of-text token, so give it here for base models that use one
    (`prompt_prefix=<|endoftext|>` for GPT-2-style tokenizers such as tiny-default's or Pythia's);
    tau: the sampling temperature (HELM's own `temperature=` run-entry argument would change it without
    changing the run's name)."""
    scenario_args = {"source": source, "documents": documents, "prompt_words": prompt_words,
                     "continuation_words": steps, "seed": seed}
    if part == "generation":
        adapter_spec = AdapterSpec(
            method=ADAPT_GENERATION, instructions="", input_prefix=prompt_prefix, input_suffix="", output_prefix="",
            output_suffix="", max_train_instances=0, num_outputs=samples, temperature=tau, max_tokens=steps,
            stop_sequences=[],
        )
        prefix_label = re.sub(r"\W", "", prompt_prefix) or "none"
        setting = f"tau={tau},samples={samples},prompt_prefix={prefix_label}"
    else:
        adapter_spec = get_language_modeling_adapter_spec()
        setting = "tau=1.0"  # the log loss is always at temperature 1 (see the module doc)
    label = source if source == "synthetic" else source.replace("/", "_")
    return RunSpec(
        name=f"hp_entce:part={part},source={label},{setting},steps={steps},documents={documents},seed={seed}",
        scenario_spec=ScenarioSpec(class_name=f"{MODULE}.scenarios.EntropyCalibrationScenario", args={"part": part, **scenario_args}),
        adapter_spec=adapter_spec,
        metric_specs=[MetricSpec(class_name=f"{MODULE}.metrics.EntropyCalibrationMetric",
                                 args={"part": part, "steps": steps, "source": source, "documents": documents,
                                       "prompt_words": prompt_words, "seed": seed})],
        groups=[f"hp_entce_{part}"],  # the loss and generation runs write different stats: one table each
    )
