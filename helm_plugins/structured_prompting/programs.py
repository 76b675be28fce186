"""DSPy programs of the methods, the benchmark's HELM metric as DSPy metric, and optimised-program files.

Methods: predict (zero-shot `dspy.Predict("inputs -> output")`), cot (zero-shot `dspy.ChainOfThought`), and
three optimisers of the chain-of-thought program: bfrs (BootstrapFewShotWithRandomSearch, 3 bootstrapped +
3 labelled demos, 16 candidate programs), miprov2 (MIPROv2, auto="light", 3 + 3 demos) and gepa (GEPA).
`helm` is HELM's own fixed prompt, with no DSPy program.

Optimised programs are DSPy state JSON at
`<programs_dir>/<benchmark>/<deployment>/<method>/seed<seed>/<settings hash>-dspy-<version>.json` (programs_dir
defaults to <helm-run output path>/dspy_programs), next to a `.meta.json` with what produced it (every setting,
budget, LM calls, tokens, validation score).
"""

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any, Dict, List, Optional

import dspy
from helm.benchmark.adaptation.adapter_spec import AdapterSpec
from helm.benchmark.adaptation.request_state import RequestState
from helm.benchmark.metrics.basic_metrics import BasicGenerationMetric
from helm.benchmark.metrics.evaluate_reference_metrics import compute_reference_metrics
from helm.benchmark.metrics.metric import MetricSpec, create_metric
from helm.common.request import GeneratedOutput, RequestResult

from helm_plugins.structured_prompting.benchmarks import Benchmark, extract_answer, format_answer

METHODS = ("helm", "predict", "cot", "bfrs", "miprov2", "gepa")
OPTIMISERS = ("bfrs", "miprov2", "gepa")
SIGNATURE = "inputs -> output"


class ProgramError(ValueError):
    pass


def build_program(method: str) -> dspy.Module:
    if method == "predict":
        return dspy.Predict(SIGNATURE)
    if method in ("cot",) + OPTIMISERS:
        return dspy.ChainOfThought(SIGNATURE)
    raise ProgramError(f"method {method!r} has no DSPy program (methods: {', '.join(METHODS)})")


def safe_name(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_.=" else "_" for c in text)


def settings_hash(settings: Dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()[:12]


def program_path(programs_dir: Path, benchmark_key: str, model_deployment: str, method: str, seed: int,
                 settings: Dict[str, Any]) -> Path:
    """Where the program optimised with `settings` (every setting that changes it, see
    executor.program_settings) is saved: a changed setting is a different file, never a stale reuse."""
    return (Path(programs_dir) / safe_name(benchmark_key) / safe_name(model_deployment) / method / f"seed{seed}"
            / f"{settings_hash(settings)}-dspy-{dspy.__version__}.json")


def load_program(method: str, path: Path) -> dspy.Module:
    program = build_program(method)
    try:
        program.load(str(path))
    except FileNotFoundError:
        raise ProgramError(f"program file {path} does not exist") from None
    except (KeyError, ValueError, TypeError, json.JSONDecodeError) as error:
        expected = [name for name, _ in program.named_predictors()]
        raise ProgramError(
            f"program file {path} does not fit the {type(program).__name__}({SIGNATURE!r}) program of method "
            f"{method!r} (predictors {expected}): {type(error).__name__}: {error}. Was it saved from another "
            "module structure (e.g. Predict vs ChainOfThought)?"
        ) from None
    return program


def save_program(program: dspy.Module, path: Path, metadata: Dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    program.save(str(path))
    path.with_suffix(".meta.json").write_text(json.dumps(metadata, indent=2, default=str))


def program_summary(program: dspy.Module) -> Dict[str, Any]:
    predictors = program.named_predictors()
    return {
        name: {
            "instructions": predictor.signature.instructions,
            "demos": len(predictor.demos),
            "bootstrapped_demos": sum(bool(getattr(d, "augmented", False) or "reasoning" in d) for d in predictor.demos),
        }
        for name, predictor in predictors
    }


class HELMMetric:
    """The benchmark's HELM evaluation metric on one DSPy prediction, with strict answer extraction.

    `states` maps each example's `inputs` to its HELM RequestState (references, output mapping); the prediction's
    output is extracted (`extract_answer`), written as HELM's metric reads it, and scored by the metric classes of
    the benchmark's HELM run spec. An empty or unparseable output scores 0.
    """

    def __init__(self, benchmark: Benchmark, adapter_spec: AdapterSpec, metric_specs: List[MetricSpec],
                 states: Dict[str, RequestState]):
        self.benchmark = benchmark
        self.adapter_spec = adapter_spec
        self.metrics = [create_metric(spec) for spec in metric_specs]
        self.states = states

    def completion_text(self, state: RequestState, output: Optional[str]) -> str:
        letters = list(state.output_mapping or {})
        return format_answer(self.benchmark, extract_answer(self.benchmark.answer, output, letters))

    def score_text(self, state: RequestState, text: str) -> float:
        if not text:
            return 0.0
        result = RequestResult(success=True, embedding=[], completions=[GeneratedOutput(text=text, logprob=0, tokens=[])],
                               cached=True)
        scored = dataclasses.replace(state, result=result)
        for metric in self.metrics:
            if isinstance(metric, BasicGenerationMetric):
                stats = compute_reference_metrics(metric.names, self.adapter_spec, scored, None)  # type: ignore[arg-type]
            else:
                stats = metric.evaluate_generation(self.adapter_spec, scored, None, "")  # type: ignore[arg-type]
            for stat in stats:
                if stat.name.name == self.benchmark.main_metric and stat.name.perturbation is None:
                    return float(stat.mean or 0.0)
        raise ProgramError(f"no metric of {self.benchmark.name}'s run spec computes {self.benchmark.main_metric!r}")

    def __call__(self, example, prediction, trace=None) -> float:
        state = self.states[example["inputs"]]  # `example.inputs` is a method of dspy.Example
        return self.score_text(state, self.completion_text(state, getattr(prediction, "output", None)))

    def with_feedback(self, gold, pred, trace=None, pred_name=None, pred_trace=None) -> dspy.Prediction:
        """GEPA's metric: the same score plus a sentence on what was wrong."""
        state = self.states[gold["inputs"]]
        output = getattr(pred, "output", None)
        text = self.completion_text(state, output)
        score = self.score_text(state, text)
        if not text:
            feedback = (f"The output {output!r} could not be read as an answer ({self.benchmark.answer}); "
                        f"the correct output is {gold['output']!r}.")
        elif score > 0:
            feedback = "The answer is correct."
        else:
            feedback = f"The answer {text!r} is wrong; the correct output is {gold['output']!r}."
        return dspy.Prediction(score=score, feedback=feedback)
