"""Relative scaling laws (arXiv 2510.24626): does a gap between test distributions close as compute grows?

Per subgroup d (a dialect, a subject, ...), the error of models trained with compute F follows
E_d(F) = alpha_d F^-beta_d. Against a baseline subgroup b, the relative law is

    G(F) = E_t(F) / E_b(F) = gamma F^dbeta,   gamma = alpha_t / alpha_b,   dbeta = beta_b - beta_t,

fitted by least squares on log G = log gamma + dbeta log F over the models. dbeta < 0: the gap closes
(converging); > 0: it widens (diverging); a 95% interval covering 0: constant ratio. Intervals come from a
bootstrap that resamples models and, with item-level errors, the items of each subgroup.
"""

from dataclasses import asdict, dataclass
from typing import Dict, Optional, Sequence

import numpy as np
from scipy import stats


@dataclass
class PowerLaw:
    alpha: float
    beta: float
    r_squared: float

    def predict(self, flops) -> np.ndarray:
        return self.alpha * np.asarray(flops, dtype=float) ** -self.beta


@dataclass
class RelativeLaw:
    subgroup: str
    baseline: str
    gamma: float
    delta_beta: float
    ci_low: float
    ci_high: float
    stderr: float  # of the least-squares slope
    label: str  # converging / diverging / constant

    def as_dict(self) -> dict:
        return asdict(self)


def _check(flops: np.ndarray, errors: np.ndarray, name: str) -> None:
    if flops.shape != errors.shape or flops.ndim != 1:
        raise ValueError(f"{name}: flops and errors must be 1-D of the same length")
    if len(flops) < 3:
        raise ValueError(f"{name}: {len(flops)} models cannot fit a power law (2 parameters) with any check; need >= 3")
    if len(np.unique(flops)) < 2:
        raise ValueError(f"{name}: all models have the same compute")
    bad = np.flatnonzero(~(np.isfinite(flops) & np.isfinite(errors) & (flops > 0) & (errors > 0)))
    if len(bad):
        raise ValueError(f"{name}: compute and errors must be finite and positive (model {bad[0]}: {flops[bad[0]]}, {errors[bad[0]]})")


def fit_power_law(flops: Sequence[float], errors: Sequence[float], name: str = "subgroup") -> PowerLaw:
    flops, errors = np.asarray(flops, dtype=float), np.asarray(errors, dtype=float)
    _check(flops, errors, name)
    fit = stats.linregress(np.log(flops), np.log(errors))
    return PowerLaw(alpha=float(np.exp(fit.intercept)), beta=float(-fit.slope), r_squared=float(fit.rvalue**2))


def _slope_intercept(log_f: np.ndarray, log_g: np.ndarray):
    fit = stats.linregress(log_f, log_g)
    return fit.slope, fit.intercept, fit.stderr


def relative_law(
    flops: Sequence[float],
    errors: Dict[str, Sequence[float]],
    subgroup: str,
    baseline: str,
    item_errors: Optional[Dict[str, np.ndarray]] = None,
    bootstrap: int = 2000,
    seed: int = 0,
) -> RelativeLaw:
    """`errors[d][m]`: mean error of model m on subgroup d. With `item_errors[d]` (models x items), the
    bootstrap also resamples each subgroup's items."""
    flops = np.asarray(flops, dtype=float)
    for name in (subgroup, baseline):
        if name not in errors:
            raise ValueError(f"no errors for subgroup {name!r} (have {sorted(errors)})")
        _check(flops, np.asarray(errors[name], dtype=float), name)
    log_f = np.log(flops)
    target, base = np.asarray(errors[subgroup], dtype=float), np.asarray(errors[baseline], dtype=float)
    slope, intercept, stderr = _slope_intercept(log_f, np.log(target / base))
    rng = np.random.default_rng(seed)
    slopes = []
    n = len(flops)
    for _ in range(bootstrap):
        models = rng.integers(0, n, n)
        if len(np.unique(flops[models])) < 2:
            continue
        if item_errors is not None:
            t_items, b_items = item_errors[subgroup], item_errors[baseline]
            t = t_items[np.ix_(models, rng.integers(0, t_items.shape[1], t_items.shape[1]))].mean(axis=1)
            b = b_items[np.ix_(models, rng.integers(0, b_items.shape[1], b_items.shape[1]))].mean(axis=1)
            if np.any(t <= 0) or np.any(b <= 0):
                continue
        else:
            t, b = target[models], base[models]
        slopes.append(_slope_intercept(log_f[models], np.log(t / b))[0])
    low, high = np.percentile(slopes, [2.5, 97.5])
    label = "converging" if high < 0 else "diverging" if low > 0 else "constant"
    return RelativeLaw(subgroup, baseline, float(np.exp(intercept)), float(slope), float(low), float(high), float(stderr), label)
