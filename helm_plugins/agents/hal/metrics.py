"""HELM stats of a HAL run, per task, from the `hal` annotation written by the executor (and the judge).

accuracy (the benchmark's score), accuracy_level<k> (GAIA-style levels), cost_per_task_usd (only when known) and
cost_unknown, prompt/completion/total tokens, wall_time_s, steps, error (any failure: timeout, memory, crash,
malformed or missing output, sandbox, model calls), and flag_<name> for each trace flag.
"""

from typing import List

from helm.benchmark.adaptation.adapter_spec import AdapterSpec
from helm.benchmark.adaptation.request_state import RequestState
from helm.benchmark.metrics.metric import Metric, MetricMetadata
from helm.benchmark.metrics.metric_name import MetricName
from helm.benchmark.metrics.metric_service import MetricService
from helm.benchmark.metrics.statistic import Stat

from helm_plugins.agents.hal.flags import FLAGS

METADATA = [
    ("accuracy", "Accuracy", "Share of tasks solved (benchmark score, pass@1 for programs).", False),
    ("cost_per_task_usd", "Cost per task (USD)", "Mean dollar cost of the agent's model calls per task (known prices).", True),
    ("cost_unknown", "Cost unknown", "Share of tasks whose cost is unknown (a model without a price).", True),
    ("total_tokens", "Tokens per task", "Prompt plus completion tokens per task, all models.", True),
    ("wall_time_s", "Wall time (s)", "Seconds per task, sandbox start to scoring.", True),
    ("steps", "Steps", "Agent steps per task (reported by the agent, else model plus tool calls).", None),
    ("error", "Error rate", "Share of tasks that failed (timeout, memory, crash, bad output, sandbox, model calls).", True),
] + [(f"flag_{f}", f"Flag: {f.replace('_', ' ')}", f"Share of tasks whose trace shows {f.replace('_', ' ')}.", True)
     for f in FLAGS]


def _stat(name: str, value: float) -> Stat:
    return Stat(MetricName(name)).add(float(value))


class HALMetric(Metric):
    def evaluate_generation(self, adapter_spec: AdapterSpec, request_state: RequestState, metric_service: MetricService,
                            eval_cache_path: str) -> List[Stat]:
        record = (request_state.annotations or {})["hal"]
        usage = record.get("usage") or {}
        prompt = sum(u["prompt_tokens"] for u in usage.values())
        completion = sum(u["completion_tokens"] for u in usage.values())
        stats = [
            _stat("accuracy", record["score"]),
            _stat(f"accuracy_level{record.get('level', 1)}", record["score"]),
            _stat("cost_unknown", record["cost_usd"] is None),
            _stat("prompt_tokens", prompt),
            _stat("completion_tokens", completion),
            _stat("total_tokens", prompt + completion),
            _stat("wall_time_s", record["wall_s"]),
            _stat("steps", record["steps"]),
            _stat("error", bool(record["error_kind"])),
            _stat("tool_calls", record["tool_calls"]),
            _stat("lm_calls", record["lm_calls"]),
        ]
        if record["cost_usd"] is not None:
            stats.append(_stat("cost_per_task_usd", record["cost_usd"]))
        stats += [_stat(f"flag_{flag}", record["flags"][flag]) for flag in FLAGS]
        return stats

    def get_metadata(self) -> List[MetricMetadata]:
        return [MetricMetadata(name=n, display_name=d, description=text, lower_is_better=lower, group="hal")
                for n, d, text, lower in METADATA]
