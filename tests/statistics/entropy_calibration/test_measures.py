import numpy as np
import pytest

from helm_plugins.statistics.entropy_calibration.chains import count_model, measure, sample_chain, zipf_chain
from helm_plugins.statistics.entropy_calibration.measures import (
    entropy,
    entropy_calibration_error,
    scaling_exponent,
    singleton_mass,
    singleton_mass_exponent,
    with_temperature,
)

TRUTH = zipf_chain(200, alpha=1.1, seed=0)


def test_entropy_and_temperature_known_values():
    assert entropy(np.array([0.5, 0.5])) == pytest.approx(np.log(2))
    assert entropy(np.array([1.0, 0.0])) == 0
    p = np.array([0.6, 0.3, 0.1])
    assert np.allclose(with_temperature(p, 1.0), p)
    assert entropy(with_temperature(p, 0.5)) < entropy(p) < entropy(with_temperature(p, 2.0))
    with pytest.raises(ValueError, match="temperature must be positive"):
        with_temperature(p, 0)


def test_singleton_mass_exponent_follows_zipf_theory():
    assert singleton_mass([1, 1, 2, 3]) == 0.5
    for alpha in (1.1, 1.5):
        assert singleton_mass_exponent(alpha, seed=1) == pytest.approx(1 / alpha - 1, abs=0.05)


def test_the_true_distribution_is_calibrated():
    exact, _, log_loss = measure(TRUTH, TRUTH, sequences=4000, steps=8)
    result = entropy_calibration_error(exact, log_loss)
    assert abs(result.entce) < 3 * result.entce_stderr


def test_count_models_calibrate_as_data_grows_and_over_smoothing_adds_entropy():
    entce = {}
    for k in (1.0, 0.01):  # add-k: heavy smoothing spreads mass (too much entropy); light smoothing too little
        for m in (300, 30_000):
            model = count_model(sample_chain(TRUTH, m, 20, seed=5), len(TRUTH), k=k)
            exact, _, log_loss = measure(model, TRUTH, sequences=3000, steps=8, seed=2)
            entce[k, m] = entropy_calibration_error(exact, log_loss).entce
    assert entce[1.0, 300] > 0 > entce[0.01, 300]
    assert abs(entce[1.0, 30_000]) < abs(entce[1.0, 300]) and abs(entce[0.01, 30_000]) < abs(entce[0.01, 300])


def test_temperature_moves_entropy_and_log_loss_in_opposite_directions():
    model = count_model(sample_chain(TRUTH, 300, 20, seed=5), len(TRUTH))
    results = {t: entropy_calibration_error(*measure(model, TRUTH, 3000, 8, temperature=t, seed=3)[::2]) for t in (0.8, 1.0)}
    assert results[0.8].mean_entropy < results[1.0].mean_entropy
    assert results[0.8].mean_log_loss > results[1.0].mean_log_loss


def test_the_sampled_token_estimator_is_unbiased():
    model = count_model(sample_chain(TRUTH, 300, 20, seed=5), len(TRUTH))
    exact, sampled, _ = measure(model, TRUTH, sequences=20000, steps=4, seed=4)
    standard_error = sampled.mean(axis=1).std() / np.sqrt(len(sampled))
    assert abs(sampled.mean() - exact.mean()) < 4 * standard_error


def test_scaling_exponent_and_bad_inputs():
    assert scaling_exponent([1e8, 1e9, 1e10], [0.4, 0.4 * 10**-0.1, 0.4 * 10**-0.2]) == pytest.approx(-0.1)
    with pytest.raises(ValueError, match="need >= 3"):
        scaling_exponent([1, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match="positive EntCE"):
        scaling_exponent([1, 2, 3], [0.1, -0.2, 0.1])
    with pytest.raises(ValueError, match="no steps"):
        entropy_calibration_error(np.zeros((3, 0)), np.zeros((3, 0)))
