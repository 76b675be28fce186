import numpy as np
import pytest

from helm_plugins.statistics.fairness_frontier.frontier import (
    bce,
    fit_frontier,
    frontier_loss,
    empirical_alternatives,
    less_discriminatory_alternative,
    lower_convex_hull,
    soft_dp_gap,
)

TRUE = (-0.285, 55.0, 0.7, 0.5, 0.16, 0.11, 0.92)  # the paper's Fig. 10 constants (pi = 0.2, zeta = 0.5)
SIZES = (8_080, 28_960, 109_120, 423_040)  # parameters of its four MLP widths
DATA = 6_500


def test_soft_dp_gap_and_bce_known_values():
    assert soft_dp_gap([0.9, 0.7, 0.2, 0.4], [0, 0, 1, 1]) == pytest.approx(0.5)
    assert bce([0.5, 0.5], [1, 0]) == pytest.approx(np.log(2))
    with pytest.raises(ValueError, match="both groups"):
        soft_dp_gap([0.1, 0.2], [0, 0])


def test_lower_hull_keeps_the_frontier_and_drops_dominated_points():
    rng = np.random.default_rng(0)
    deltas = np.linspace(-0.3, 0.3, 13)
    frontier = np.column_stack([deltas, 0.5 + deltas**2])
    above = np.column_stack([rng.uniform(-0.25, 0.25, 40), 0.5 + rng.uniform(0.1, 0.5, 40)])
    above[:, 1] += above[:, 0] ** 2
    hull = lower_convex_hull(np.vstack([frontier, above]))
    assert np.allclose(hull, frontier)
    with pytest.raises(ValueError, match="finite"):
        lower_convex_hull(np.array([[0.0, np.nan], [1, 1], [2, 2]]))


def planted_points(seed=0, per_size=12, noise=0.003):
    rng = np.random.default_rng(seed)
    rows = []
    for n in SIZES[:3]:
        for delta in np.linspace(0.0, 0.5, per_size):
            rows.append((delta, frontier_loss(delta, n, DATA, TRUE) + abs(rng.normal(0, noise)), n))
    return np.array(rows)


def test_conservative_fit_is_never_above_a_point_and_extrapolates_to_a_larger_model():
    points = planted_points()
    fit = fit_frontier(points[:, 0], points[:, 1], points[:, 2], np.full(len(points), DATA))
    assert np.all(fit.loss(points[:, 0], points[:, 2], DATA) <= points[:, 1] + 1e-6)
    assert fit.max_violation <= 1e-6
    grid = np.linspace(0.0, 0.5, 11)  # the held-out largest size: constants are not identifiable, curves are
    error = np.abs(fit.loss(grid, SIZES[3], DATA) - frontier_loss(grid, SIZES[3], DATA, TRUE))
    assert error.max() < 0.02
    assert np.all(np.diff([fit.loss(0.2, n, DATA) for n in SIZES]) < 0)  # the intercept falls with size
    free = fit_frontier(points[:, 0], points[:, 1], points[:, 2], np.full(len(points), DATA), conservative=False)
    assert free.rmse <= fit.rmse + 1e-9  # the constraint costs fit


def test_less_discriminatory_alternative_at_the_contested_loss():
    points = planted_points()
    fit = fit_frontier(points[:, 0], points[:, 1], points[:, 2], np.full(len(points), DATA))
    on_frontier = less_discriminatory_alternative(fit, 0.4, float(fit.loss(0.4, SIZES[3], DATA)), SIZES[3], DATA)
    assert on_frontier["improvement"] == pytest.approx(0, abs=1e-3)  # nothing fairer at the same loss
    above = less_discriminatory_alternative(fit, 0.4, float(fit.loss(0.4, SIZES[3], DATA)) + 0.05, SIZES[3], DATA)
    assert float(fit.loss(above["achievable_gap"], SIZES[3], DATA)) == pytest.approx(float(fit.loss(0.4, SIZES[3], DATA)) + 0.05, abs=1e-3)
    assert above["improvement"] > 0.05


@pytest.fixture(scope="module")
def planted_fit():
    points = planted_points()
    return fit_frontier(points[:, 0], points[:, 1], points[:, 2], np.full(len(points), DATA))


