"""Entropy calibration as HELM metrics, over a pair of runs on the same documents.

`part=generation`: per step t, the negative log-probability of each sampled token. Its mean over the model's own
samples is an unbiased estimate of the generation entropy H_t whenever the deployment reports the log-probability
under the distribution it samples from (HELM's Hugging Face client does, at any temperature; API models at
temperature 1). `part=loss`: per step t, the negative log-probability of the t-th token of the human continuation
(the language-modelling adapter's prompt log-probabilities), L_t.

Per-step means are stats named `entropy_at_step` / `log_loss_at_step` with the step in `sub_split`. The loss run
looks up the generation run of the same model at temperature 1 on the same documents in the suite (run it first)
and adds EntCE = mean over steps of (H_t - L_t), its standard error (prompts as the unit: the samples of a
document and its human continuation share it) and its trend over steps.
"""

import json
import math
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np
from helm.benchmark.adaptation.scenario_state import ScenarioState
from helm.benchmark.metrics.metric import MetricInterface, MetricResult, PerInstanceStats
from helm.benchmark.metrics.metric_name import MetricName
from helm.benchmark.metrics.metric_service import MetricService
from helm.benchmark.metrics.statistic import Stat
from helm.common.hierarchical_logger import hwarn

from helm_plugins.statistics.entropy_calibration.measures import entce_from_curves

RUN_SPEC_NAME = "hp_entce"
PER_STEP = {"generation": "entropy_at_step", "loss": "log_loss_at_step"}
PER_SEQUENCE = {"generation": "mean_entropy", "loss": "mean_log_loss"}


def _stat(name: str, value: float, split: str, sub_split: Optional[str] = None) -> Stat:
    return Stat(MetricName(name, split=split, sub_split=sub_split)).add(value)


def step_label(step: int) -> str:
    return f"step {step:04d}"


def end_of_text_token(model_deployment: str) -> Optional[str]:
    """The deployment's end-of-text token text (a Hugging Face client pads finished samples with it)."""
    from helm.benchmark.model_deployment_registry import get_model_deployment
    from helm.benchmark.tokenizer_config_registry import get_tokenizer_config

    try:
        deployment = get_model_deployment(model_deployment)
    except ValueError:
        return None
    config = get_tokenizer_config(deployment.tokenizer_name) if deployment.tokenizer_name else None
    return config.end_of_text_token if config else None


def truncating_client(model_deployment: str) -> bool:
    """Whether the deployment is served by HELM's own Hugging Face client, whose sampling goes through
    transformers' default top-k of 50: its sampled tokens' log-probabilities are those of the truncated
    distribution, and their mean underestimates the generation entropy (this package's local-checkpoint client
    samples from the full distribution)."""
    from helm.benchmark.model_deployment_registry import get_model_deployment

    try:
        return get_model_deployment(model_deployment).client_spec.class_name == "helm.clients.huggingface_client.HuggingFaceClient"
    except ValueError:
        return False


def continuation_token_losses(tokens, continuation: str) -> List[float]:
    """Negative log-probabilities of the prompt tokens that make up `continuation`, the end of the prompt:
    tokens are taken from the end while their texts fit in it (a token straddling the cut is left out)."""
    taken, length = [], 0
    for token in reversed(tokens):
        length += len(token.text)
        if length > len(continuation):
            break
        taken.append(-token.logprob)
    return taken[::-1]


