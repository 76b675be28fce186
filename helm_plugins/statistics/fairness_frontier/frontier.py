"""Loss-fairness Pareto frontiers and their scaling law (arXiv 2509.05627).

A soft classifier f(x, a) in [0, 1] has a binary cross-entropy (BCE) and a soft demographic-parity gap
Delta(f) = E[f | A = 0] - E[f | A = 1]. Training with BCE + lambda * Delta over a grid of lambda traces the
trade-off; the empirical Pareto frontier is the lower convex hull of the (Delta, BCE) points.

The frontier's closed form (the paper's Theorem 4.2, as reconstructed in the reference notes; the exact Eq. 3 is
unverified), with mu = c'' - Delta and model size N, data size D:

    Loss(Delta) = C1 + C2 (N^-C3 + D^-C4)
                  + c [ -c' log mu - (1 - c') log(1 - mu) + c' (1 - mu) / (2 mu) + (1 - c') mu / (2 (1 - mu)) ]

Seven constants (C1, C2, C3, C4, c, c', c''). The fit is conservative: the curve must lie at or below every
empirical frontier point (a true frontier is never above an observed model), which SLSQP enforces as
inequality constraints. The "less discriminatory alternative" check asks how much smaller |Delta| the
(extrapolated) frontier reaches at a comparable loss: the contested model's loss plus a tolerance epsilon.
"""

from dataclasses import asdict, dataclass
from typing import Optional, Sequence, Tuple

import numpy as np
from scipy.optimize import minimize
from scipy.spatial import ConvexHull, QhullError

PARAMETERS = ("C1", "C2", "C3", "C4", "c", "c1", "c2")  # c1 = c', c2 = c''


def soft_dp_gap(scores: Sequence[float], groups: Sequence[int]) -> float:
    """E[f | A = 0] - E[f | A = 1] of soft scores f in [0, 1]."""
    scores, groups = np.asarray(scores, dtype=float), np.asarray(groups)
    if not set(np.unique(groups)) <= {0, 1} or len(np.unique(groups)) != 2:
        raise ValueError("groups must be 0/1 labels with both groups present")
    return float(scores[groups == 0].mean() - scores[groups == 1].mean())


def bce(scores: Sequence[float], labels: Sequence[int], eps: float = 1e-7) -> float:
    scores = np.clip(np.asarray(scores, dtype=float), eps, 1 - eps)
    labels = np.asarray(labels, dtype=float)
    return float(-np.mean(labels * np.log(scores) + (1 - labels) * np.log(1 - scores)))


def lower_convex_hull(points: np.ndarray) -> np.ndarray:
    """Vertices of the lower convex hull of (Delta, loss) points, sorted by Delta."""
    points = np.asarray(points, dtype=float)
    if points.ndim != 2 or points.shape[1] != 2 or len(points) == 0:
        raise ValueError(f"expected (n, 2) points, got shape {points.shape}")
    if not np.all(np.isfinite(points)):
        raise ValueError("points must be finite")
    unique = np.unique(points, axis=0)
    if len(unique) < 3:
        return unique[np.argsort(unique[:, 0])]
    try:
        hull = ConvexHull(unique)
    except QhullError:  # all on a line: the lowest point of each Delta forms the hull
        order = np.lexsort((unique[:, 1], unique[:, 0]))
        return unique[order][[0, -1]]
    lower = set()
    for simplex, equation in zip(hull.simplices, hull.equations):
        if equation[1] < 0:  # the outward normal points down: a lower facet
            lower.update(simplex.tolist())
    vertices = unique[sorted(lower)]
    return vertices[np.argsort(vertices[:, 0])]


def pareto_frontier(points: np.ndarray, parity: float = 0.0) -> np.ndarray:
    """The empirical loss-fairness frontier: among (Delta, loss) points on the side of parity where the
    lowest-loss model lies, those between parity (Delta = `parity`, with a margin down to the closest point
    beyond it) and the lowest-loss model; their lower convex hull. Models more unfair than the lowest-loss one are
    dominated (worse loss and worse gap) and are not on the frontier."""
    points = np.asarray(points, dtype=float)
    best = points[np.argmin(points[:, 1])]
    sign = 1.0 if best[0] >= parity else -1.0
    side = sign * (points[:, 0] - parity)
    beyond = side[side < 0]
    margin = beyond.max() if len(beyond) else 0.0  # the point just past parity closes the frontier
    keep = (side >= margin) & (side <= sign * (best[0] - parity))
    return lower_convex_hull(points[keep])


