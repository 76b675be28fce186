"""Per-instance accounting of structured-prompting runs: parse and request failures, LM calls, tokens, dollars.

Correctness is scored by the benchmark's own HELM metrics (listed next to this one in the run spec); this metric
adds what the ceiling report needs, for DSPy runs (from the executor's `structured_prompting` annotation) and for
HELM baseline runs (one request; a completion without a readable answer counts as a parse failure). Every stat is
always present: an unknown value (a model without a price, a deployment without a tokenizer, a zero-shot method's
optimisation cost) is a stat without values, and sp_cost_unknown is the one place that says the cost is unknown.
"""

from typing import List, Optional

from helm.benchmark.adaptation.adapter_spec import AdapterSpec
from helm.benchmark.adaptation.request_state import RequestState
from helm.benchmark.metrics.metric import Metric
from helm.benchmark.metrics.metric_name import MetricName
from helm.benchmark.metrics.metric_service import MetricService
from helm.benchmark.metrics.statistic import Stat
from helm.benchmark.model_deployment_registry import get_model_deployment
from helm.common.tokenization_request import TokenizationRequest

from helm_plugins.structured_prompting.benchmarks import extract_answer, get_benchmark

ANNOTATION = "structured_prompting"


def _stat(name: str, value: Optional[float]) -> List[Stat]:
    """A stat of one value; an unknown value (no price, no tokenizer, no optimisation) is a stat without values,
    which HELM shows as undefined rather than a missing metric."""
    stat = Stat(MetricName(name))
    return [stat if value is None else stat.add(value)]


class StructuredPromptingMetric(Metric):
    def __init__(self, benchmark: str):
        self.benchmark = get_benchmark(benchmark)

    def _count(self, metric_service: MetricService, deployment: str, text: str) -> Optional[int]:
        tokenizer = get_model_deployment(deployment).tokenizer_name
        if not tokenizer:
            return None
        try:
            return len(metric_service.tokenize(TokenizationRequest(text=text, tokenizer=tokenizer)).tokens)
        except Exception:
            return None

    def evaluate_generation(self, adapter_spec: AdapterSpec, request_state: RequestState,
                            metric_service: MetricService, eval_cache_path: str) -> List[Stat]:
        from helm_plugins.structured_prompting.executor import price

        assert request_state.result is not None
        annotation = (request_state.annotations or {}).get(ANNOTATION)
        if annotation is not None:  # a DSPy program's run
            status = annotation["status"]
            calls = annotation["lm_calls"]
            prompt_tokens, completion_tokens = annotation["prompt_tokens"], annotation["completion_tokens"]
            optimisation = annotation.get("optimisation") or {}
        else:  # HELM's fixed prompt: one request
            result = request_state.result
            text = result.completions[0].text if result.completions else ""
            letters = list(request_state.output_mapping or {})
            if not result.success:
                status = "request_failure"
            else:
                status = "ok" if extract_answer(self.benchmark.answer, text, letters) is not None else "parse_failure"
            calls = 1
            prompt_tokens = self._count(metric_service, adapter_spec.model_deployment, request_state.request.prompt)
            completion_tokens = sum(
                len(c.tokens) if c.tokens else (self._count(metric_service, adapter_spec.model_deployment, c.text) or 0)
                for c in result.completions
            ) if prompt_tokens is not None else None
            optimisation = {}
        cost = price(adapter_spec.model)(prompt_tokens, completion_tokens)
        return [
            *_stat("sp_parse_failure", float(status == "parse_failure")),
            *_stat("sp_request_failure", float(status == "request_failure")),
            *_stat("sp_optimisation_failure", float(status == "optimisation_failure")),
            *_stat("sp_lm_calls", calls),
            *_stat("sp_prompt_tokens", prompt_tokens),
            *_stat("sp_completion_tokens", completion_tokens),
            *_stat("sp_cost_usd", cost),
            *_stat("sp_cost_unknown", float(cost is None)),
            *_stat("sp_optimisation_lm_calls", optimisation.get("lm_calls")),
            *_stat("sp_optimisation_tokens", None if optimisation.get("prompt_tokens") is None
                   else optimisation["prompt_tokens"] + (optimisation.get("completion_tokens") or 0)),
            *_stat("sp_optimisation_cost_usd", optimisation.get("cost_usd")),
        ]
