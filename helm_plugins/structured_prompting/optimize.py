"""The three optimisers of the paper's pipeline, on the chain-of-thought program, with seeds and a progress bar.

Every LM call goes through the `HELMLM` given (HELM's client, cache and retries); the bar shows the calls made
so far, how many were new (not from HELM's cache), the tokens and the dollars.
"""

import random
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional

import dspy
from tqdm import tqdm

from helm_plugins.structured_prompting.adapter_spec import OptimiserBudget
from helm_plugins.structured_prompting.lm import CallLog, HELMLM
from helm_plugins.structured_prompting.programs import OPTIMISERS, ProgramError, build_program


@dataclass
class OptimisationResult:
    program: dspy.Module
    calls: int
    new_calls: int
    prompt_tokens: Optional[int]
    completion_tokens: Optional[int]
    seconds: float
    val_score: Optional[float]


class CallProgress:
    """A tqdm bar fed by the call logs of the task and prompt LMs."""

    def __init__(self, description: str, price: Callable[[Optional[int], Optional[int]], Optional[float]],
                 enabled: bool = True):
        self.bar = tqdm(desc=description, unit="call", disable=not enabled, dynamic_ncols=True)
        self.price = price
        self.logs: List[CallLog] = []

    def watch(self, log: CallLog) -> None:
        self.logs.append(log)
        log.on_add = self.update

    def update(self, _record=None) -> None:
        calls = sum(log.calls for log in self.logs)
        new = sum(log.new_calls for log in self.logs)
        prompt = [log.tokens("prompt", new_only=True) for log in self.logs]
        completion = [log.tokens("completion", new_only=True) for log in self.logs]
        tokens = None if None in prompt + completion else sum(prompt) + sum(completion)
        cost = None if tokens is None else self.price(sum(prompt), sum(completion))
        self.bar.n = calls
        self.bar.set_postfix(new=new, tokens=tokens if tokens is not None else "?",
                             cost=f"${cost:.4f}" if cost is not None else "?", refresh=False)
        self.bar.refresh()

    def close(self) -> None:
        self.bar.close()


def optimise(method: str, lm: HELMLM, prompt_lm: HELMLM, trainset: List[dspy.Example], valset: List[dspy.Example],
             metric, metric_with_feedback, seed: int, budget: OptimiserBudget) -> OptimisationResult:
    if method not in OPTIMISERS:
        raise ProgramError(f"{method!r} is not an optimiser ({', '.join(OPTIMISERS)})")
    if not trainset or not valset:
        raise ProgramError(f"{method}: needs a non-empty trainset and valset (got {len(trainset)} and {len(valset)})")
    student = build_program(method)
    start = time.time()
    random.seed(seed)  # DSPy's optimisers draw from the global generator in places
    with dspy.context(lm=lm, adapter=dspy.ChatAdapter()):
        if method == "bfrs":
            optimiser = dspy.BootstrapFewShotWithRandomSearch(
                metric=metric, max_bootstrapped_demos=budget.max_bootstrapped_demos,
                max_labeled_demos=budget.max_labeled_demos, num_candidate_programs=budget.candidates,
                num_threads=budget.num_threads, max_errors=10**9,
            )
            program = optimiser.compile(student, trainset=trainset, valset=valset)
        elif method == "miprov2":
            optimiser = dspy.MIPROv2(
                metric=metric, prompt_model=prompt_lm, task_model=lm, auto=budget.auto,
                max_bootstrapped_demos=budget.max_bootstrapped_demos, max_labeled_demos=budget.max_labeled_demos,
                num_threads=budget.num_threads, seed=seed, max_errors=10**9, verbose=False,
            )
            program = optimiser.compile(student, trainset=trainset, valset=valset)
        else:
            options: Dict[str, Any] = (
                {"max_metric_calls": budget.gepa_max_metric_calls} if budget.gepa_max_metric_calls else {"auto": budget.auto}
            )
            optimiser = dspy.GEPA(metric=metric_with_feedback, reflection_lm=prompt_lm, seed=seed,
                                  num_threads=budget.num_threads, **options)
            program = optimiser.compile(student, trainset=trainset, valset=valset)
        evaluate = dspy.Evaluate(devset=valset, metric=metric, num_threads=budget.num_threads, display_progress=False,
                                 max_errors=10**9)
        val_score = evaluate(program).score
    logs = [lm.call_log] + ([prompt_lm.call_log] if prompt_lm.call_log is not lm.call_log else [])
    prompt = [log.tokens("prompt") for log in logs]  # all calls: the cost of a cold optimisation
    completion = [log.tokens("completion") for log in logs]
    return OptimisationResult(
        program=program,
        calls=sum(log.calls for log in logs),
        new_calls=sum(log.new_calls for log in logs),
        prompt_tokens=None if None in prompt else sum(prompt),
        completion_tokens=None if None in completion else sum(completion),
        seconds=time.time() - start,
        val_score=val_score,
    )
