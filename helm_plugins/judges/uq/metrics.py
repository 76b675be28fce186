"""UQ metrics over the `uq_validator` annotations: pass rate, per-stage pass rates, judge usage and cost; on the
meta-evaluation also validator precision, recall, accuracy and the generator–validator gap.

Positive = accepted by the validator. precision = TP / (TP + FP), recall = TP / (TP + FN), validator accuracy =
(TP + TN) / N; generator–validator gap = validator accuracy − answer accuracy (the model's own answers, final number
vs the known one), defined only when the judge is the generator itself (the same model): with another judge the
difference compares two models and is left undefined. Undefined values are stats without values (HELM shows them
as undefined, never as a missing metric).
"""

import re
from typing import Dict, List

from helm.benchmark.adaptation.adapter_spec import AdapterSpec
from helm.benchmark.adaptation.request_state import RequestState
from helm.benchmark.metrics.evaluate_reference_metrics import final_number_exact_match, quasi_exact_match
from helm.benchmark.metrics.metric import Metric
from helm.benchmark.metrics.metric_name import MetricName
from helm.benchmark.metrics.metric_service import MetricService
from helm.benchmark.metrics.statistic import Stat

from helm_plugins.common.judges import judge_usage_stats, stat


NUMBER = re.compile(r"\d")


def answer_score(gold: str, answer: str) -> float:
    """The model's own answer against the known one: the final number when the known answer has one, else HELM's
    quasi-exact match."""
    if not answer.strip():
        return 0.0
    if NUMBER.search(gold):
        return final_number_exact_match(gold, answer)
    return quasi_exact_match(gold, answer)


def factors_score(product: int, answer: str) -> float:
    """1 when the answer's last two numbers above 1 multiply to the product (a factorization), else 0."""
    numbers = [int(n) for n in re.findall(r"\d+", answer.replace(",", "")) if int(n) > 1 and int(n) != product]
    return float(len(numbers) >= 2 and numbers[-2] * numbers[-1] == product)


LEADERBOARD_STAGES = 3  # per-stage pass-rate columns of the uq metric group (schema)


class UQValidatorMetric(Metric):
    def evaluate_generation(
        self, adapter_spec: AdapterSpec, request_state: RequestState, metric_service: MetricService, eval_cache_path: str
    ) -> List[Stat]:
        assert request_state.annotations is not None, "UQ metrics need the uq_validator annotator"
        annotation = request_state.annotations["uq_validator"]
        stats = [stat("uq_pass", annotation["accepted"]), stat("uq_empty_answer", annotation.get("empty_answer", False))]
        stages = annotation["stage_results"]
        stats += [stat(f"uq_stage{i + 1}_pass", passed) for i, passed in enumerate(stages)]
        # the leaderboard's UQ columns show stages 1-3: a strategy with fewer stages writes them without a value
        stats += [Stat(MetricName(f"uq_stage{i + 1}_pass")) for i in range(len(stages), LEADERBOARD_STAGES)]
        return stats + judge_usage_stats(annotation)


class UQMetaEvalMetric(UQValidatorMetric):
    def evaluate_generation(
        self, adapter_spec: AdapterSpec, request_state: RequestState, metric_service: MetricService, eval_cache_path: str
    ) -> List[Stat]:
        stats = super().evaluate_generation(adapter_spec, request_state, metric_service, eval_cache_path)
        accepted = request_state.annotations["uq_validator"]["accepted"]
        correct = request_state.instance.extra_data["planted_correct"]
        result = request_state.result
        answer = result.completions[0].text if result and result.success and result.completions else ""
        references = request_state.instance.references
        product = (request_state.instance.extra_data or {}).get("product")
        if product is not None:  # factoring: any two stated factors > 1 whose product it is
            answer_accuracy = stat("uq_answer_accuracy", factors_score(product, answer))
        elif not references:  # labelled answers without a known answer: the model's own accuracy is unknown
            answer_accuracy = Stat(MetricName("uq_answer_accuracy"))
        else:
            answer_accuracy = stat("uq_answer_accuracy", answer_score(references[0].output.text, answer))
        annotation = request_state.annotations["uq_validator"]
        judge_model = annotation.get("judge_model")
        self_judged = judge_model is None or judge_model == request_state.request.model  # empty answers: no judge
        return stats + [
            stat("uq_self_judged", self_judged),
            stat("uq_tp", accepted and correct),
            stat("uq_fp", accepted and not correct),
            stat("uq_fn", not accepted and correct),
            stat("uq_tn", not accepted and not correct),
            stat("uq_validator_accuracy", accepted == correct),
            answer_accuracy,
        ]

    def derive_stats(self, stats_dict: Dict[MetricName, Stat]) -> List[Stat]:
        total = {name.name: s.sum for name, s in stats_dict.items()}
        count = {name.name: s.count for name, s in stats_dict.items()}
        if not count.get("uq_validator_accuracy"):
            return []

        def ratio(name: str, numerator: float, denominator: float) -> Stat:
            return stat(name, numerator / denominator) if denominator > 0 else Stat(MetricName(name))

        validator_accuracy = total["uq_validator_accuracy"] / count["uq_validator_accuracy"]
        self_judged = total.get("uq_self_judged", 0) == count.get("uq_self_judged", -1)
        gap = Stat(MetricName("uq_generator_validator_gap"))  # undefined unless the generator judged itself
        if self_judged and count.get("uq_answer_accuracy"):
            gap = stat(gap.name.name, validator_accuracy - total["uq_answer_accuracy"] / count["uq_answer_accuracy"])
        return [
            ratio("uq_validator_precision", total["uq_tp"], total["uq_tp"] + total["uq_fp"]),
            ratio("uq_validator_recall", total["uq_tp"], total["uq_tp"] + total["uq_fn"]),
            gap,
        ]
