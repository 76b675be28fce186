"""The provenance tests as HELM metrics. The query test: per-example log loss of the suspect (from the
language-modelling adapter's prompt log-probabilities), then Spearman against the transcript's training
positions, minus a reference's losses. The observational tests read texts the suspect sampled: the n-gram test
matches them in the transcript's documents, the reshuffle test scores them under Alice's real model and her
reshuffled retrainings.

The reference is a JSONL loss file ({"id", "loss"}) or the name of another model whose `hp_provenance` run on
the same transcript is already in the suite (run it first: its per-instance `provenance_log_loss` is read). Both
are checked when the run starts, before the model scores any example.
"""

import json
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

from helm.benchmark.adaptation.scenario_state import ScenarioState
from helm.benchmark.metrics.basic_metrics import compute_language_modeling_metrics
from helm.benchmark.metrics.metric import MetricInterface, MetricResult, PerInstanceStats
from helm.benchmark.metrics.metric_name import MetricName
from helm.benchmark.metrics.metric_service import MetricService
from helm.benchmark.metrics.statistic import Stat

from helm_plugins.statistics.provenance.hypothesis_tests import query_test, reshuffle_test, word_ngram_test
from helm_plugins.statistics.provenance.scenarios import transcript_path
from helm_plugins.statistics.provenance.transcript import read_checkpoint_manifest, read_losses, read_transcript

LOG_LOSS = "provenance_log_loss"


def _stat(name: str, value: float, split: str) -> Stat:
    return Stat(MetricName(name, split=split)).add(value)


def reference_losses_from_suite(suite_dir: Path, model: str, transcript_name: str) -> Dict[str, float]:
    """Per-instance log losses of `model`'s hp_provenance run on the same transcript in `suite_dir`."""
    model_dir_name = model.replace("/", "_")
    for run_dir in sorted(suite_dir.glob("hp_provenance:*")):
        spec_path = run_dir / "run_spec.json"
        if not spec_path.is_file() or not run_dir.name.endswith(f"model={model_dir_name}"):
            continue
        spec = json.loads(spec_path.read_text())
        if spec["scenario_spec"]["args"].get("transcript") != transcript_name:
            continue
        losses = {}
        for instance in json.loads((run_dir / "per_instance_stats.json").read_text()):
            for stat in instance["stats"]:
                if stat["name"]["name"] == LOG_LOSS:
                    losses[instance["instance_id"]] = stat["mean"]
        return losses
    raise ValueError(
        f"reference {model!r}: no hp_provenance run of it on transcript {transcript_name!r} in {suite_dir}; "
        f"run 'hp_provenance:transcript={transcript_name},model={model}' first, or give a JSONL loss file"
    )


class ProvenanceQueryMetric(MetricInterface):
    def __init__(self, transcript: str, reference: str = "", permutations: int = 999, seed: int = 0):
        self.transcript = transcript
        self.reference = reference
        self.permutations = permutations
        self.seed = seed

    @staticmethod
    def check_before_run(args: dict, suite_dir: Path) -> None:
        """The reference must be readable before any example is scored: its loss file, or its run in the suite."""
        reference = args.get("reference", "")
        if reference.endswith(".jsonl"):
            read_losses(reference)
        elif reference:
            reference_losses_from_suite(suite_dir, reference, args["transcript"])

    def __repr__(self):
        return f"ProvenanceQueryMetric(reference={self.reference or 'none'})"

    def evaluate(
        self, scenario_state: ScenarioState, metric_service: MetricService, eval_cache_path: str, parallelism: int
    ) -> MetricResult:
        logprob: Dict[str, float] = defaultdict(float)
        tokens: Dict[str, int] = defaultdict(int)
        positions: Dict[str, float] = {}
        split: Dict[str, str] = {}
        failed: List[str] = []
        for request_state in scenario_state.request_states:
            instance = request_state.instance
            if request_state.result is None or not request_state.result.success:
                failed.append(instance.id)
                continue
            stats = {s.name.name: s.sum for s in compute_language_modeling_metrics(
                scenario_state.adapter_spec, request_state, metric_service)}
            logprob[instance.id] += stats["logprob"]
            tokens[instance.id] += int(stats["num_perplexity_tokens"])
            positions[instance.id] = float(instance.extra_data["train_position"])
            split[instance.id] = instance.split
        losses = {i: -logprob[i] / tokens[i] for i in positions if tokens[i] > 0 and i not in failed}
        per_instance = [
            PerInstanceStats(i, None, 0, [_stat(LOG_LOSS, loss, split[i]), _stat("num_perplexity_tokens", tokens[i], split[i])])
            for i, loss in losses.items()
        ]
        ids = list(losses)
        reference = None
        if self.reference:
            if self.reference.endswith(".jsonl"):
                reference_losses = read_losses(self.reference)
            else:
                reference_losses = reference_losses_from_suite(Path(eval_cache_path).parent, self.reference, self.transcript)
            missing = [i for i in ids if i not in reference_losses]
            if missing:
                raise ValueError(f"reference {self.reference!r}: no loss for {len(missing)} examples, e.g. {missing[:3]}")
            reference = [reference_losses[i] for i in ids]
        result = query_test([positions[i] for i in ids], [losses[i] for i in ids], reference, self.permutations, self.seed)
        test_split = next(iter(split.values()))
        aggregated = [
            _stat("provenance_spearman", result.spearman, test_split),
            _stat("provenance_log10_p", result.log10_p, test_split),
            _stat("provenance_z", result.z, test_split),
            _stat("num_examples", result.n, test_split),
            _stat("failed_requests", len(failed), test_split),
        ]
        permutation_p = Stat(MetricName("provenance_permutation_p", split=test_split))  # no value without permutations
        aggregated.append(permutation_p.add(result.permutation_p) if result.permutation_p is not None else permutation_p)
        aggregated.append(_stat(LOG_LOSS, sum(losses.values()) / len(losses), test_split))
        return MetricResult(aggregated_stats=aggregated, per_instance_stats=per_instance)


