import pytest

from helm_plugins.runners.speculative.budget import BudgetRequest, LengthAwareBudget, UniformBudget, UnlimitedBudget
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
