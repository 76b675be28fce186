"""How many tokens a drafter may propose at a step: uniform, unlimited, or DAS's length-aware budget.

DAS (arXiv 2511.13841) observes that the longest rollouts set the makespan of an RL step, so drafting effort
should go to them: with forward cost c_base + c_tok * tokens, a request whose remaining length already fits
in the step's makespan gains nothing from drafting (its optimal budget is zero), and the budget of the others
grows with their remaining length. Its deployed policy sorts requests into Short / Medium / Long classes from
the recent rollouts of the same problem and promotes a request as its running length grows.

Here the expected length of a request is max(predicted, generated), the predicted length being the longest
recent rollout of its problem. The step's makespan is estimated as the longest predicted length divided by
the tokens per pass the drafted requests achieved recently; a request expected to finish within it is Short
(no drafting), one within `long_fraction` of the longest is Long, the rest Medium. The per-step budget is

    min(max_spec[class], max(1, floor(spec_factor[class] * match_length)))

with the authors' public defaults (max_spec 16 / 8, factor 2 / 1). The paper's closed form for the budget is
approximated by these classes.
"""

from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Deque, Dict, Hashable, Optional, Protocol

import numpy as np


@dataclass
class BudgetRequest:
    problem_id: Hashable
    generated: int  # tokens generated so far
    match_length: Optional[int] = None  # length of the suffix the drafter matched; None: before proposing


class Budget(Protocol):
    name: str

    def max_draft(self, request: BudgetRequest) -> int: ...

    def observe(self, problem_id: Hashable, length: int, passes: int = 0) -> None: ...

    def finish_epoch(self) -> None: ...


class UniformBudget:
    """The same draft length for every request at every step (what most engines do)."""

    def __init__(self, tokens: int = 8):
        if tokens < 0:
            raise ValueError(f"a budget cannot be negative, got {tokens}")
        self.tokens = tokens
        self.name = f"uniform{tokens}"

    def max_draft(self, request: BudgetRequest) -> int:
        return self.tokens

    def observe(self, problem_id: Hashable, length: int, passes: int = 0) -> None:
        pass

    def finish_epoch(self) -> None:
        pass


class UnlimitedBudget(UniformBudget):
    """No budget: drafts end only where the drafter's probability threshold stops them."""

    def __init__(self, cap: int = 64):
        super().__init__(cap)
        self.name = "unlimited"


class LengthAwareBudget:
    name = "length_aware"
    CLASSES = ("short", "medium", "long")

    def __init__(
        self,
        window_epochs: int = 4,
        long_fraction: float = 0.8,
        max_spec: Optional[Dict[str, int]] = None,
        spec_factor: Optional[Dict[str, float]] = None,
    ):
        if not 0 < long_fraction <= 1:
            raise ValueError(f"long_fraction must be in (0, 1], got {long_fraction}")
        self.window_epochs = window_epochs
        self.long_fraction = long_fraction
        self.max_spec = max_spec or {"short": 0, "medium": 8, "long": 16}
        self.spec_factor = spec_factor or {"short": 0.0, "medium": 1.0, "long": 2.0}
        self._epoch_lengths: Dict[Hashable, list] = defaultdict(list)
        self._epoch_rates: list = []  # tokens per pass of this step's drafted rollouts
        self._history: Dict[Hashable, Deque[int]] = {}  # per problem: longest rollout of each recent step
        self.tokens_per_pass = 1.0
        self.makespan_estimate = 0.0
        self.longest_predicted = 0.0

    def predicted_length(self, problem_id: Hashable) -> Optional[int]:
        history = self._history.get(problem_id)
        return max(history) if history else None

    def length_class(self, problem_id: Hashable, generated: int) -> str:
        predicted = self.predicted_length(problem_id)
        if predicted is None:  # unseen problem: no history to go by
            return "medium"
        expected = max(predicted, generated)  # promoted as the running length grows
        if expected <= self.makespan_estimate:
            return "short"
        return "long" if expected >= self.long_fraction * self.longest_predicted else "medium"

    def max_draft(self, request: BudgetRequest) -> int:
        length_class = self.length_class(request.problem_id, request.generated)
        if self.max_spec[length_class] == 0 or request.match_length == 0:
            return 0
        if request.match_length is None:
            return self.max_spec[length_class]
        return min(self.max_spec[length_class], max(1, int(self.spec_factor[length_class] * request.match_length)))

    def observe(self, problem_id: Hashable, length: int, passes: int = 0) -> None:
        self._epoch_lengths[problem_id].append(length)
        if passes and self.length_class(problem_id, length) != "short":
            self._epoch_rates.append(length / passes)

    def finish_epoch(self) -> None:
        for problem_id, lengths in self._epoch_lengths.items():
            history = self._history.setdefault(problem_id, deque(maxlen=self.window_epochs))
            history.append(max(lengths))
        self._epoch_lengths.clear()
        if self._epoch_rates:
            self.tokens_per_pass = max(1.0, float(np.median(self._epoch_rates)))
            self._epoch_rates.clear()
        predicted = [max(history) for history in self._history.values()]
        if predicted:
            self.longest_predicted = float(max(predicted))
            self.makespan_estimate = self.longest_predicted / self.tokens_per_pass
