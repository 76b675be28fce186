"""The benchmarks of structured prompting: HELM's own run specs (the baseline) plus how DSPy's answer is read.

Each benchmark reuses a HELM run spec function for its scenario, prompt (the DSPy `inputs` field is the whole
prompt HELM renders for an instance, as in the paper) and metrics. The optimisation data are the scenario's
instances outside the evaluation splits; `check_disjoint` raises when any of them shares an instance id or a
question text with the evaluation instances.

Offline: `synthetic_arithmetic` and `synthetic_fact_world` (helm_plugins.synthetic). Paper (network for the
data): mmlu_pro, gpqa, gsm8k, medcalc_bench, medec, head_qa, medbullets.
"""

import difflib
import re
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, List, Literal, Optional, Tuple

from helm.benchmark.run_spec import RunSpec
from helm.benchmark.scenarios.scenario import Instance

AnswerKind = Literal["letter", "number", "text"]


@dataclass(frozen=True)
class Benchmark:
    name: str
    display_name: str
    baseline: Callable[[], RunSpec]  # HELM's run spec for this benchmark: scenario, fixed prompt, metrics
    main_metric: str  # HELM's main metric of the benchmark (also the optimisation metric)
    answer: AnswerKind
    letter_format: str = "{letter}"  # how an extracted letter is written for HELM's metric to read it
    val_fraction: float = 0.1  # share of the optimisation data used as DSPy's valset (the paper: 90/10)
    offline: bool = False
    optimisation_scenario: str = ""  # scenario class adding a train split HELM's class leaves out (scenarios.py)
    notes: str = ""


def _helm(name: str, **kwargs) -> Callable[[], RunSpec]:
    def build() -> RunSpec:
        from helm.benchmark.run_spec import get_run_spec_function

        return get_run_spec_function(name)(**kwargs)

    return build


def _synthetic(name: str) -> Callable[..., RunSpec]:
    def build(**kwargs) -> RunSpec:
        from helm_plugins.synthetic import run_specs

        function = {
            "arithmetic": run_specs.get_synthetic_arithmetic_spec,
            "fact_world": run_specs.get_synthetic_fact_world_spec,
        }[name]
        return function(**kwargs)

    return build


_SCENARIOS = "helm_plugins.structured_prompting.scenarios"
BENCHMARKS: Dict[str, Benchmark] = {
    b.name: b
    for b in [
        Benchmark("synthetic_arithmetic", "Synthetic arithmetic", _synthetic("arithmetic"),
                  "final_number_exact_match", "number", val_fraction=0.5, offline=True),
        Benchmark("synthetic_fact_world", "Synthetic fact world", _synthetic("fact_world"),
                  "exact_match", "letter", val_fraction=0.5, offline=True),
        Benchmark("mmlu_pro", "MMLU-Pro", _helm("mmlu_pro", subject="all", use_chain_of_thought="true", use_few_shot="false"),
                  "chain_of_thought_correctness", "letter", letter_format="The answer is ({letter})", val_fraction=0.5,
                  notes="optimisation data: HELM's train split (MMLU-Pro validation, 70 questions)"),
        Benchmark("gpqa", "GPQA", _helm("gpqa", subset="gpqa_main", use_chain_of_thought="true", use_few_shot="false"),
                  "chain_of_thought_correctness", "letter", letter_format="The answer is ({letter})", val_fraction=0.4,
                  notes="optimisation data: HELM's few-shot rows only (5), which HELM keeps out of its test split"),
        Benchmark("gsm8k", "GSM8K", _helm("gsm"), "final_number_exact_match", "number",
                  notes="optimisation data: GSM8K train"),
        Benchmark("medcalc_bench", "MedCalc-Bench", _helm("medcalc_bench"), "medcalc_bench_accuracy", "text",
                  optimisation_scenario=f"{_SCENARIOS}.MedCalcBenchWithTrainScenario",
                  notes="optimisation data: the Hugging Face train split (HELM's class loads test only)"),
        Benchmark("medec", "MedEC", _helm("medec"), "medec_error_flag_accuracy", "text",
                  optimisation_scenario=f"{_SCENARIOS}.MedecWithTrainScenario",
                  notes="optimisation data: the MEDEC-MS training CSV (HELM's class loads test only)"),
        Benchmark("head_qa", "HeadQA", _helm("head_qa", language="en"), "exact_match", "letter",
                  optimisation_scenario=f"{_SCENARIOS}.HeadQAWithTrainScenario",
                  notes="optimisation data: the Hugging Face train split (HELM's class loads test only)"),
        Benchmark("medbullets", "MedBullets", _helm("medbullets"), "exact_match", "letter",
                  notes="HELM's scenario loads op5 (test) only: optimisation needs program=<file>"),
    ]
}
PAPER_BENCHMARKS = [name for name, b in BENCHMARKS.items() if not b.offline]


