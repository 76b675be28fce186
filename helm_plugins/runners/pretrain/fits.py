"""Saturating power laws L(x) = alpha * x^(-exponent) + offset, their inverse, and percentile intervals.

The optimizer study fits AdamW's loss against training tokens, L(D) = alpha * D^-B + beta, and converts any loss
L into the data AdamW would need for it, D_eff = ((L - beta) / alpha)^(-1/B); speedup = D_eff / D.
"""

import math
from dataclasses import asdict, dataclass
from typing import Dict, Optional, Sequence

import warnings

import numpy as np
from scipy.optimize import curve_fit


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


def fit_power_law(x: Sequence[float], y: Sequence[float], initial: Optional[PowerLaw] = None) -> PowerLaw:
    """Least squares with alpha > 0, exponent in (0, 3], 0 <= offset < min(y); needs >= 3 points.

    Several starting points are tried; `initial` (e.g. the fit a bootstrap replicate perturbs) replaces them."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) < 3 or len(set(x.tolist())) < 3:
        raise ValueError(f"a power law with an offset has 3 parameters: it needs >= 3 distinct x, got {sorted(set(x.tolist()))}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y)) and np.all(x > 0)):
        raise ValueError(f"power-law fit: x must be positive and finite, y finite (x={x.tolist()}, y={y.tolist()})")
    scale = float(np.exp(np.mean(np.log(x))))  # fit in units of the geometric mean of x: well-conditioned

    def model(u, log_alpha, exponent, offset):
        return np.exp(log_alpha) * u ** (-exponent) + offset

    u = x / scale
    best = None
    starts = [(e, share * y.min()) for e in (0.1, 0.3, 0.6, 1.0) for share in (0.5, 0.9)]  # offset and exponent trade off
    if initial is not None and initial.offset < y.min():
        starts = [(min(max(initial.exponent, 1e-3), 2.9), initial.offset)]
    for exponent, offset0 in starts:
        alpha0 = max(float(np.mean(y - offset0)), 1e-6)
        try:
            with warnings.catch_warnings():  # an exact fit (3 points) has no covariance: not needed here
                warnings.simplefilter("ignore")
                params, _ = curve_fit(
                    model, u, y, p0=(math.log(alpha0), exponent, offset0),
                    bounds=([-30, 1e-4, 0.0], [30, 3.0, float(y.min()) - 1e-9]), maxfev=20000,
                )
        except RuntimeError:
            continue
        residual = float(np.sum((model(u, *params) - y) ** 2))
        if best is None or residual < best[0]:
            best = (residual, params)
    if best is None:
        raise ValueError(f"power-law fit did not converge on x={x.tolist()}, y={y.tolist()}")
    log_alpha, exponent, offset = best[1]
    return PowerLaw(float(math.exp(log_alpha) * scale**exponent), float(exponent), float(offset))


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

