"""The light half of structured prompting, imported at plugin load: the run's adapter spec, the optimiser budget
and the one-time patch of HELM's Executor. DSPy itself is imported only when a structured-prompting run executes.

A structured-prompting run spec carries a `DSPyAdapterSpec`: HELM's adapter for the benchmark renders each
instance's prompt as usual, then HELM's Executor (patched once for every capability by common/executor_hooks;
`install_dspy_executor` registers this spec) sees the spec and hands the scenario state to `executor.DSPyExecution`. Runs without a `DSPyAdapterSpec` are untouched.
"""

from dataclasses import dataclass
from typing import Optional

from helm.benchmark.adaptation.adapter_spec import AdapterSpec
from pydantic import BaseModel, Field

from helm_plugins.common.executor_hooks import register_execution


@dataclass(frozen=True)
class DSPyAdapterSpec(AdapterSpec):
    """HELM's adapter spec of the benchmark (it renders the `inputs`), plus the DSPy method of the run."""

    dspy_benchmark: str = ""
    """Name in helm_plugins.structured_prompting.benchmarks.BENCHMARKS."""

    dspy_benchmark_args: str = "{}"
    """JSON of the benchmark's run-spec arguments (synthetic benchmarks: num_instances, seed)."""

    dspy_method: str = "cot"
    """predict, cot, bfrs, miprov2 or gepa."""

    dspy_seed: int = 0
    """Optimiser seed (and the seed of the train/val split)."""

    dspy_program: str = ""
    """Optimised program file to load instead of the keyed path under dspy_programs_dir."""

    dspy_programs_dir: str = ""
    """Where optimised programs are saved and looked up (empty: <helm-run output path>/dspy_programs)."""

    dspy_optimize: str = "auto"
    """auto: optimise when the program is missing; never: a missing program is an error (offline use)."""

    dspy_prompt_model: str = ""
    """Deployment proposing instructions (MIPROv2) or reflecting (GEPA); empty: the task model."""

    dspy_budget: str = "{}"
    """JSON of OptimiserBudget fields overriding the paper's defaults."""


class OptimiserBudget(BaseModel):
    """Optimiser settings; the defaults are the paper's."""

    max_bootstrapped_demos: int = Field(3, ge=0)  # demos with bootstrapped reasoning
    max_labeled_demos: int = Field(3, ge=0)  # demos taken from the trainset as labelled
    candidates: int = Field(16, ge=1)  # BFRS: candidate programs (plus zero-shot, labelled-only, unshuffled)
    auto: str = "light"  # MIPROv2 and GEPA budget preset
    gepa_max_metric_calls: Optional[int] = Field(None, ge=1)  # GEPA: explicit budget instead of `auto`
    num_threads: int = Field(1, ge=1)


def install_dspy_executor() -> None:
    """Runs with a DSPyAdapterSpec execute their DSPy program (through HELM's Executor, patched once for all
    capabilities by helm_plugins.common.executor_hooks); dspy is imported only when such a run executes."""
    register_execution(DSPyAdapterSpec, "helm_plugins.structured_prompting.executor:execute_dspy_run")