def _completions(scenario_state: ScenarioState) -> Tuple[List[Tuple[str, str]], int, str]:
    """(prompt, completion) of every successful request with a non-blank completion, the number of other
    requests (failed or blank), and the split."""
    pairs, failed = [], 0
    for request_state in scenario_state.request_states:
        result = request_state.result
        if result is None or not result.success or not result.completions or not result.completions[0].text.strip():
            failed += 1
            continue
        pairs.append((request_state.request.prompt, result.completions[0].text))
    split = scenario_state.request_states[0].instance.split if scenario_state.request_states else "test"
    if not pairs:
        raise ValueError(f"none of the suspect's {failed} requests returned a non-blank text")
    return pairs, failed, split


class ProvenanceNgramMetric(MetricInterface):
    """The observational n-gram (partition) test of the suspect's sampled texts against Alice's transcript."""

    def __init__(self, transcript: str, bins: int = 20, permutations: int = 999, seed: int = 0):
        self.transcript = transcript
        self.bins = bins
        self.permutations = permutations
        self.seed = seed

    @staticmethod
    def check_before_run(args: dict, suite_dir: Path) -> None:
        read_transcript(transcript_path(args["transcript"]))

    def evaluate(
        self, scenario_state: ScenarioState, metric_service: MetricService, eval_cache_path: str, parallelism: int
    ) -> MetricResult:
        pairs, failed, split = _completions(scenario_state)
        examples = read_transcript(transcript_path(self.transcript))
        result = word_ngram_test([e.position for e in examples], [e.text for e in examples],
                                 [completion for _, completion in pairs], self.bins, self.permutations, self.seed)
        return MetricResult(aggregated_stats=[
            _stat("partition_p", result.permutation_p, split), _stat("partition_spearman", result.spearman, split),
            _stat("partition_positions", result.positions, split), _stat("num_texts", len(pairs), split),
            _stat("failed_requests", failed, split),
        ], per_instance_stats=[])


def reshuffle_scores(checkpoints: Sequence[Path], pairs: Sequence[Tuple[str, str]]) -> List[float]:
    """S_k for each checkpoint: the summed log-probability of the completions given their prompts (prompts excluded),
    each text tokenized by the checkpoint's own tokenizer."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from helm_plugins.statistics.provenance.demo import token_logprobs

    scores = []
    for folder in checkpoints:
        tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
        model = AutoModelForCausalLM.from_pretrained(folder, local_files_only=True).eval()
        prompts = [tokenizer.encode(prompt) or [tokenizer.eos_token_id] for prompt, _ in pairs]
        texts = [prompt + tokenizer.encode(completion) for prompt, (_, completion) in zip(prompts, pairs)]
        pad_id = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else 0
        values = token_logprobs(model, texts, pad_id)
        scores.append(float(sum(v[len(prompt) - 1 :].sum() for v, prompt in zip(values, prompts))))
    return scores


class ProvenanceReshuffleMetric(MetricInterface):
    """The observational reshuffle test: the suspect's sampled texts scored under Alice's real model and under
    the retrainings of her last phase on reshuffled orders (local checkpoints listed in a manifest)."""

    def __init__(self, checkpoints: str):
        self.checkpoints = checkpoints

    @staticmethod
    def check_before_run(args: dict, suite_dir: Path) -> None:
        read_checkpoint_manifest(args["checkpoints"])

    def evaluate(
        self, scenario_state: ScenarioState, metric_service: MetricService, eval_cache_path: str, parallelism: int
    ) -> MetricResult:
        pairs, failed, split = _completions(scenario_state)
        original, reshuffles = read_checkpoint_manifest(self.checkpoints)
        result = reshuffle_test(reshuffle_scores([original, *reshuffles], pairs))
        return MetricResult(aggregated_stats=[
            _stat("reshuffle_rank_p", result.rank_p, split), _stat("reshuffle_z", result.z, split),
            _stat("reshuffle_k", result.k, split), _stat("num_texts", len(pairs), split),
            _stat("failed_requests", failed, split),
        ], per_instance_stats=[])
