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

with the authors' public defaults (max_spec 16 / 8, factor 2 / 1).

`CostModelBudget` is the paper's closed form behind those classes. Accepted tokens of a request with remaining
length l given a total draft budget p follow A = k l (1 - exp(-alpha p / l)) (k, alpha fitted on the
previous step's rollouts). To finish within N passes a request needs A >= l - N, so

    p*(l, N) = -(l / alpha) ln(1 - (l - N) / (k l))   if l > N, else 0,

and N minimises the modeled step time c_base N + c_tok sum_i (min(l_i, N) + p*(l_i, N)) over the problems'
predicted lengths (each pass processes one token plus the draft). At each decoding step a request may draft up to what remains of its total, p*(remaining length,
remaining passes), capped at `max_tokens`: suffix drafts are accepted in bursts (a long match is right for many
tokens), so the total is spent where the drafter has a proposal rather than spread thinly over every pass.
"""

import math
import warnings
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Deque, Dict, Hashable, List, Optional, Protocol, Tuple

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit


@dataclass
class BudgetRequest:
    problem_id: Hashable
    generated: int  # tokens generated so far
    match_length: Optional[int] = None  # length of the suffix the drafter matched; None: before proposing
    passes: int = 0  # decoding passes the request has run so far


class Budget(Protocol):
    name: str

    def max_draft(self, request: BudgetRequest) -> int: ...

    def observe(self, problem_id: Hashable, length: int, passes: int = 0, drafted: int = 0) -> None: ...

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

    def observe(self, problem_id: Hashable, length: int, passes: int = 0, drafted: int = 0) -> None:
        pass

    def finish_epoch(self) -> None:
        pass


class UnlimitedBudget(UniformBudget):
    """No budget: drafts end only where the drafter's probability threshold stops them."""

    def __init__(self, cap: int = 64):
        super().__init__(cap)
        self.name = "unlimited"


class _ProblemLengths:
    """Per problem, the longest rollout of each of the last `window_epochs` steps; predicted length = their max."""

    def __init__(self, window_epochs: int):
        if window_epochs <= 0:
            raise ValueError(f"window_epochs must be positive, got {window_epochs}")
        self.window_epochs = window_epochs
        self._epoch_lengths: Dict[Hashable, list] = defaultdict(list)
        self._history: Dict[Hashable, Deque[int]] = {}

    def predicted_length(self, problem_id: Hashable) -> Optional[int]:
        history = self._history.get(problem_id)
        return max(history) if history else None

    def _close_epoch(self) -> Dict[Hashable, list]:
        """Moves this step's lengths into the history; returns them (problem -> lengths)."""
        lengths = dict(self._epoch_lengths)
        for problem_id, values in lengths.items():
            self._history.setdefault(problem_id, deque(maxlen=self.window_epochs)).append(max(values))
        self._epoch_lengths.clear()
        return lengths


class LengthAwareBudget(_ProblemLengths):
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
        super().__init__(window_epochs)
        self.long_fraction = long_fraction
        self.max_spec = max_spec or {"short": 0, "medium": 8, "long": 16}
        self.spec_factor = spec_factor or {"short": 0.0, "medium": 1.0, "long": 2.0}
        self._epoch_rates: list = []  # tokens per pass of this step's drafted rollouts
        self.tokens_per_pass = 1.0
        self.makespan_estimate = 0.0
        self.longest_predicted = 0.0

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

    def observe(self, problem_id: Hashable, length: int, passes: int = 0, drafted: int = 0) -> None:
        self._epoch_lengths[problem_id].append(length)
        if passes and self.length_class(problem_id, length) != "short":
            self._epoch_rates.append(length / passes)

    def finish_epoch(self) -> None:
        self._close_epoch()
        if self._epoch_rates:
            self.tokens_per_pass = max(1.0, float(np.median(self._epoch_rates)))
            self._epoch_rates.clear()
        predicted = [max(history) for history in self._history.values()]
        if predicted:
            self.longest_predicted = float(max(predicted))
            self.makespan_estimate = self.longest_predicted / self.tokens_per_pass


def accepted_tokens(length, draft_total, k, alpha):
    """DAS's acceptance model: accepted draft tokens of a request of `length` tokens given `draft_total` drafted."""
    return k * length * (1 - np.exp(-alpha * np.asarray(draft_total, dtype=float) / length))


def optimal_draft_total(length: float, passes: float, k: float, alpha: float) -> float:
    """p*(l, N): the least total draft budget with which a request of `length` remaining tokens finishes within
    `passes` passes (0 if it does without drafting; inf if no budget can, since at most k l tokens are accepted)."""
    if length <= passes:
        return 0.0
    needed = (length - passes) / (k * length)
    if needed >= 1:
        return math.inf
    return -(length / alpha) * math.log1p(-needed)


class CostModelBudget(_ProblemLengths):
    """The closed-form length-aware budget (see the module docstring)."""

    name = "cost_model"

    def __init__(
        self,
        window_epochs: int = 4,
        token_cost_ratio: float = 0.05,
        max_tokens: int = 16,
        initial_tokens: int = 8,
        k: float = 0.9,
        alpha: float = 1.5,
    ):
        if token_cost_ratio < 0:
            raise ValueError(f"token_cost_ratio (c_tok / c_base) cannot be negative, got {token_cost_ratio}")
        if not 0 < k <= 1 or alpha <= 0:
            raise ValueError(f"need 0 < k <= 1 and alpha > 0, got k={k}, alpha={alpha}")
        super().__init__(window_epochs)
        self.token_cost_ratio = token_cost_ratio
        self.max_tokens = max_tokens
        self.initial_tokens = initial_tokens
        self.k, self.alpha = k, alpha
        self.makespan_passes: Optional[int] = None  # N, chosen at the end of each step for the next one
        self._observations: List[Tuple[int, int, int]] = []  # (length, drafted, accepted) of drafted rollouts
        self._counts: Dict[Hashable, int] = {}  # rollouts per problem in the last step

    def max_draft(self, request: BudgetRequest) -> int:
        predicted = self.predicted_length(request.problem_id)
        if predicted is None or self.makespan_passes is None:  # no history yet: a uniform budget
            return self.initial_tokens
        remaining = predicted - request.generated
        passes_left = self.makespan_passes - request.passes
        if remaining <= 0 or passes_left <= 0:  # longer than predicted or behind schedule: a straggler
            return self.max_tokens
        total = optimal_draft_total(remaining, passes_left, self.k, self.alpha)
        if total == 0:
            return 0
        if math.isinf(total):  # cannot catch up even drafting everything: draft all it may
            return self.max_tokens
        return min(self.max_tokens, math.ceil(total))

    def observe(self, problem_id: Hashable, length: int, passes: int = 0, drafted: int = 0) -> None:
        self._epoch_lengths[problem_id].append(length)
        # acceptance is fitted on requests drafted from their problem's history only: before a problem has any
        # (its first step), drafts come from the request's own tokens and understate what history gives
        if drafted and length and self.predicted_length(problem_id) is not None:
            self._observations.append((length, drafted, length - passes))

    def fit_acceptance(self, observations: List[Tuple[int, int, int]]) -> None:
        """Least-squares fit of (k, alpha) on (length, drafted, accepted) triples; keeps the old values when the
        data cannot identify them."""
        if len(observations) < 3:
            return
        lengths, drafted, accepted = (np.array(column, dtype=float) for column in zip(*observations))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizeWarning)
            try:
                (k, alpha), _ = curve_fit(
                    lambda x, k, alpha: accepted_tokens(x[0], x[1], k, alpha),
                    np.vstack([lengths, drafted]),
                    accepted,
                    p0=(self.k, self.alpha),
                    bounds=([1e-3, 1e-3], [1.0, 50.0]),
                )
            except (RuntimeError, ValueError):
                return
        self.k, self.alpha = float(k), float(alpha)

    def choose_makespan(self, lengths: Dict[Hashable, int], counts: Dict[Hashable, int]) -> int:
        """N minimising c_base N + c_tok x processed tokens, in units of c_base. A request processes one token per
        pass plus its drafts: min(l_i, N) + p*(l_i, N) (its accepted tokens are among the drafted ones)."""
        best, best_cost = max(lengths.values()), math.inf
        for passes in range(1, max(lengths.values()) + 1):
            tokens = sum(
                counts[p] * (min(l, passes) + optimal_draft_total(l, passes, self.k, self.alpha)) for p, l in lengths.items()
            )
            cost = passes + self.token_cost_ratio * tokens
            if cost < best_cost:
                best, best_cost = passes, cost
        return best

    def finish_epoch(self) -> None:
        lengths = self._close_epoch()
        self._counts = {problem_id: len(values) for problem_id, values in lengths.items()} or self._counts
        self.fit_acceptance(self._observations)
        self._observations = []
        predicted = {problem_id: self.predicted_length(problem_id) for problem_id in self._history}
        counts = {problem_id: self._counts.get(problem_id, 1) for problem_id in predicted}
        if predicted:
            self.makespan_passes = self.choose_makespan(predicted, counts)