def frontier_loss(delta, n, d, params) -> np.ndarray:
    C1, C2, C3, C4, c, c1, c2 = params
    mu = c2 - np.asarray(delta, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        shape = -c1 * np.log(mu) - (1 - c1) * np.log(1 - mu) + c1 * (1 - mu) / (2 * mu) + (1 - c1) * mu / (2 * (1 - mu))
    return C1 + C2 * (np.asarray(n, dtype=float) ** -C3 + np.asarray(d, dtype=float) ** -C4) + c * shape


def frontier_jacobian(delta, n, d, params) -> np.ndarray:
    """d Loss / d (C1, C2, C3, C4, c, c', c'') at each point, shape (points, 7): the fit's exact gradients."""
    C1, C2, C3, C4, c, c1, c2 = params
    delta = np.asarray(delta, dtype=float)
    n, d = np.broadcast_to(np.asarray(n, dtype=float), delta.shape), np.broadcast_to(np.asarray(d, dtype=float), delta.shape)
    mu = c2 - delta
    with np.errstate(divide="ignore", invalid="ignore"):
        shape = -c1 * np.log(mu) - (1 - c1) * np.log(1 - mu) + c1 * (1 - mu) / (2 * mu) + (1 - c1) * mu / (2 * (1 - mu))
        d_c1 = -np.log(mu) + np.log(1 - mu) + (1 - mu) / (2 * mu) - mu / (2 * (1 - mu))
        d_mu = -c1 / mu + (1 - c1) / (1 - mu) - c1 / (2 * mu**2) + (1 - c1) / (2 * (1 - mu) ** 2)
    n_term, d_term = n**-C3, d**-C4
    return np.column_stack([np.ones_like(delta), n_term + d_term, -C2 * np.log(n) * n_term, -C2 * np.log(d) * d_term,
                            shape, c * d_c1, c * d_mu])


@dataclass
class FrontierFit:
    C1: float
    C2: float
    C3: float
    C4: float
    c: float
    c1: float
    c2: float
    max_violation: float  # largest amount by which the curve exceeds a point (<= ~0: conservative)
    rmse: float

    @property
    def params(self) -> Tuple[float, ...]:
        return tuple(getattr(self, name) for name in PARAMETERS)

    def loss(self, delta, n, d) -> np.ndarray:
        return frontier_loss(delta, n, d, self.params)

    def as_dict(self) -> dict:
        return asdict(self)


def fit_frontier(
    delta: Sequence[float], loss: Sequence[float], n: Sequence[float], d: Sequence[float],
    conservative: bool = True, fixed_c4: Optional[float] = 0.5, starts: int = 20, seed: int = 0,
    size_independent: bool = False,
) -> FrontierFit:
    """Least squares of the closed form on frontier points (one row per point, with its model and data size),
    constrained to lie at or below every point when `conservative`. C4 is fixed (0.5, as the paper often does)
    unless data sizes vary. Several random starts; the best feasible one is kept. `size_independent` fixes
    C2 = 0: one frontier for every size (the baseline an extrapolation must beat)."""
    delta, loss, n, d = (np.asarray(v, dtype=float) for v in (delta, loss, n, d))
    if not (len(delta) == len(loss) == len(n) == len(d)):
        raise ValueError("delta, loss, n and d must have the same length")
    free = 6 if fixed_c4 is not None else 7
    if len(delta) < free:
        raise ValueError(f"{len(delta)} frontier points cannot determine {free} free constants")
    if len(np.unique(n)) < 2 and not size_independent:
        raise ValueError("the frontier fit needs at least two model sizes")
    if not (np.all(np.isfinite(delta)) and np.all(np.isfinite(loss))):
        raise ValueError("non-finite frontier points")
    low, high = delta.min(), delta.max()
    if high - low >= 1:
        raise ValueError(
            f"frontier gaps span {low:.3f}..{high:.3f}: the closed form covers a range narrower than 1 "
            "(mu = c'' - Delta in (0, 1)); fit one side of parity"
        )

    def unpack(x):
        C1, C2, C3, c, c1, c2 = x[:6]
        C4 = fixed_c4 if fixed_c4 is not None else x[6]
        return (C1, C2, C3, C4, c, c1, c2)

    columns = [0, 1, 2, 4, 5, 6] + ([] if fixed_c4 is not None else [3])  # the free constants, in the order of x

    def objective(x):
        residual = frontier_loss(delta, n, d, unpack(x)) - loss
        return float(np.mean(residual**2)) if np.all(np.isfinite(residual)) else 1e6

    def gradient(x):
        residual = frontier_loss(delta, n, d, unpack(x)) - loss
        if not np.all(np.isfinite(residual)):
            return np.zeros(len(x))
        return 2 * frontier_jacobian(delta, n, d, unpack(x))[:, columns].T @ residual / len(residual)

    bounds = [(-10, 10), (0, 0) if size_independent else (0, 1e4), (0.05, 3), (0, 1), (0, 1), (high + 1e-3, low + 1 - 1e-3)]
    if fixed_c4 is None:
        bounds.append((0.05, 3))
    constraints = [{"type": "ineq", "fun": lambda x: loss - frontier_loss(delta, n, d, unpack(x)),
                    "jac": lambda x: -frontier_jacobian(delta, n, d, unpack(x))[:, columns]}] if conservative else []
    rng = np.random.default_rng(seed)
    best = None
    for _ in range(starts):
        x0 = [rng.uniform(lo, hi) for lo, hi in bounds]
        x0[1] = 0.0 if size_independent else rng.uniform(0, 10)
        x0[0] = loss.min() - rng.uniform(0, 0.5)
        result = minimize(objective, x0, jac=gradient, method="SLSQP", bounds=bounds, constraints=constraints,
                          options={"maxiter": 500, "ftol": 1e-12})
        violation = float(np.max(frontier_loss(delta, n, d, unpack(result.x)) - loss))
        feasible = violation <= 1e-6 or not conservative
        key = (not feasible, result.fun)
        if best is None or key < best[0]:
            best = (key, result.x, violation)
    _, x, violation = best
    params = unpack(x)
    return FrontierFit(*params, max_violation=violation, rmse=float(np.sqrt(objective(x))))


def less_discriminatory_alternative(fit: FrontierFit, contested_delta: float, contested_loss: float, n: float, d: float,
                                    epsilon: float = 0.0, grid: int = 2001) -> dict:
    """How much closer to parity the predicted frontier gets at a comparable loss: no more than the contested
    model's loss plus the tolerance `epsilon` (in loss units; the paper's question allows a comparable, not only
    a lower, loss). A model on the frontier has no alternative at epsilon = 0 but has one for any epsilon > 0."""
    if not (np.isfinite(epsilon) and epsilon >= 0):
        raise ValueError(f"the loss tolerance epsilon must be finite and >= 0, got {epsilon}")
    deltas = np.linspace(fit.c2 - 1 + 1e-4, fit.c2 - 1e-4, grid)
    losses = fit.loss(deltas, n, d)
    feasible = np.isfinite(losses) & (losses <= contested_loss + epsilon)
    if not feasible.any():
        return {"epsilon": epsilon, "achievable_gap": None, "improvement": 0.0}
    best = float(np.min(np.abs(deltas[feasible])))
    return {"epsilon": epsilon, "achievable_gap": best, "improvement": float(max(abs(contested_delta) - best, 0.0))}


def empirical_alternatives(points: Sequence[dict], contested: dict, epsilon: float = 0.0, delta: float = 0.0) -> list:
    """The trained models (dicts with dp_gap and bce) other than `contested` whose loss is at most the contested
    loss + epsilon and whose |gap| is at least `delta` smaller."""
    return [p for p in points if p is not contested and p["bce"] <= contested["bce"] + epsilon
            and abs(p["dp_gap"]) <= abs(contested["dp_gap"]) - delta and abs(p["dp_gap"]) < abs(contested["dp_gap"])]