def test_loss_tolerance_epsilon_finds_alternatives_at_comparable_loss(planted_fit):
    """A contested model on the frontier has no alternative at equal loss, but at a comparable one (loss + epsilon)
    the frontier reaches a gap whose loss is exactly the contested loss + epsilon."""
    fit = planted_fit
    loss = float(fit.loss(0.4, SIZES[3], DATA))
    strict = less_discriminatory_alternative(fit, 0.4, loss, SIZES[3], DATA, epsilon=0.0)
    tolerant = less_discriminatory_alternative(fit, 0.4, loss, SIZES[3], DATA, epsilon=0.01)
    assert strict["improvement"] == pytest.approx(0, abs=1e-3) and tolerant["epsilon"] == 0.01
    assert tolerant["improvement"] > 0.01
    assert float(fit.loss(tolerant["achievable_gap"], SIZES[3], DATA)) == pytest.approx(loss + 0.01, abs=1e-3)
    with pytest.raises(ValueError, match="epsilon must be finite and >= 0"):
        less_discriminatory_alternative(fit, 0.4, loss, SIZES[3], DATA, epsilon=-0.1)
    models = [{"dp_gap": 0.40, "bce": 0.500}, {"dp_gap": 0.30, "bce": 0.503}, {"dp_gap": 0.10, "bce": 0.520},
              {"dp_gap": -0.35, "bce": 0.499}]
    assert empirical_alternatives(models, models[0]) == [models[3]]
    assert empirical_alternatives(models, models[0], epsilon=0.005) == [models[1], models[3]]
    assert empirical_alternatives(models, models[0], epsilon=0.005, delta=0.08) == [models[1]]


def test_extrapolation_beats_a_size_independent_baseline(planted_fit):
    """Planted frontiers that fall with size: the scaling fit on three sizes predicts the fourth better than the
    same closed form without a size term, which predicts no change."""
    points, fit = planted_points(), planted_fit
    baseline = fit_frontier(points[:, 0], points[:, 1], points[:, 2], np.full(len(points), DATA), size_independent=True,
                            starts=8)
    assert baseline.C2 == 0 and baseline.loss(0.2, SIZES[0], DATA) == baseline.loss(0.2, SIZES[3], DATA)
    grid = np.linspace(0.0, 0.5, 11)
    truth = frontier_loss(grid, SIZES[3], DATA, TRUE)
    ours, theirs = (np.abs(f.loss(grid, SIZES[3], DATA) - truth).mean() for f in (fit, baseline))
    assert ours < 0.5 * theirs


def test_bad_fits_are_rejected():
    with pytest.raises(ValueError, match="cannot determine 6 free constants"):
        fit_frontier([0.1, 0.2], [1.0, 1.1], [10, 20], [5, 5])
    with pytest.raises(ValueError, match="two model sizes"):
        fit_frontier(np.linspace(0, 1, 8), np.ones(8), np.full(8, 10), np.full(8, 5))


def test_pareto_frontier_runs_from_parity_to_the_lowest_loss_model():
    from helm_plugins.statistics.fairness_frontier.frontier import pareto_frontier

    frontier = [(-0.02, 0.70), (0.05, 0.64), (0.12, 0.61), (0.2, 0.60)]  # ends at the lowest-loss model
    dominated = [(0.3, 0.62), (0.5, 0.75), (-0.2, 0.80), (0.1, 0.70)]  # more unfair, past parity, or inside
    hull = pareto_frontier(np.array(frontier + dominated))
    assert np.allclose(hull, frontier)
    mirrored = pareto_frontier(np.array([(-d, loss) for d, loss in frontier + dominated]))  # the other side
    assert np.allclose(mirrored, sorted((-d, loss) for d, loss in frontier))


def test_frontier_jacobian_matches_finite_differences():
    from helm_plugins.statistics.fairness_frontier.frontier import frontier_jacobian

    delta, n, d = np.linspace(0.0, 0.5, 6), np.array([8e3, 3e4, 1e5, 4e5, 8e3, 3e4]), np.array([800, 800, 1600, 3200, 6400, 6400])
    params = np.array(TRUE)
    exact = frontier_jacobian(delta, n, d, params)
    for k in range(7):
        step = np.zeros(7)
        step[k] = 1e-6 * max(1.0, abs(params[k]))
        numeric = (frontier_loss(delta, n, d, params + step) - frontier_loss(delta, n, d, params - step)) / (2 * step[k])
        assert exact[:, k] == pytest.approx(numeric, rel=1e-5, abs=1e-8)
