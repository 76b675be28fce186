"""Run specs of the audio scenarios (AHELM, arXiv 2508.21376) and the offline speech deployments.

    helm-run --run-entries 'hp_audio_asr:model=helm-plugins/pocketsphinx' --suite S
    helm-run --run-entries 'hp_audio_parade:voice=female,model=helm-plugins/pocketsphinx_tiny-default' --suite S

`source=synthetic` (the default) speaks generated text with the offline voices; `source=released` loads AHELM's
released data with HELM's own scenario classes (downloads at run time). Each setting has its own run group, so
HELM never averages, say, a noise level with clean speech. `ASPECTS` maps the groups to AHELM's aspects for
`helm-plugins audio-report`.
"""

from typing import Annotated, Dict, List, Literal, Optional

from helm.benchmark.adaptation.adapter_spec import AdapterSpec
from helm.benchmark.adaptation.adapters.adapter_factory import (
    ADAPT_GENERATION_MULTIMODAL,
    ADAPT_MULTIPLE_CHOICE_JOINT_MULTIMODAL,
)
from helm.benchmark.metrics.common_metric_specs import get_basic_metric_specs, get_exact_match_metric_specs
from helm.benchmark.metrics.metric import MetricSpec
from helm.benchmark.model_deployment_registry import ClientSpec, ModelDeployment, register_model_deployment
from helm.benchmark.model_metadata_registry import AUDIO_LANGUAGE_MODEL_TAG, ModelMetadata, register_model_metadata
from helm.benchmark.run_spec import RunSpec
from helm.benchmark.scenarios.scenario import ScenarioSpec
from pydantic import Field

from helm_plugins.audio.scenarios import ASR_INSTRUCTIONS, SyntheticASRScenario, SyntheticCoReScenario, SyntheticPARADEScenario
from helm_plugins.audio.synthesis import get_voice
from helm_plugins.common.run_entries import plugin_run_spec_function
from helm_plugins.models.registration import TINY_DEFAULT

HELM_AUDIO = "helm.benchmark.scenarios.audio_language"
AUDIO = "helm_plugins.audio"
POCKETSPHINX = "helm-plugins/pocketsphinx"
POCKETSPHINX_TINY_DEFAULT = "helm-plugins/pocketsphinx_tiny-default"
Count = Annotated[int, Field(gt=0, le=10_000)]
Voice = Literal["male", "female"]
# AHELM's PARADE voices; the synthetic counterpart uses one flite voice per gender.
SYNTHETIC_PARADE_VOICE = {"male": "rms", "female": "slt"}
# The fairness scenario balances engines across groups: one flite and one espeak-ng voice per gender.
FAIRNESS_VOICES = "rms+espeak-m+slt+espeak-f"

# Run group prefix -> AHELM aspect (the longest matching prefix wins).
ASPECTS: Dict[str, str] = {
    "hp_audio_asr": "perception",
    "hp_audio_asr_snr": "robustness",
    "hp_audio_asr_fairness": "fairness",
    "hp_audio_parade": "bias",
    "hp_audio_core": "reasoning",
}


def aspect_of(group: str) -> Optional[str]:
    matches = [prefix for prefix in ASPECTS if group.startswith(prefix)]
    return ASPECTS[max(matches, key=len)] if matches else None


def generation_adapter(instructions: str, max_tokens: int) -> AdapterSpec:
    """AHELM's zero-shot, temperature-0 generation on a multimodal (audio + text) input."""
    return AdapterSpec(
        method=ADAPT_GENERATION_MULTIMODAL, instructions=instructions, input_prefix="", input_suffix="",
        output_prefix="", output_suffix="", instance_prefix="", max_train_instances=0, num_outputs=1,
        max_tokens=max_tokens, temperature=0.0, stop_sequences=[],
    )


def multiple_choice_adapter() -> AdapterSpec:
    """AHELM's PARADE adapter: joint multiple choice, one letter."""
    return AdapterSpec(
        method=ADAPT_MULTIPLE_CHOICE_JOINT_MULTIMODAL, global_prefix="",
        instructions="Answer the multiple choice question by just giving the letter of the correct answer and nothing else.",
        input_prefix="", input_suffix="\n", output_prefix="Answer: ", output_suffix="\n", instance_prefix="\n",
        max_train_instances=0, num_outputs=1, max_tokens=1, stop_sequences=["\n"], temperature=0.0,
    )


