"""The soft classifier of a HELM deployment and its two loss-fairness axes (arXiv 2509.05627).

With HELM's multiple-choice-separate adapter each answer is scored as a continuation of the prompt; the
soft score is f = P(positive) / (P(positive) + P(negative)) from the answers' log-probabilities. Stats:
`bce` (binary cross-entropy of f against the label), `dp_gap_soft` (E[f | A = 0] - E[f | A = 1]),
`exact_match` (the likelier answer is right), `label_rate` (share of positive labels); per instance `soft_score`. An instance with a failed request
is counted in `failed_requests` and left out.
"""

from collections import defaultdict
from typing import Dict, List

import numpy as np
from helm.benchmark.adaptation.scenario_state import ScenarioState
from helm.benchmark.metrics.metric import MetricInterface, MetricResult, PerInstanceStats
from helm.benchmark.metrics.metric_name import MetricName
from helm.benchmark.metrics.metric_service import MetricService
from helm.benchmark.metrics.statistic import Stat

from helm_plugins.statistics.fairness_frontier.frontier import bce, soft_dp_gap


def _stat(name: str, value: float, split: str) -> Stat:
    return Stat(MetricName(name, split=split)).add(value)


def answer_logprob(tokens, answer: str) -> float:
    """Log-probability of the prompt's last tokens that cover `answer` (a token may carry its leading space)."""
    total, length = 0.0, 0
    for token in reversed(tokens):
        if length >= len(answer):
            break
        total += token.logprob
        length += len(token.text)
    if length < len(answer):
        raise ValueError(f"the prompt's tokens do not cover the answer {answer!r}")
    return total


class FairnessClassificationMetric(MetricInterface):
    def __repr__(self):
        return "FairnessClassificationMetric()"

    def evaluate(
        self, scenario_state: ScenarioState, metric_service: MetricService, eval_cache_path: str, parallelism: int
    ) -> MetricResult:
        logprobs: Dict[str, Dict[int, float]] = defaultdict(dict)
        instances, failed = {}, set()
        for request_state in scenario_state.request_states:
            instance = request_state.instance
            instances[instance.id] = instance
            result = request_state.result
            if result is None or not result.success or not result.completions:
                failed.add(instance.id)
                continue
            answer = instance.references[request_state.reference_index].output.text
            logprobs[instance.id][request_state.reference_index] = answer_logprob(result.completions[0].tokens, answer)
        scored = [i for i in instances if i not in failed and len(logprobs[i]) == 2]
        if not scored:  # every request failed (e.g. a deployment without prompt log-probabilities): record it
            split = next(iter(instances.values())).split if instances else "test"
            return MetricResult([_stat("failed_requests", len(failed), split), _stat("num_instances", 0, split)], [])
        scores = np.array([1 / (1 + np.exp(logprobs[i][1] - logprobs[i][0])) for i in scored])  # P(positive)
        labels = np.array([instances[i].extra_data["label"] for i in scored])
        groups = np.array([instances[i].extra_data["group"] for i in scored])
        split = instances[scored[0]].split
        per_instance: List[PerInstanceStats] = [
            PerInstanceStats(i, None, 0, [_stat("soft_score", float(f), split), _stat("bce", bce([f], [y]), split),
                                          _stat("exact_match", float((f >= 0.5) == bool(y)), split)])
            for i, f, y in zip(scored, scores, labels)
        ]
        aggregated = [
            _stat("bce", bce(scores, labels), split),
            _stat("exact_match", float(np.mean((scores >= 0.5) == labels.astype(bool))), split),
            _stat("failed_requests", len(failed), split),
            _stat("num_instances", len(scored), split),
            _stat("label_rate", float(labels.mean()), split),
        ]
        if len(set(groups.tolist())) == 2:
            aggregated.append(_stat("dp_gap_soft", soft_dp_gap(scores, groups), split))
        return MetricResult(aggregated_stats=aggregated, per_instance_stats=per_instance)
