"""Run specs of the provenance tests: the query test on a transcript, and the observational n-gram and reshuffle
tests of texts the suspect samples.

    helm-run --run-entries 'hp_provenance:transcript=tiny-default,max_examples=500,model=helm-plugins/tiny-default' --suite S
    helm-run --run-entries 'hp_provenance:transcript=alice.jsonl,model=org/reference' \\
             'hp_provenance:transcript=alice.jsonl,reference=org/reference,model=org/bob' --suite S
    helm-run --run-entries 'hp_provenance_ngram:transcript=alice.jsonl,model=org/bob' --suite S
    helm-run --run-entries 'hp_provenance_reshuffle:transcript=alice.jsonl,checkpoints=reshuffles.jsonl,model=org/bob' --suite S
"""

from typing import Annotated

from helm.benchmark.adaptation.adapter_spec import ADAPT_GENERATION, AdapterSpec
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


def _texts_spec(test: str, transcript: str, texts: int, prompt_words: int, max_tokens: int, seed: int, setting: str,
                metric: MetricSpec) -> RunSpec:
    """The suspect samples `texts` continuations (temperature 1, its full distribution) of transcript prompts."""
    label = input_label(transcript, ["tiny-default"], "transcript file")
    return RunSpec(
        name=f"hp_provenance_{test}:transcript={label},{setting},texts={texts},prompt_words={prompt_words},"
             f"max_tokens={max_tokens},seed={seed}",
        scenario_spec=ScenarioSpec(
            class_name=f"{MODULE}.scenarios.ProvenanceTextsScenario",
            args={"transcript": transcript, "texts": texts, "prompt_words": prompt_words, "seed": seed},
        ),
        adapter_spec=AdapterSpec(
            method=ADAPT_GENERATION, instructions="", input_prefix="", input_suffix="", output_prefix="",
            output_suffix="", max_train_instances=0, num_outputs=1, temperature=1.0, max_tokens=max_tokens,
            stop_sequences=[],
        ),
        metric_specs=[metric],
        groups=[f"hp_provenance_{test}"],
    )


@plugin_run_spec_function("hp_provenance_ngram")
def get_provenance_ngram_spec(
    transcript: str,
    texts: Annotated[int, Field(ge=1)] = 100,
    prompt_words: Annotated[int, Field(ge=1)] = 8,
    max_tokens: Annotated[int, Field(ge=1)] = 32,
    bins: Annotated[int, Field(ge=3)] = 20,
    permutations: Annotated[int, Field(ge=1)] = 999,
    seed: int = 0,
) -> RunSpec:
    """The observational n-gram test: the suspect continues `texts` transcript prompts; the words of its
    continuations are matched (2 to 8 words) in the transcript's documents, matched counts per step bin are
    correlated with the bins, against the null that relabels the documents' steps (`partition_p`)."""
    metric = MetricSpec(class_name=f"{MODULE}.metrics.ProvenanceNgramMetric",
                        args={"transcript": transcript, "bins": bins, "permutations": permutations, "seed": seed})
    return _texts_spec("ngram", transcript, texts, prompt_words, max_tokens, seed, f"bins={bins}", metric)


@plugin_run_spec_function("hp_provenance_reshuffle")
def get_provenance_reshuffle_spec(
    transcript: str,
    checkpoints: str,
    texts: Annotated[int, Field(ge=1)] = 100,
    prompt_words: Annotated[int, Field(ge=1)] = 8,
    max_tokens: Annotated[int, Field(ge=1)] = 32,
    seed: int = 0,
) -> RunSpec:
    """The observational reshuffle test: the suspect continues `texts` transcript prompts; its continuations are
    scored under Alice's real model and her last phase retrained on reshuffled orders (`checkpoints`: a JSONL
    manifest of local checkpoint folders {"path", "original"}), and `reshuffle_rank_p` is Alice's exact rank p."""
    metric = MetricSpec(class_name=f"{MODULE}.metrics.ProvenanceReshuffleMetric", args={"checkpoints": checkpoints})
    setting = f"checkpoints={input_label(checkpoints, what='checkpoint manifest')}"
    return _texts_spec("reshuffle", transcript, texts, prompt_words, max_tokens, seed, setting, metric)
