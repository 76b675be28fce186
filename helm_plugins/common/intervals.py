"""Confidence intervals shared by the reports: Student's t interval of a mean, Wilson's interval of a proportion."""

import math
from typing import Optional, Sequence, Tuple


def t_interval(values: Sequence[float], level: float = 0.95) -> Optional[Tuple[float, float]]:
    """Student's t interval of the mean of independent values (e.g. one per seed); None with fewer than two."""
    import numpy as np
    from scipy import stats

    values = np.asarray(values, dtype=float)
    if len(values) < 2:
        return None
    mean = float(values.mean())
    half = float(stats.t.ppf(0.5 + level / 2, len(values) - 1) * values.std(ddof=1) / math.sqrt(len(values)))
    return mean - half, mean + half


def wilson_interval(successes: float, total: float, level: float = 0.95) -> Tuple[float, float]:
    """Wilson's score interval of a proportion `successes / total` (counts are rounded to integers)."""
    from scipy import stats

    interval = stats.binomtest(round(successes), round(total)).proportion_ci(level, method="wilson")
    return float(interval.low), float(interval.high)
