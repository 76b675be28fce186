import math

import numpy as np
import pytest

from helm_plugins.runners.speculative.budget import (
    BudgetRequest,
    CostModelBudget,
    LengthAwareBudget,
    UniformBudget,
    UnlimitedBudget,
    accepted_tokens,
    optimal_draft_total,
)
from helm_plugins.runners.speculative.drafters import DraftRequest, NGramDrafter, SuffixDrafter


def test_ngram_lookup_proposes_what_followed_the_latest_match():
    request = DraftRequest("p", [5, 1, 2, 3, 9, 1, 2, 4, 7, 1, 2])
    draft = NGramDrafter(min_n=2, max_n=3).propose(request, 3)
    assert draft.tokens == [4, 7, 1] and draft.match_length == 2
    assert NGramDrafter(min_n=3, max_n=3).propose(request, 3).tokens == []
    with pytest.raises(ValueError, match="min_n <= max_n"):
        NGramDrafter(min_n=4, max_n=2)


def test_problem_scope_uses_that_problems_recent_rollouts_only():
    drafter = SuffixDrafter("das", ["problem"], max_depth=8, min_probability=0.0, window_epochs=1, rollouts_per_epoch=1)
    drafter.finish_epoch([("a", [1, 2, 3, 4]), ("b", [1, 2, 5, 6])])
    request = DraftRequest("a", [0, 1, 2])
    drafter.start(request)
    assert drafter.propose(request, 4).tokens == [3, 4]
    assert drafter.propose(DraftRequest("unseen", [1, 2]), 4).tokens == []  # an unseen problem has no tree
    drafter.finish_epoch([("a", [1, 2, 7, 8])])  # window of one step: the old rollout is evicted
    assert drafter.propose(request, 4).tokens == [7, 8]


def test_request_scope_drafts_from_the_requests_own_tokens():
    drafter = SuffixDrafter("local", ["request"], max_depth=8, min_probability=0.0)
    request = DraftRequest("p", [4, 5, 6, 1, 4, 5])
    drafter.start(request)
    assert drafter.propose(request, 2).tokens == [6, 1]
    drafter.accept(request, [6])
    assert request.output == [6] and drafter.propose(request, 1).tokens == [1]


def test_global_scope_and_bad_scopes():
    drafter = SuffixDrafter("global", ["global"], max_depth=8, min_probability=0.0)
    drafter.finish_epoch([("a", [1, 2, 3])])
    assert drafter.propose(DraftRequest("b", [9, 1, 2]), 2).tokens == [3]
    with pytest.raises(ValueError, match="non-empty subset"):
        SuffixDrafter("x", ["problems"])
    with pytest.raises(ValueError, match="window_epochs must be at least 1"):
        SuffixDrafter("x", ["problem"], window_epochs=0)


def test_uniform_and_unlimited_budgets():
    assert UniformBudget(4).max_draft(BudgetRequest("p", 0, 3)) == 4
    assert UnlimitedBudget(64).max_draft(BudgetRequest("p", 10)) == 64
    with pytest.raises(ValueError, match="cannot be negative"):
        UniformBudget(-1)


def test_length_aware_budget_is_zero_for_short_requests_and_grows_with_length():
    budget = LengthAwareBudget(window_epochs=2, long_fraction=0.8)
    assert budget.max_draft(BudgetRequest("new", 0)) == 8  # unseen: medium
    for problem, length, passes in [("short", 10, 10), ("mid", 60, 15), ("long", 100, 20)]:
        budget.observe(problem, length, passes)
    budget.finish_epoch()
    assert budget.makespan_estimate == pytest.approx(100 / 4)  # longest / median drafted tokens per pass
    assert budget.max_draft(BudgetRequest("short", 0)) == 0
    assert budget.max_draft(BudgetRequest("short", 0, 5)) == 0
    assert budget.max_draft(BudgetRequest("short", 30, 5)) == 5  # ran past the makespan: promoted to medium
    assert budget.max_draft(BudgetRequest("mid", 0, 3)) == 3  # medium: factor 1 x match length
    assert budget.max_draft(BudgetRequest("long", 0, 3)) == 6  # long: factor 2 x match length
    assert budget.max_draft(BudgetRequest("long", 0, 30)) == 16  # capped by max_spec
    assert budget.max_draft(BudgetRequest("long", 0, 0)) == 0  # nothing matched: nothing to draft


