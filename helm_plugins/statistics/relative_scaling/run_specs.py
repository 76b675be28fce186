"""Run spec of per-subgroup held-out loss, the input of a relative scaling law over a model family.

    helm-run --enable-local-huggingface-models out/checkpoints/budget60 ... \\
        --run-entries 'hp_text_loss:source=out/held_out.jsonl,subgroup=rare,model=huggingface/budget60' ... --suite S
    helm-plugins relative-scaling --from-suite S --compute out/compute.csv --metric bits_per_byte \\
        --subgroup subgroup=rare --baseline subgroup=frequent

Any HELM scenario with subgroups works the same way (e.g. HELM's `twitter_aae:demographic=aa|white` with
`--metric bits_per_byte`, or `mmlu:subject=...` with `--metric exact_match --accuracy`).
"""

from helm.benchmark.adaptation.common_adapter_specs import get_language_modeling_adapter_spec
from helm.benchmark.metrics.common_metric_specs import get_language_modeling_metric_specs
from helm.benchmark.run_spec import RunSpec
from helm.benchmark.scenarios.scenario import ScenarioSpec

from helm_plugins.common.run_entries import input_label, plugin_run_spec_function
from helm_plugins.statistics.relative_scaling.scenarios import SYNTHETIC_DIALECTS


@plugin_run_spec_function("hp_text_loss")
def get_text_loss_spec(source: str, subgroup: str) -> RunSpec:
    """source: JSONL of {"id", "text", "subgroup"}; subgroup: the rows to score."""
    return RunSpec(
        name=f"hp_text_loss:source={input_label(source, [SYNTHETIC_DIALECTS], 'texts file')},subgroup={subgroup}",
        scenario_spec=ScenarioSpec(class_name="helm_plugins.statistics.relative_scaling.scenarios.SubgroupTextScenario",
                                   args={"source": source, "subgroup": subgroup}),
        adapter_spec=get_language_modeling_adapter_spec(),
        metric_specs=get_language_modeling_metric_specs([]),
        groups=["hp_text_loss"],
    )