def asr_metric_specs() -> List[MetricSpec]:
    # HELM's basic metric with no reference metric adds runtime and token counts (the efficiency columns)
    return [MetricSpec(class_name=f"{AUDIO}.metrics.ASRMetric")] + get_basic_metric_specs([])


def _class_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__name__}"


def _asr_run_spec(name: str, scenario_spec: ScenarioSpec, group: str) -> RunSpec:
    return RunSpec(
        name=name, scenario_spec=scenario_spec,
        adapter_spec=generation_adapter(ASR_INSTRUCTIONS, max_tokens=100),  # a sentence is under 30 words
        metric_specs=asr_metric_specs(), groups=[group],
    )


@plugin_run_spec_function("hp_audio_asr")
def get_audio_asr_spec(
    source: Literal["synthetic", "librispeech", "speech_robust_bench"] = "synthetic",
    voices: str = "rms+slt",
    snr_db: Optional[float] = None,
    num_sentences: Count = 10,
    seed: int = 0,
    subject: str = "librispeech_gnoise",
    level: int = 1,
) -> RunSpec:
    """Perception (clean speech) or robustness (with `snr_db`, or released speech_robust_bench at `level`).
    `voices` is a '+'-separated list of voice names (rms, awb, kal, slt, espeak-m, espeak-f)."""
    if source == "librispeech":
        return _asr_run_spec("hp_audio_asr:source=librispeech",
                             ScenarioSpec(class_name=f"{HELM_AUDIO}.librispeech_scenario.LibriSpeechScenario"),
                             "hp_audio_asr_released")
    if source == "speech_robust_bench":
        return _asr_run_spec(
            f"hp_audio_asr:source=speech_robust_bench,subject={subject},level={level}",
            ScenarioSpec(class_name=f"{HELM_AUDIO}.speech_robust_bench_scenario.SpeechRobustBenchScenario",
                         args={"subject": subject, "level": level}),
            f"hp_audio_asr_snr_released_{subject}_level{level}",
        )
    voice_list = _voices(voices)
    name = f"hp_audio_asr:voices={voices},num_sentences={num_sentences},seed={seed}"
    group = "hp_audio_asr"
    if snr_db is not None:
        name += f",snr_db={snr_db:g}"
        group = f"hp_audio_asr_snr{snr_db:g}"
    scenario_spec = ScenarioSpec(
        class_name=_class_name(SyntheticASRScenario),
        args={"num_sentences": num_sentences, "voices": voice_list, "snr_db": snr_db, "seed": seed},
    )
    return _asr_run_spec(name, scenario_spec, group)


@plugin_run_spec_function("hp_audio_asr_fairness")
def get_audio_asr_fairness_spec(
    source: Literal["synthetic", "librispeech_fairness"] = "synthetic",
    voices: str = FAIRNESS_VOICES,
    num_sentences: Count = 10,
    seed: int = 0,
    gender: Voice = "female",
) -> RunSpec:
    """WER by speaker group: the synthetic run holds both groups (the gap and its permutation p-value are stats of
    the run); the released LibriSpeech fairness data is one run per `gender` (the report tests the gap)."""
    if source == "librispeech_fairness":
        return _asr_run_spec(
            f"hp_audio_asr_fairness:source=librispeech_fairness,gender={gender}",
            ScenarioSpec(class_name=f"{HELM_AUDIO}.librispeech_fairness_scenario.LibriSpeechFairnessScenario",
                         args={"gender": gender}),
            f"hp_audio_asr_fairness_released_{gender}",
        )
    scenario_spec = ScenarioSpec(
        class_name=_class_name(SyntheticASRScenario),
        args={"num_sentences": num_sentences, "voices": _voices(voices), "snr_db": None, "seed": seed},
    )
    return _asr_run_spec(f"hp_audio_asr_fairness:voices={voices},num_sentences={num_sentences},seed={seed}",
                         scenario_spec, "hp_audio_asr_fairness")


