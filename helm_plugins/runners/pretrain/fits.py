"""Saturating power laws L(x) = alpha * x^(-exponent) + offset, their inverse, and percentile intervals.

The optimizer study fits AdamW's loss against training tokens, L(D) = alpha * D^-B + beta, and converts any loss
L into the data AdamW would need for it, D_eff = ((L - beta) / alpha)^(-1/B); speedup = D_eff / D.
"""

import math
from dataclasses import asdict, dataclass
from typing import Dict, Optional, Sequence, Tuple

import numpy as np


@dataclass(frozen=True)
class PowerLaw:
    alpha: float
    exponent: float
    offset: float

    def __call__(self, x: float) -> float:
        return self.alpha * x ** (-self.exponent) + self.offset

    def inverse(self, loss: float) -> float:
        """The x at which the law reaches `loss`; inf at or below the asymptote."""
        if loss <= self.offset:
            return math.inf
        return ((loss - self.offset) / self.alpha) ** (-1 / self.exponent)

    def as_dict(self) -> Dict[str, float]:
        return asdict(self)


def _linear_parts(basis: np.ndarray, y: np.ndarray, top: float):
    """For each row v of `basis`: min over alpha >= 0, 0 <= offset <= top of ||y - alpha v - offset||^2 (a convex
    quadratic in two variables: the best of the interior solution and of the four edges). (rss, alpha, offset)."""
    n = y.shape[0]
    mean_v, mean_y = basis.mean(axis=1), y.mean()
    var_v = (basis**2).mean(axis=1) - mean_v**2
    cov = (basis @ y) / n - mean_v * mean_y
    with np.errstate(divide="ignore", invalid="ignore"):
        interior_alpha = np.where(var_v > 1e-300, cov / var_v, 0.0)
    interior_offset = mean_y - interior_alpha * mean_v
    candidates = [(interior_alpha, interior_offset, (interior_alpha >= 0) & (interior_offset >= 0) & (interior_offset <= top))]
    for fixed in (0.0, top):
        offset = np.full_like(mean_v, fixed)
        alpha = np.maximum((basis @ (y - fixed)) / np.einsum("ij,ij->i", basis, basis), 0.0)
        candidates.append((alpha, offset, np.ones_like(mean_v, dtype=bool)))
    flat = np.full_like(mean_v, min(max(mean_y, 0.0), top))
    candidates.append((np.zeros_like(mean_v), flat, np.ones_like(mean_v, dtype=bool)))
    best_rss = np.full_like(mean_v, np.inf)
    best_alpha, best_offset = np.zeros_like(mean_v), np.zeros_like(mean_v)
    for alpha, offset, feasible in candidates:
        rss = ((y[None, :] - alpha[:, None] * basis - offset[:, None]) ** 2).sum(axis=1)
        better = feasible & (rss < best_rss)
        best_rss, best_alpha, best_offset = (np.where(better, rss, best_rss), np.where(better, alpha, best_alpha),
                                             np.where(better, offset, best_offset))
    return best_rss, best_alpha, best_offset


POWER_LAW_EXPONENTS = np.linspace(1e-3, 3.0, 200)