class EntropyCalibrationMetric(MetricInterface):
    def __init__(self, part: str, steps: int, source: str, documents: int, prompt_words: int, seed: int):
        if part not in PER_STEP:
            raise ValueError(f"part must be 'generation' or 'loss', got {part!r}")
        self.part = part
        self.steps = steps
        # the scenario's arguments besides `part`: a partner run must have cut the same documents
        self.documents_args = {"source": source, "documents": documents, "prompt_words": prompt_words,
                               "continuation_words": steps, "seed": seed}

    def __repr__(self):
        return f"EntropyCalibrationMetric(part={self.part}, steps={self.steps})"

    def _sequences(self, scenario_state: ScenarioState) -> Tuple[Dict[str, List[List[float]]], List[str]]:
        """Per instance: its sequences of per-step negative log-probabilities (samples, or the continuation)."""
        stop = end_of_text_token(scenario_state.adapter_spec.model_deployment) if self.part == "generation" else None
        sequences: Dict[str, List[List[float]]] = {}
        failed: List[str] = []
        for request_state in scenario_state.request_states:
            instance = request_state.instance
            result = request_state.result
            if result is None or not result.success or not result.completions:
                failed.append(instance.id)
                continue
            if self.part == "generation":
                rows = []
                for completion in result.completions:
                    row = []
                    for token in completion.tokens[: self.steps]:
                        if stop and token.text == stop:
                            break
                        row.append(-token.logprob)
                    rows.append(row)
                sequences[instance.id] = rows
            else:
                # long documents are split into windows: the continuation is at the end of the last one
                row = continuation_token_losses(result.completions[0].tokens, instance.extra_data["continuation"])
                sequences[instance.id] = [row[: self.steps]]
        return sequences, failed

    def evaluate(
        self, scenario_state: ScenarioState, metric_service: MetricService, eval_cache_path: str, parallelism: int
    ) -> MetricResult:
        sequences, failed = self._sequences(scenario_state)
        if self.part == "generation" and truncating_client(scenario_state.adapter_spec.model_deployment):
            hwarn(f"{RUN_SPEC_NAME}: {scenario_state.adapter_spec.model_deployment} is served by HELM's Hugging Face client, "
                  "which samples from the top 50 tokens only: the entropy estimate is that of the truncated distribution "
                  "and EntCE is biased low (serve the checkpoint with helm_plugins.models.clients.LocalCheckpointClient)")
        split = scenario_state.request_states[0].instance.split if scenario_state.request_states else "test"
        rows = [row for rows in sequences.values() for row in rows if row]
        non_finite = [i for i, rows in sequences.items() if any(not math.isfinite(x) for row in rows for x in row)]
        if non_finite:
            raise ValueError(f"{RUN_SPEC_NAME}: non-finite log-probabilities for instances {non_finite[:5]}")
        if not rows:
            raise ValueError(f"{RUN_SPEC_NAME}: no {self.part} tokens in any of {len(scenario_state.request_states)} requests "
                             f"({len(failed)} failed)")
        matrix = np.full((len(rows), self.steps), np.nan)
        for r, row in enumerate(rows):
            matrix[r, : len(row)] = row
        active = ~np.isnan(matrix).all(axis=0)
        per_step = np.nanmean(matrix[:, active], axis=0)
        name = PER_SEQUENCE[self.part]
        per_instance = [
            PerInstanceStats(i, None, 0, [_stat(name, float(np.mean([x for row in rows for x in row])), split),
                                          _stat("num_tokens_scored", sum(map(len, rows)), split)])
            for i, rows in sequences.items() if any(rows)
        ]
        aggregated = [
            _stat(name, float(per_step.mean()), split),
            _stat("steps_with_tokens", int(active.sum()), split),
            _stat("failed_requests", len(failed), split),
            *[_stat(PER_STEP[self.part], float(v), split, step_label(t + 1)) for t, v in enumerate(per_step)],
        ]
        if self.part == "loss":
            aggregated += self._entce(scenario_state, Path(eval_cache_path).parent, per_step,
                                      {s.instance_id: s.stats[0].mean for s in per_instance}, split)
        return MetricResult(aggregated_stats=aggregated, per_instance_stats=per_instance)

    def _entce(self, scenario_state: ScenarioState, suite: Path, log_loss_per_step, per_instance_log_loss, split) -> List[Stat]:
        partner = find_partner_run(suite, scenario_state.adapter_spec.model, self.documents_args)
        if partner is None:
            hwarn(f"{RUN_SPEC_NAME}: no part=generation run at temperature 1 of {scenario_state.adapter_spec.model} on "
                  f"the same documents in {suite}; EntCE is left out (run the generation entry first)")
            return []
        entropy_per_step, per_instance_entropy = read_curve(partner, "generation")
        result = entce_from_curves(entropy_per_step, log_loss_per_step, per_instance_entropy, per_instance_log_loss)
        return [_stat("entce", result.entce, split), _stat("entce_stderr", result.entce_stderr, split),
                _stat("slope_per_step", result.slope_per_step, split), _stat("mean_entropy", result.mean_entropy, split)]


def read_curve(run_dir: Path, part: str) -> Tuple[List[float], Dict[str, float]]:
    """(per-step means in step order, {instance id: mean over its sequences}) of a finished hp_entce run."""
    per_step = sorted(
        (s["name"]["sub_split"], s["mean"]) for s in json.loads((run_dir / "stats.json").read_text())
        if s["name"]["name"] == PER_STEP[part] and s["name"].get("sub_split")
    )
    per_instance = {
        row["instance_id"]: stat["mean"] for row in json.loads((run_dir / "per_instance_stats.json").read_text())
        for stat in row["stats"] if stat["name"]["name"] == PER_SEQUENCE[part]
    }
    return [v for _, v in per_step], per_instance


def find_partner_run(suite: Path, model: str, documents_args: dict) -> Optional[Path]:
    """The finished generation run at temperature 1 of `model` on the same documents (scenario arguments
    besides `part`)."""
    for spec_path in sorted(Path(suite).glob(f"{RUN_SPEC_NAME}:part=generation,*/run_spec.json")):
        spec = json.loads(spec_path.read_text())
        args = {k: v for k, v in spec["scenario_spec"]["args"].items() if k != "part"}
        if spec["adapter_spec"]["model"] == model and spec["adapter_spec"].get("temperature") == 1.0 \
                and args == documents_args and (spec_path.parent / "stats.json").is_file():
            return spec_path.parent
    return None
