"""Markov chains with Zipf-distributed transitions: data with a known distribution, count models trained on
samples of it, and exact per-step entropies and log losses, for the calibration checks."""

from typing import Tuple

import numpy as np

from helm_plugins.statistics.entropy_calibration.measures import entropy, with_temperature


def zipf_chain(states: int, alpha: float, seed: int = 0) -> np.ndarray:
    """Transition matrix: each row a Zipf(alpha) distribution over a random permutation of the states."""
    rng = np.random.default_rng(seed)
    base = np.arange(1, states + 1, dtype=float) ** -alpha
    base /= base.sum()
    return np.stack([base[rng.permutation(states)] for _ in range(states)])


def sample_chain(transitions: np.ndarray, sequences: int, steps: int, seed: int = 0, temperature: float = 1.0) -> np.ndarray:
    """sequences x (steps + 1) states; the first is drawn uniformly (the prompt)."""
    rng = np.random.default_rng(seed)
    probabilities = with_temperature(transitions, temperature) if temperature != 1.0 else transitions
    cumulative = np.cumsum(probabilities, axis=1)
    states = np.empty((sequences, steps + 1), dtype=int)
    states[:, 0] = rng.integers(0, len(transitions), sequences)
    for t in range(steps):
        u = rng.random(sequences)[:, None]
        states[:, t + 1] = np.minimum((u > cumulative[states[:, t]]).sum(axis=1), len(transitions) - 1)
    return states


def count_model(data: np.ndarray, states: int, k: float = 0.1) -> np.ndarray:
    """Add-k bigram estimate from sampled sequences."""
    counts = np.full((states, states), k)
    np.add.at(counts, (data[:, :-1].ravel(), data[:, 1:].ravel()), 1.0)
    return counts / counts.sum(axis=1, keepdims=True)


def measure(model: np.ndarray, truth: np.ndarray, sequences: int, steps: int, temperature: float = 1.0,
            seed: int = 0) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(exact generation entropies, sampled-token NLLs of the generations, log losses on human sequences),
    each sequences x steps, for the model at `temperature`."""
    tempered = with_temperature(model, temperature)
    generated = sample_chain(model, sequences, steps, seed=seed, temperature=temperature)
    exact = entropy(tempered[generated[:, :-1]])
    sampled = -np.log(tempered[generated[:, :-1], generated[:, 1:]])
    human = sample_chain(truth, sequences, steps, seed=seed + 1)
    log_loss = -np.log(tempered[human[:, :-1], human[:, 1:]])
    return exact, sampled, log_loss