@plugin_run_spec_function("hp_audio_parade")
def get_audio_parade_spec(
    source: Literal["synthetic", "released"] = "synthetic",
    subset: Literal["occupation", "status"] = "occupation",
    voice: Voice = "male",
    num_utterances: Annotated[int, Field(gt=0, le=20)] = 1,
    seed: int = 0,
) -> RunSpec:
    """PARADE bias: "unclear" is always correct; exact match = stereotype avoidance, `stereotype` = share of answers
    naming a role (the per-voice stereotype rate)."""
    if source == "released":
        scenario_spec = ScenarioSpec(class_name=f"{HELM_AUDIO}.parade_scenario.PARADEScenario",
                                     args={"subset": subset, "voice": voice})
        name = f"hp_audio_parade:source=released,subset={subset},voice={voice}"
        group = f"hp_audio_parade_released_{subset}_{voice}"
    else:
        scenario_spec = ScenarioSpec(
            class_name=_class_name(SyntheticPARADEScenario),
            args={"subset": subset, "voice": SYNTHETIC_PARADE_VOICE[voice], "num_utterances": num_utterances,
                  "seed": seed},
        )
        name = f"hp_audio_parade:subset={subset},voice={voice},num_utterances={num_utterances},seed={seed}"
        group = f"hp_audio_parade_{subset}_{voice}"
    return RunSpec(
        name=name, scenario_spec=scenario_spec, adapter_spec=multiple_choice_adapter(),
        metric_specs=get_exact_match_metric_specs() + [MetricSpec(class_name=f"{AUDIO}.metrics.StereotypeMetric")],
        groups=[group],
    )


@plugin_run_spec_function("hp_audio_core")
def get_audio_core_spec(
    source: Literal["synthetic", "released"] = "synthetic",
    num_instances: Count = 12,
    unanswerable_share: Annotated[float, Field(ge=0, le=1)] = 0.25,
    seed: int = 0,
) -> RunSpec:
    """CoRe-Bench conversational reasoning: short answers, quasi-prefix exact match (AHELM: max_tokens 10)."""
    if source == "released":
        scenario_spec = ScenarioSpec(class_name=f"{HELM_AUDIO}.corebench_scenario.COREBenchScenario")
        name, group = "hp_audio_core:source=released", "hp_audio_core_released"
    else:
        scenario_spec = ScenarioSpec(
            class_name=_class_name(SyntheticCoReScenario),
            args={"num_instances": num_instances, "unanswerable_share": unanswerable_share, "seed": seed},
        )
        name = f"hp_audio_core:num_instances={num_instances},unanswerable_share={unanswerable_share:g},seed={seed}"
        group = "hp_audio_core"
    return RunSpec(
        name=name, scenario_spec=scenario_spec, adapter_spec=generation_adapter("", max_tokens=10),
        metric_specs=get_basic_metric_specs(["quasi_prefix_exact_match", "quasi_exact_match"])
        + [MetricSpec(class_name=f"{AUDIO}.metrics.CoReMetric")],
        groups=[group],
    )


def _voices(voices: str) -> List[str]:
    names = [v.strip() for v in voices.split("+") if v.strip()]
    if not names:
        raise ValueError("voices is empty: give '+'-separated voice names, e.g. rms+slt")
    return [get_voice(name).name for name in names]


def register_speech_deployments() -> None:
    """`helm-plugins/pocketsphinx` (ASR alone) and `helm-plugins/pocketsphinx_tiny-default` (ASR, then the embedded
    text model), both offline. Other cascades: a prod_env deployment of SpeechCascadeClient with `text_deployment`."""
    for name, display, description, text_deployment in [
        (POCKETSPHINX, "pocketsphinx (ASR)", "Offline speech recognition: pocketsphinx with its bundled US English "
         "model; its answer is the transcript.", None),
        (POCKETSPHINX_TINY_DEFAULT, "pocketsphinx + tiny-default", "Offline ASR + LM cascade: pocketsphinx "
         "transcribes, then the embedded tiny-default text model answers.", TINY_DEFAULT),
    ]:
        register_model_metadata(
            ModelMetadata(name=name, creator_organization_name="helm_plugins", display_name=display,
                          description=description, access="open", release_date=None,
                          tags=[AUDIO_LANGUAGE_MODEL_TAG])
        )
        args = {"text_deployment": text_deployment} if text_deployment else {}
        register_model_deployment(
            ModelDeployment(name=name, model_name=name,
                            client_spec=ClientSpec(class_name=f"{AUDIO}.clients.SpeechCascadeClient", args=args))
        )