def test_closed_form_draft_total_finishes_exactly_within_the_makespan():
    k, alpha = 0.8, 1.5
    assert optimal_draft_total(40, 50, k, alpha) == 0  # fits in the makespan without drafting
    for length, passes in [(100, 60), (100, 40), (300, 120)]:
        total = optimal_draft_total(length, passes, k, alpha)
        assert accepted_tokens(length, total, k, alpha) == pytest.approx(length - passes)
    assert optimal_draft_total(100, 10, k, alpha) == math.inf  # needs 90 accepted, at most k l = 80 possible
    # the budget grows with the remaining length at a fixed makespan
    totals = [optimal_draft_total(length, 50, k, alpha) for length in (60, 80, 100, 120)]
    assert totals == sorted(totals) and totals[0] > 0


def test_cost_model_budget_recovers_a_planted_acceptance_curve():
    rng = np.random.default_rng(0)
    budget = CostModelBudget(window_epochs=2)
    observations = []
    for _ in range(60):
        length, drafted = int(rng.integers(20, 120)), int(rng.integers(5, 300))
        observations.append((length, drafted, round(accepted_tokens(length, drafted, 0.7, 2.0))))
    budget.fit_acceptance(observations)
    assert budget.k == pytest.approx(0.7, abs=0.03) and budget.alpha == pytest.approx(2.0, rel=0.1)
    budget.fit_acceptance(observations[:2])  # too few to identify two parameters: unchanged
    assert budget.k == pytest.approx(0.7, abs=0.03)


def test_cost_model_budget_drafts_nothing_for_short_requests_and_more_for_long_ones():
    budget = CostModelBudget(window_epochs=2, token_cost_ratio=0.01, k=0.8, alpha=1.0, max_tokens=16)
    assert budget.max_draft(BudgetRequest("new", 0)) == 8  # before any history: the initial uniform budget
    for problem, length in [("short", 10), ("mid", 60), ("long", 100)]:
        for _ in range(4):
            budget.observe(problem, length)  # nothing drafted: no acceptance data, the prior k, alpha stay
    budget.finish_epoch()
    n = budget.makespan_passes

    def step_cost(passes):  # c_base units: passes + c_tok / c_base x processed tokens of the 12 rollouts
        return passes + 0.01 * 4 * sum(min(l, passes) + optimal_draft_total(l, passes, 0.8, 1.0) for l in (10, 60, 100))

    assert 10 < n < 100 and step_cost(n) == min(step_cost(passes) for passes in range(1, 101))
    assert budget.max_draft(BudgetRequest("short", 0)) == 0
    # each step may draft what remains of p*(remaining length, remaining passes), at most max_tokens
    budgets = [budget.max_draft(BudgetRequest("long", 100 - remaining, None, n - 3)) for remaining in (3, 4, 5, 6, 20)]
    assert budgets == [0, 2, 4, 6, 16]  # ceil(p*(l, 3)) for l = 3..6 with k 0.8, alpha 1; capped at 16
    assert budgets[1:4] == [math.ceil(optimal_draft_total(length, 3, 0.8, 1.0)) for length in (4, 5, 6)]
    assert budget.max_draft(BudgetRequest("long", 0)) == 16
    assert budget.max_draft(BudgetRequest("short", 11)) == 16  # longer than ever predicted: a straggler
    assert budget.max_draft(BudgetRequest("mid", 0, None, n)) == 16  # out of passes: behind schedule
    with pytest.raises(ValueError, match="cannot be negative"):
        CostModelBudget(token_cost_ratio=-1)
