"""Arena Elo of agents over a task pool and the agreement of two pools' rankings (MLE-Smith's realism check).

- Battles: on every task, every pair of agents with a result plays one battle decided by the task's metric
  (oriented so higher is better; an invalid or missing submission loses to any valid one; equal scores tie).
- Elo: a Bradley-Terry fit of all battles (ties count half a win to each side), P(a beats b) =
  1 / (1 + 10^((R_b - R_a) / 400)), ratings centred on 1000; a weak Gaussian prior (sd 400 Elo points by
  default) keeps ratings finite when an agent wins or loses every battle.
- Intervals: the bootstrap over tasks (a task's battles are resampled together), percentile intervals.
- Agreement of two pools' Elo over the agents they share: Pearson, Spearman, Kendall tau-b, Lin's concordance
  correlation (CCC) and top-k overlap, each with a bootstrap interval (tasks of each pool resampled independently).
"""

import math
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
from scipy import optimize, stats

SCALE = 400.0 / math.log(10.0)  # natural-log strength -> Elo points
BASE = 1000.0

Scores = Mapping[str, Mapping[str, Optional[float]]]  # task -> agent -> oriented score (None: invalid / missing)


def battles(scores: Scores, agents: Sequence[str]) -> List[Tuple[str, int, int, float]]:
    """(task, i, j, outcome for i: 1 win, 0.5 tie, 0 loss) for every pair of agents on every task."""
    index = {a: k for k, a in enumerate(agents)}
    out = []
    for task, by_agent in scores.items():
        present = [a for a in agents if a in by_agent]
        for x in range(len(present)):
            for y in range(x + 1, len(present)):
                a, b = present[x], present[y]
                sa = -math.inf if by_agent[a] is None else by_agent[a]
                sb = -math.inf if by_agent[b] is None else by_agent[b]
                outcome = 0.5 if sa == sb else float(sa > sb)
                out.append((task, index[a], index[b], outcome))
    return out


def bradley_terry(pairs: Sequence[Tuple[int, int, float]], n: int, prior_sd: float = 400.0,
                  weights: Optional[Sequence[float]] = None) -> np.ndarray:
    """Elo ratings (mean 1000) maximising the Bradley-Terry likelihood of (i, j, outcome for i) with a Gaussian
    prior of sd `prior_sd` Elo points on each rating."""
    if n == 0:
        return np.zeros(0)
    i = np.array([p[0] for p in pairs], int)
    j = np.array([p[1] for p in pairs], int)
    y = np.array([p[2] for p in pairs], float)
    w = np.ones(len(pairs)) if weights is None else np.asarray(weights, float)
    precision = (SCALE / prior_sd) ** 2

    def loss(theta):
        d = theta[i] - theta[j]
        p = 1.0 / (1.0 + np.exp(-d))
        value = -np.sum(w * (y * np.log(p + 1e-300) + (1 - y) * np.log(1 - p + 1e-300))) + 0.5 * precision * theta @ theta
        g = w * (p - y)
        grad = np.bincount(i, g, n) - np.bincount(j, g, n) + precision * theta
        return value, grad

    result = optimize.minimize(loss, np.zeros(n), jac=True, method="L-BFGS-B")
    theta = result.x - result.x.mean()
    return BASE + SCALE * theta


@dataclass
class EloResult:
    agents: List[str]
    elo: Dict[str, float]
    low: Dict[str, float]
    high: Dict[str, float]
    n_tasks: int
    n_battles: int
    samples: np.ndarray  # bootstrap x agents


def elo(scores: Scores, agents: Sequence[str], bootstrap: int = 200, seed: int = 0, level: float = 0.95,
        prior_sd: float = 400.0) -> EloResult:
    agents = list(agents)
    tasks = sorted(scores)
    per_task = {t: battles({t: scores[t]}, agents) for t in tasks}
    point = bradley_terry([b[1:] for t in tasks for b in per_task[t]], len(agents), prior_sd)
    rng = np.random.default_rng(seed)
    samples = np.zeros((bootstrap, len(agents)))
    for k in range(bootstrap):
        chosen = rng.integers(0, len(tasks), len(tasks))
        counts = np.bincount(chosen, minlength=len(tasks))
        pairs, weights = [], []
        for t, c in zip(tasks, counts):
            if c:
                pairs += [b[1:] for b in per_task[t]]
                weights += [float(c)] * len(per_task[t])
        samples[k] = bradley_terry(pairs, len(agents), prior_sd, weights) if pairs else BASE
    alpha = (1 - level) / 2
    low = np.quantile(samples, alpha, axis=0) if bootstrap else point
    high = np.quantile(samples, 1 - alpha, axis=0) if bootstrap else point
    return EloResult(agents, dict(zip(agents, point)), dict(zip(agents, low)), dict(zip(agents, high)), len(tasks),
                     sum(len(v) for v in per_task.values()), samples)


# ---------------------------------------------------------------------------------------------- agreement

def ccc(x: Sequence[float], y: Sequence[float]) -> float:
    """Lin's concordance correlation coefficient (population moments)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    covariance = np.mean((x - x.mean()) * (y - y.mean()))
    return float(2 * covariance / (x.var() + y.var() + (x.mean() - y.mean()) ** 2))


def top_k_overlap(x: Sequence[float], y: Sequence[float], k: int) -> float:
    """Share of the top k of x (by value) that are in the top k of y."""
    top_x = set(np.argsort(-np.asarray(x, float), kind="stable")[:k])
    top_y = set(np.argsort(-np.asarray(y, float), kind="stable")[:k])
    return len(top_x & top_y) / k


def agreement_statistics(x: Sequence[float], y: Sequence[float], k: int = 3) -> Dict[str, float]:
    x, y = np.asarray(x, float), np.asarray(y, float)
    values = {
        "pearson": float(stats.pearsonr(x, y)[0]),
        "spearman": float(stats.spearmanr(x, y)[0]),
        "kendall_tau_b": float(stats.kendalltau(x, y, variant="b")[0]),
        "ccc": ccc(x, y),
        f"top{k}_overlap": top_k_overlap(x, y, k),
    }
    return {name: (v if math.isfinite(v) else float("nan")) for name, v in values.items()}


def agreement(first: EloResult, second: EloResult, k: int = 3, level: float = 0.95) -> Dict[str, Dict[str, float]]:
    """{statistic: {estimate, low, high}} over the agents both pools rated (bootstrap samples paired by index)."""
    shared = [a for a in first.agents if a in second.agents]
    if len(shared) < 3:
        raise ValueError(f"agreement needs at least 3 agents rated in both pools, got {len(shared)}: {shared}")
    k = min(k, len(shared) - 1)
    fi = [first.agents.index(a) for a in shared]
    si = [second.agents.index(a) for a in shared]
    estimate = agreement_statistics([first.elo[a] for a in shared], [second.elo[a] for a in shared], k)
    draws = min(len(first.samples), len(second.samples))
    boot = [agreement_statistics(first.samples[b, fi], second.samples[b, si], k) for b in range(draws)]
    alpha = (1 - level) / 2
    out = {}
    for name, value in estimate.items():
        column = np.array([d[name] for d in boot], float)
        column = column[np.isfinite(column)]
        low, high = (np.quantile(column, [alpha, 1 - alpha]) if len(column) else (math.nan, math.nan))
        out[name] = {"estimate": value, "low": float(low), "high": float(high)}
    return out
