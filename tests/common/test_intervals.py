import numpy as np

from helm_plugins.common.intervals import t_interval, wilson_interval


def test_t_interval_known_value_and_too_few_values():
    low, high = t_interval([1.0, 2.0, 3.0])
    assert abs(low - (2 - 4.302653 / np.sqrt(3))) < 1e-5 and abs(high - (2 + 4.302653 / np.sqrt(3))) < 1e-5
    assert t_interval([5.0]) is None and t_interval([]) is None


def test_t_interval_covers_a_planted_mean_at_its_level():
    rng = np.random.default_rng(0)
    samples = rng.normal(3.0, 2.0, size=(2000, 5))
    covered = np.mean([low <= 3.0 <= high for low, high in map(t_interval, samples)])
    assert 0.93 <= covered <= 0.97, covered


def test_wilson_interval_known_value():
    low, high = wilson_interval(0, 50)
    assert low == 0.0 and abs(high - 0.0713) < 5e-4  # 0 of 50: Wilson's upper bound
    low, high = wilson_interval(23, 50)
    assert low < 0.46 < high
