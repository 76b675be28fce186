"""HELM stats of an MLE task run, per task, from the `mle` annotation written by the executor.

normalized_score: (s - s_const) / (s_gbm - s_const), oriented so higher is better (0 = the constant baseline,
1 = the gradient-boosting reference; an invalid or missing submission counts as 0, and is counted in
valid_submission); valid_submission; beats_constant / beats_reference (valid and strictly better than the
constant baseline / at least as good as the reference); raw_score (the task's own metric, per task: its mean
over tasks mixes metrics); error (the agent failed: timeout, memory, crash, no output); wall_time_s; steps.
"""

from typing import List

from helm.benchmark.adaptation.adapter_spec import AdapterSpec
from helm.benchmark.adaptation.request_state import RequestState
from helm.benchmark.metrics.metric import Metric, MetricMetadata
from helm.benchmark.metrics.metric_name import MetricName
from helm.benchmark.metrics.metric_service import MetricService
from helm.benchmark.metrics.statistic import Stat

METADATA = [
    ("normalized_score", "Normalised score", "(s - constant) / (gradient boosting - constant); invalid = 0.", False),
    ("valid_submission", "Valid submission", "Share of tasks with a submission that passed validation.", False),
    ("beats_constant", "Beats constant", "Share of tasks where the submission beats the constant baseline.", False),
    ("beats_reference", "Beats reference", "Share of tasks where it matches or beats the gradient-boosting reference.", False),
    ("raw_score", "Raw score", "The task's own metric (per task; a mean over tasks mixes metrics).", None),
    ("error", "Error rate", "Share of tasks where the agent failed (timeout, memory, crash, no output).", True),
    ("wall_time_s", "Wall time (s)", "Seconds per task in the sandbox.", True),
    ("steps", "Steps", "Agent steps per task.", None),
]


def _stat(name: str, value: float) -> Stat:
    return Stat(MetricName(name)).add(float(value))


class MLESubmissionMetric(Metric):
    def evaluate_generation(self, adapter_spec: AdapterSpec, request_state: RequestState, metric_service: MetricService,
                            eval_cache_path: str) -> List[Stat]:
        record = (request_state.annotations or {})["mle"]
        valid, normalized = bool(record["valid"]), record["normalized"]
        oriented = 1 if record["higher_is_better"] else -1
        stats = [
            _stat("normalized_score", normalized if valid and normalized is not None else 0.0),
            _stat("valid_submission", valid),
            _stat("beats_constant", valid and oriented * (record["raw_score"] - record["constant_score"]) > 0),
            _stat("beats_reference", valid and oriented * (record["raw_score"] - record["gbm_score"]) >= 0),
            _stat("error", bool(record["error_kind"])),
            _stat("wall_time_s", record["wall_s"]),
            _stat("steps", record["steps"]),
        ]
        if valid:
            stats.append(_stat("raw_score", record["raw_score"]))
        return stats

    def get_metadata(self) -> List[MetricMetadata]:
        return [MetricMetadata(name=n, display_name=d, description=text, lower_is_better=lower, group="mle_smith")
                for n, d, text, lower in METADATA]
