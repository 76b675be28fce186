import math

import numpy as np
import pytest

from helm_plugins.runners.rl.actors import SimulatedActors
from helm_plugins.runners.rl.learner import (
    Action,
    FactorisedPolicy,
    advantages,
    apply_gradient,
    duration_weights,
    policy_gradient,
)

# a planted bandit: arm -> (reward, duration); the fast arm is the weak one
FAST_WEAK, SLOW_STRONG = 0, 1
ARMS = {FAST_WEAK: (0.5, 1.0), SLOW_STRONG: (1.0, 10.0)}


def bandit_actors(n_actors=8):
    return SimulatedActors(n_actors, lambda a: {"status": "ok", "score": ARMS[a.components["arm"]][0],
                                                 "duration_s": ARMS[a.components["arm"]][1]})


def keep_working(policy, rng):
    """An actor's episode: a first action, then it keeps refining the same approach (same arm)."""
    return lambda previous: previous.action if previous is not None else policy.sample_solve(rng)


def test_duration_weights_average_one_and_reject_bad_durations():
    weights = duration_weights([0.5, 2.0, 7.5, 1.0])
    assert weights.mean() == pytest.approx(1.0)
    assert weights[2] / weights[0] == pytest.approx(15.0)
    for bad in ([1.0, 0.0], [1.0, -2.0], [1.0, math.nan], []):
        with pytest.raises(ValueError):
            duration_weights(bad)


def test_advantages():
    assert advantages([1.0, 3.0], "group_norm").tolist() == [-1.0, 1.0]
    assert advantages([1.0, 3.0], "batch_mean").tolist() == [-1.0, 1.0]
    assert advantages([2.0, 2.0], "group_norm").tolist() == [0.0, 0.0]
    assert advantages([1.0, 3.0], "none").tolist() == [1.0, 3.0]
    policy = FactorisedPolicy({"arm": ["a", "b"]})
    with pytest.raises(ValueError, match="finite"):
        policy_gradient(policy, [policy.sample_solve(np.random.default_rng(0))], [math.inf], [1.0], True)


def test_fast_actions_arrive_more_often_per_wall_time():
    policy = FactorisedPolicy({"arm": ["fast", "slow"]})
    rng = np.random.default_rng(0)
    actors = bandit_actors(64)
    counts = np.zeros(2)
    for _ in range(20):
        for completion in actors.next_batch(keep_working(policy, rng), 10.0).completions:
            counts[completion.action.components["arm"]] += 1
    assert counts[FAST_WEAK] / counts[SLOW_STRONG] == pytest.approx(10.0, rel=0.25)  # pi T / dt: 10x more


@pytest.mark.parametrize("advantage", ["none", "batch_mean"])
def test_weighted_estimator_matches_the_synchronous_expectation(advantage):
    policy = FactorisedPolicy({"arm": ["fast", "slow"]})
    policy.logits["arm"] = np.array([0.3, -0.2])
    pi = policy.probabilities("arm")
    rewards = np.array([ARMS[FAST_WEAK][0], ARMS[SLOW_STRONG][0]])
    baseline = 0.0 if advantage == "none" else float(pi @ rewards)
    # the synchronous gradient: E_pi[(r - b) grad log pi]; grad log pi(a) = onehot(a) - pi
    exact = sum(pi[a] * (rewards[a] - baseline) * (np.eye(2)[a] - pi) for a in range(2))
    rng = np.random.default_rng(1)
    actors = bandit_actors(16)
    estimates = {True: [], False: []}
    for _ in range(150):
        batch = actors.next_batch(keep_working(policy, rng), 10.0).completions
        for weighted in (True, False):
            gradient = policy_gradient(policy, [c.action for c in batch], [c.outcome["score"] for c in batch],
                                       [c.duration for c in batch], weighted, advantage)
            estimates[weighted].append(gradient["arm"])
    weighted, unweighted = np.mean(estimates[True], axis=0), np.mean(estimates[False], axis=0)
    assert np.allclose(weighted, exact, atol=0.012), (weighted, exact)
    assert not np.allclose(unweighted, exact, atol=0.05), (unweighted, exact)
    if advantage == "none":
        assert unweighted[FAST_WEAK] > 0 > exact[FAST_WEAK]  # the unweighted estimate points the wrong way


def train(weighted, advantage, seed, steps=80):
    policy = FactorisedPolicy({"arm": ["fast", "slow"]})
    rng = np.random.default_rng(seed)
    actors = bandit_actors()
    for _ in range(steps):
        batch = actors.next_batch(keep_working(policy, rng), 10.0).completions
        gradient = policy_gradient(policy, [c.action for c in batch], [c.outcome["score"] for c in batch],
                                   [c.duration for c in batch], weighted, advantage)
        apply_gradient(policy, gradient, 0.3)
    return policy.probabilities("arm")


@pytest.mark.parametrize("seed", [0, 1])
def test_unweighted_learner_collapses_to_the_fast_weak_arm_and_weighted_does_not(seed):
    # the paper's estimator on raw rewards: without weights the policy drifts to the fast, weak arm
    assert train(weighted=False, advantage="none", seed=seed)[FAST_WEAK] > 0.9
    assert train(weighted=True, advantage="none", seed=seed)[SLOW_STRONG] > 0.9


def test_group_normalised_advantages_keep_the_direction_on_two_arms():
    # with a centred baseline the two-arm bias changes the step size, not the direction (documented)
    assert train(weighted=False, advantage="group_norm", seed=0)[SLOW_STRONG] > 0.9
    assert train(weighted=True, advantage="group_norm", seed=0)[SLOW_STRONG] > 0.9


def finite_difference(policy, action, name, index, eps=1e-6):
    plus, minus = FactorisedPolicy(policy.heads), FactorisedPolicy(policy.heads)
    for target, sign in ((plus, 1), (minus, -1)):
        target.logits = {k: v.copy() for k, v in policy.logits.items()}
        target.logits[name].flat[index] += sign * eps
    return (plus.log_prob(action) - minus.log_prob(action)) / (2 * eps)


def test_log_prob_gradients_match_finite_differences_for_solve_and_improve():
    rng = np.random.default_rng(3)
    policy = FactorisedPolicy({"features": ["a", "b", "c"], "model": ["x", "y"], "size": ["only"]})
    for name in policy.logits:
        policy.logits[name] = rng.normal(size=policy.logits[name].shape)
    solve = policy.sample_solve(rng)
    improve = policy.sample_improve(solve, "failed", rng)
    assert improve.kind == "improve" and improve.edited in ("features", "model")  # a 1-option head is never edited
    assert improve.components[improve.edited] != solve.components[improve.edited]
    for action in (solve, improve):
        gradient = policy.grad_log_prob(action)
        for name, values in policy.logits.items():
            for index in range(values.size):
                assert gradient[name].flat[index] == pytest.approx(finite_difference(policy, action, name, index),
                                                                   abs=1e-5)
    assert Action.from_dict(improve.as_dict()) == improve


def test_policy_state_round_trip_and_bad_checkpoints():
    policy = FactorisedPolicy({"arm": ["a", "b"]})
    policy.logits["arm"] = np.array([1.0, -1.0])
    again = FactorisedPolicy.from_state(policy.heads, policy.state())
    assert again.probabilities("arm").tolist() == policy.probabilities("arm").tolist()
    with pytest.raises(ValueError, match="shape"):
        FactorisedPolicy.from_state(policy.heads, {"arm": [0.0, 0.0, 0.0]})
    with pytest.raises(ValueError, match="not finite"):
        FactorisedPolicy.from_state(policy.heads, {"arm": [math.nan, 0.0]})