class UnknownBenchmarkError(ValueError):
    pass


class LeakageError(ValueError):
    pass


def get_benchmark(name: str) -> Benchmark:
    if name not in BENCHMARKS:
        close = difflib.get_close_matches(name, BENCHMARKS, n=2)
        hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
        raise UnknownBenchmarkError(f"unknown benchmark {name!r}.{hint} Known: {', '.join(BENCHMARKS)}")
    return BENCHMARKS[name]


_WHOLE_LETTER = re.compile(r"^\(?([A-Z])\)?[.:]?$")
_EXPLICIT_LETTER = re.compile(
    r"(?i:\banswer|\bcorrect (?:option|choice))(?:\s+is)?\s*[:=]?\s*(?i:option\s+|choice\s+|letter\s+)?"
    r"\(?\**([A-Z])\**\)?(?![A-Za-z])"
    r"|\\boxed\{\s*\(?([A-Z])\)?\s*\}"
)
_LEADING_LETTER = re.compile(r"^\s*(?:\(([A-Z])\)|([A-Z])[.:)](?:\s|$))")
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


def extract_letter(text: str, valid_letters: Iterable[str] = ()) -> Optional[str]:
    """The option letter of an output, or None. In order of trust: the whole output is a letter ("B", "(B)",
    "B."); the last explicit answer statement ("the answer is (B)", "Answer: B", "correct option is B"); a
    leading option label ("B. Leeds", "(B) Leeds"). A capital that merely starts a word or sentence ("I think
    ...", "E. coli ...") never beats an explicit statement."""
    valid = {v.upper() for v in valid_letters}
    ok = lambda letter: letter is not None and (not valid or letter in valid)  # noqa: E731
    stripped = text.strip()
    whole = _WHOLE_LETTER.match(stripped)
    if whole and ok(whole.group(1)):
        return whole.group(1)
    explicit = [m.group(1) or m.group(2) for m in _EXPLICIT_LETTER.finditer(stripped)]
    explicit = [letter for letter in explicit if ok(letter)]
    if explicit:
        return explicit[-1]
    leading = _LEADING_LETTER.match(stripped)
    if leading:
        letter = leading.group(1) or leading.group(2)
        if ok(letter):
            return letter
    return None


def extract_answer(kind: AnswerKind, text: Optional[str], valid_letters: Iterable[str] = ()) -> Optional[str]:
    """The answer a strict reader takes from a DSPy `output` field, or None (a parse failure).

    letter: see `extract_letter`; number: the output contains a number (HELM's final_number_exact_match reads the
    last one); text: any non-empty output. An empty or missing output never matches.
    """
    if text is None or not text.strip():
        return None
    if kind == "letter":
        return extract_letter(text, valid_letters)
    if kind == "number":
        return text.strip() if _NUMBER.search(text) else None
    return text.strip()


def format_answer(benchmark: Benchmark, answer: Optional[str]) -> str:
    """The completion text HELM's metric scores: empty for a parse failure (always scored wrong)."""
    if answer is None:
        return ""
    if benchmark.answer == "letter":
        return benchmark.letter_format.format(letter=answer)
    return answer


def instance_text(instance: Instance) -> str:
    return " ".join((instance.input.text or "").split()).lower()


def check_disjoint(evaluation: List[Instance], optimisation: List[Instance], where: str) -> None:
    """Raise LeakageError when an optimisation instance shares an id or a question text with the evaluation."""
    eval_ids = {i.id for i in evaluation if i.id is not None}
    eval_texts = {instance_text(i) for i in evaluation}
    shared_ids = sorted({i.id for i in optimisation if i.id in eval_ids})
    shared_texts = [i.id or instance_text(i)[:60] for i in optimisation if instance_text(i) in eval_texts]
    if shared_ids or shared_texts:
        raise LeakageError(
            f"{where}: the optimisation data overlap the evaluation split "
            f"({len(shared_ids)} shared instance ids, e.g. {shared_ids[:3]}; {len(shared_texts)} shared question "
            f"texts, e.g. {shared_texts[:3]}). Optimise on data disjoint from the evaluation split."
        )


def split_optimisation(instances: List[Instance], val_fraction: float, seed: int, max_val: int = 100
                       ) -> Tuple[List[Instance], List[Instance]]:
    """Seeded train/val split of the optimisation instances (DSPy's valset capped at max_val, as in the paper)."""
    import random

    shuffled = sorted(instances, key=lambda i: i.id or instance_text(i))
    random.Random(seed).shuffle(shuffled)
    num_val = min(max_val, max(1, round(len(shuffled) * val_fraction)))
    return shuffled[num_val:], shuffled[:num_val]
