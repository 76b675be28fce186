"""Relative scaling laws (arXiv 2510.24626): does a gap between test distributions close as compute grows?

Per subgroup d (a dialect, a subject, ...), the error of models trained with compute F follows
E_d(F) = alpha_d F^-beta_d. Against a baseline subgroup b, the relative law is

    G(F) = E_t(F) / E_b(F) = gamma F^dbeta,   gamma = alpha_t / alpha_b,   dbeta = beta_b - beta_t,

fitted by least squares on log G = log gamma + dbeta log F over the models. dbeta < 0: the gap closes
(converging); > 0: it widens (diverging); a 95% interval covering 0: constant ratio. The interval is the
regression's t interval over models (n - 2 degrees of freedom), which holds its level with the 5-7 models of a
family; several subgroups at once are labelled with Benjamini-Hochberg false-discovery-rate control.
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
    p: float = float("nan")  # two-sided p-value of dbeta = 0 (t test on n - 2 degrees of freedom)
    q: Optional[float] = None  # Benjamini-Hochberg adjusted p-value when several subgroups are tested at once

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


def _ols(log_f: np.ndarray, log_g: np.ndarray):
    """Slope, intercept and the slope's standard error of log G on log F; rows are families (vectorised)."""
    x = log_f - log_f.mean(axis=-1, keepdims=True)
    sxx = (x * x).sum(axis=-1)
    slope = (x * log_g).sum(axis=-1) / sxx
    intercept = log_g.mean(axis=-1) - slope * log_f.mean(axis=-1)
    residuals = log_g - intercept[..., None] - slope[..., None] * log_f
    n = log_f.shape[-1]
    stderr = np.sqrt((residuals**2).sum(axis=-1) / (n - 2) / sxx)
    return slope, intercept, stderr


def slope_interval(log_f: np.ndarray, log_g: np.ndarray, level: float = 0.95):
    """(slope, intercept, stderr, low, high, p) of the least-squares line log G = a + b log F with the t interval
    on n - 2 degrees of freedom and the two-sided p-value of b = 0; exact when the log-ratio residuals are
    independent normal. Broadcasts over leading axes (one family per row), for coverage studies."""
    log_f, log_g = np.broadcast_arrays(np.asarray(log_f, dtype=float), np.asarray(log_g, dtype=float))
    slope, intercept, stderr = _ols(log_f, log_g)
    dof = log_f.shape[-1] - 2
    half = stats.t.ppf(0.5 + level / 2, dof) * stderr
    with np.errstate(divide="ignore", invalid="ignore"):
        p = 2 * stats.t.sf(np.abs(slope / stderr), dof)
    return slope, intercept, stderr, slope - half, slope + half, p


def relative_law(
    flops: Sequence[float],
    errors: Dict[str, Sequence[float]],
    subgroup: str,
    baseline: str,
    level: float = 0.95,
) -> RelativeLaw:
    """`errors[d][m]`: mean error of model m on subgroup d. The interval on dbeta is the regression's t interval
    over models (n - 2 degrees of freedom): it holds its level on planted families of 5-7 models, where a
    percentile bootstrap over models runs narrow (about 0.90 at a nominal 0.95)."""
    flops = np.asarray(flops, dtype=float)
    for name in (subgroup, baseline):
        if name not in errors:
            raise ValueError(f"no errors for subgroup {name!r} (have {sorted(errors)})")
        _check(flops, np.asarray(errors[name], dtype=float), name)
    target, base = np.asarray(errors[subgroup], dtype=float), np.asarray(errors[baseline], dtype=float)
    slope, intercept, stderr, low, high, p = slope_interval(np.log(flops), np.log(target / base), level)
    label = "converging" if high < 0 else "diverging" if low > 0 else "constant"
    return RelativeLaw(subgroup, baseline, float(np.exp(intercept)), float(slope), float(low), float(high), float(stderr),
                       label, float(p))


def relative_laws(
    flops: Sequence[float], errors: Dict[str, Sequence[float]], baseline: str, level: float = 0.95
) -> Dict[str, RelativeLaw]:
    """Every subgroup of `errors` against `baseline` at once. Labels control the false-discovery rate at
    1 - level over the subgroups (Benjamini-Hochberg on the slope p-values): a subgroup is converging or
    diverging only if its adjusted p-value `q` is below 1 - level; the intervals are the per-subgroup t
    intervals (unadjusted)."""
    names = [name for name in errors if name != baseline]
    if not names:
        raise ValueError(f"no subgroup besides the baseline {baseline!r}")
    laws = {name: relative_law(flops, errors, name, baseline, level) for name in names}
    adjusted = stats.false_discovery_control([laws[name].p for name in names], method="bh")
    for name, q in zip(names, adjusted):
        law = laws[name]
        law.q = float(q)
        law.label = "constant" if q >= 1 - level else "converging" if law.delta_beta < 0 else "diverging"
    return laws