def fit_power_law(x: Sequence[float], y: Sequence[float], initial: Optional[PowerLaw] = None) -> PowerLaw:
    """Least squares with alpha >= 0, exponent in (0, 3], 0 <= offset < min(y); needs >= 3 distinct x.

    Variable projection: for a fixed exponent alpha and the offset are a linear least-squares problem (solved in
    closed form under the bounds), so the exponent is found by a grid search refined with Brent's method: the
    global optimum over the exponent's range, with no starting point to choose. `initial` is accepted for callers
    that pass a reference fit and is not needed."""
    from scipy.optimize import minimize_scalar

    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) < 3 or len(set(x.tolist())) < 3:
        raise ValueError(f"a power law with an offset has 3 parameters: it needs >= 3 distinct x, got {sorted(set(x.tolist()))}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y)) and np.all(x > 0)):
        raise ValueError(f"power-law fit: x must be positive and finite, y finite (x={x.tolist()}, y={y.tolist()})")
    scale = float(np.exp(np.mean(np.log(x))))  # fit in units of the geometric mean of x: well-conditioned
    log_u = np.log(x / scale)
    top = max(float(y.min()) - 1e-9, 0.0)

    def solve(exponents: np.ndarray):
        return _linear_parts(np.exp(-np.outer(exponents, log_u)), y, top)

    rss, _, _ = solve(POWER_LAW_EXPONENTS)
    i = int(np.argmin(rss))
    low, high = POWER_LAW_EXPONENTS[max(i - 1, 0)], POWER_LAW_EXPONENTS[min(i + 1, len(POWER_LAW_EXPONENTS) - 1)]
    refined = minimize_scalar(lambda e: float(solve(np.array([e]))[0][0]), bounds=(low, high), method="bounded",
                              options={"xatol": 1e-7})
    exponent = float(refined.x) if refined.fun <= rss[i] else float(POWER_LAW_EXPONENTS[i])
    _, alpha, offset = solve(np.array([exponent]))
    return PowerLaw(float(alpha[0] * scale**exponent), exponent, float(offset[0]))


def speedup(law: PowerLaw, loss: float, tokens: float) -> float:
    """D_eff / D: how much more data the fitted optimizer needs to reach `loss` than `tokens`."""
    return law.inverse(loss) / tokens


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float

    def as_dict(self) -> Dict[str, Optional[float]]:
        return {k: (v if math.isfinite(v) else None) for k, v in asdict(self).items()}


def percentile_interval(estimate: float, replicates: Sequence[float], level: float = 0.95) -> Interval:
    values = np.asarray([v for v in replicates if not math.isnan(v)], dtype=float)
    if not len(values):
        return Interval(estimate, math.nan, math.nan)
    tail = (1 - level) / 2 * 100
    # the order statistics just outside the nominal tails: safe with infinite replicates (beyond the asymptote)
    low, high = np.percentile(values, tail, method="lower"), np.percentile(values, 100 - tail, method="higher")
    return Interval(estimate, float(low), float(high))



# ----- the asymptote with a profile-likelihood interval -----

EXPONENT_GRID = np.linspace(0.01, 3.0, 150)  # the exponent is profiled out over this grid, then refined


@dataclass(frozen=True)
class AsymptoteFit:
    """L(x) = alpha * x^-exponent + offset fitted to every replicate point (not to means), with the likelihood-ratio
    interval of the offset E: {E : RSS(E) - RSS_min <= s^2 F(1, n - 3; level)}, s^2 = RSS_min / (n - 3), where RSS(E)
    minimises over alpha and the exponent with E fixed. `low_at_bound` marks an interval cut at E = 0."""

    law: PowerLaw
    interval: Interval
    points: int
    residual_sd: float
    low_at_bound: bool

    def as_dict(self) -> Dict[str, object]:
        return {
            "fit": self.law.as_dict(),
            "offset_interval": self.interval.as_dict(),
            "points": self.points,
            "residual_sd": self.residual_sd,
            "low_at_bound": self.low_at_bound,
        }


def _profile_rss(log_u: np.ndarray, y: np.ndarray, offset: float) -> Tuple[float, float, float]:
    """(rss, log-scale alpha, exponent) minimising over alpha >= 0 (closed form) and the exponent (grid + Brent)."""
    from scipy.optimize import minimize_scalar

    z = y - offset

    def rss_at(exponents: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        basis = np.exp(-np.outer(exponents, log_u))
        alpha = np.maximum((basis @ z) / np.einsum("ij,ij->i", basis, basis), 0.0)
        return ((z - alpha[:, None] * basis) ** 2).sum(axis=1), alpha

    rss, alpha = rss_at(EXPONENT_GRID)
    i = int(np.argmin(rss))
    low, high = EXPONENT_GRID[max(i - 1, 0)], EXPONENT_GRID[min(i + 1, len(EXPONENT_GRID) - 1)]
    refined = minimize_scalar(lambda e: float(rss_at(np.array([e]))[0][0]), bounds=(low, high), method="bounded",
                              options={"xatol": 1e-5})
    if refined.fun < rss[i]:
        exponent = float(refined.x)
        best_rss, best_alpha = rss_at(np.array([exponent]))
        return float(best_rss[0]), float(best_alpha[0]), exponent
    return float(rss[i]), float(alpha[i]), float(EXPONENT_GRID[i])


def fit_asymptote(x: Sequence[float], y: Sequence[float], level: float = 0.95) -> AsymptoteFit:
    """Fit L(x) = alpha x^-exponent + E to replicate points (several y per x allowed) with E's profile interval.

    Needs >= 3 distinct x and more points than the 3 parameters (else ValueError: no silent exact fit)."""
    from scipy.optimize import brentq, minimize_scalar
    from scipy.stats import f as f_distribution

    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) != len(y):
        raise ValueError(f"asymptote fit: {len(x)} x values but {len(y)} losses")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y)) and np.all(x > 0)):
        raise ValueError(f"asymptote fit: x must be positive and finite, losses finite (x={x.tolist()}, y={y.tolist()})")
    distinct = sorted(set(x.tolist()))
    if len(distinct) < 3 or len(x) <= 3:
        raise ValueError(
            f"L(x) = A/x^alpha + E has 3 parameters: its fit needs >= 3 distinct x and more than 3 points "
            f"(got {len(x)} points at x = {distinct}); add sizes or seeds"
        )
    scale = float(np.exp(np.mean(np.log(x))))
    log_u = np.log(x / scale)
    top = float(y.max())
    profile = lambda offset: _profile_rss(log_u, y, offset)[0]  # noqa: E731
    grid = np.linspace(0.0, top, 61)[:-1]
    values = np.array([profile(e) for e in grid])
    i = int(np.argmin(values))
    best = minimize_scalar(profile, bounds=(grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]), method="bounded",
                           options={"xatol": 1e-7})
    offset = float(best.x) if best.fun <= values[i] else float(grid[i])
    rss, alpha_u, exponent = _profile_rss(log_u, y, offset)
    dof = len(y) - 3
    variance = max(rss / dof, 1e-18)
    threshold = rss + variance * float(f_distribution.ppf(level, 1, dof))
    excess = lambda e: profile(e) - threshold  # noqa: E731
    low_at_bound = excess(0.0) <= 0
    low = 0.0 if low_at_bound else float(brentq(excess, 0.0, offset, xtol=1e-7))
    high = float(brentq(excess, offset, top, xtol=1e-7)) if excess(top) > 0 else top
    law = PowerLaw(float(alpha_u * scale**exponent), exponent, offset)
    return AsymptoteFit(law, Interval(offset, low, high), len(y), math.sqrt(variance), low_at_bound)


def planted_coverage(law: PowerLaw, x: Sequence[float], replicates: int, noise_sd: float, trials: int, level: float = 0.95,
                     seed: int = 0) -> Dict[str, float]:
    """Share of `trials` simulated designs (`replicates` noisy points per x around `law`) whose E interval covers the
    planted E; also the mean interval width and the mean error of the estimate."""
    rng = np.random.default_rng(seed)
    xs = np.repeat(np.asarray(x, dtype=float), replicates)
    covered, widths, errors = 0, [], []
    for _ in range(trials):
        y = np.array([law(v) for v in xs]) + rng.normal(0.0, noise_sd, len(xs))
        fit = fit_asymptote(xs, y, level)
        covered += fit.interval.low <= law.offset <= fit.interval.high
        widths.append(fit.interval.high - fit.interval.low)
        errors.append(fit.law.offset - law.offset)
    return {"trials": trials, "level": level, "coverage": covered / trials, "mean_width": float(np.mean(widths)),
            "mean_error": float(np.mean(errors))}
