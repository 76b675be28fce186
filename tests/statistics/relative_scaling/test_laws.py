import numpy as np
import pytest

from helm_plugins.statistics.relative_scaling.laws import fit_power_law, relative_law, relative_laws, slope_interval

FLOPS = np.array([1e18, 3e18, 6e18, 1e19, 3e19, 6e19, 1e20])


def family(betas, alphas, sigma, seed, items=0):
    rng = np.random.default_rng(seed)
    errors, item_errors = {}, {}
    for name, alpha, beta in zip(("base", "rare"), alphas, betas):
        mean = alpha * FLOPS**-beta * np.exp(rng.normal(0, sigma, len(FLOPS)))
        errors[name] = mean
        if items:
            item_errors[name] = mean[:, None] * rng.gamma(20, 1 / 20, (len(FLOPS), items))
    return errors, (item_errors or None)


def test_power_law_fit_recovers_planted_constants():
    law = fit_power_law(FLOPS, 50 * FLOPS**-0.07)
    assert law.alpha == pytest.approx(50, rel=1e-6) and law.beta == pytest.approx(0.07) and law.r_squared == pytest.approx(1)


def test_planted_delta_beta_lies_in_its_interval():
    errors, _ = family(betas=(0.08, 0.05), alphas=(40, 60), sigma=0.01, seed=0)
    law = relative_law(FLOPS, errors, "rare", "base")
    assert law.ci_low < 0.08 - 0.05 < law.ci_high
    assert law.delta_beta == pytest.approx(0.03, abs=0.01) and law.label == "diverging" and law.p < 0.01
    assert law.gamma == pytest.approx(60 / 40, rel=0.5)


@pytest.mark.parametrize("models", [5, 7])
def test_interval_holds_its_level_over_planted_families(models):
    """2000 planted families per size (log-normal model noise on both subgroups, planted dbeta = 0.03): the 95%
    interval covers the planted dbeta in 93.5-96.5% of them (3 standard errors of a 0.95 proportion). A percentile
    bootstrap over models covers about 90% here."""
    rng = np.random.default_rng(models)
    flops = np.geomspace(1e18, 1e20, models)
    sigma = np.array([0.01, 0.03, 0.1])[rng.integers(0, 3, (2000, 1))]
    noise = rng.normal(0, 1, (2000, 2, models)) * sigma[..., None]
    log_base = np.log(40) - 0.05 * np.log(flops) + noise[:, 0]
    log_rare = np.log(60) - 0.08 * np.log(flops) + noise[:, 1]
    _, _, _, low, high, _ = slope_interval(np.log(flops), log_rare - log_base)
    planted = 0.05 - 0.08
    assert 0.935 <= np.mean((low <= planted) & (planted <= high)) <= 0.965
    # the public function gives the same intervals
    for row in range(0, 2000, 400):
        law = relative_law(flops, {"rare": np.exp(log_rare[row]), "base": np.exp(log_base[row])}, "rare", "base")
        assert (law.ci_low, law.ci_high) == pytest.approx((low[row], high[row]))


def test_equal_exponents_give_an_interval_covering_zero():
    covered = 0
    for seed in range(200):
        errors, _ = family(betas=(0.06, 0.06), alphas=(40, 60), sigma=0.02, seed=seed)
        law = relative_law(FLOPS, errors, "rare", "base")
        covered += law.ci_low <= 0 <= law.ci_high
    assert 180 <= covered <= 198  # 95% nominal: 190 expected, 3 standard errors either side


def test_many_subgroups_control_the_false_discovery_rate():
    """20 null subgroups (same exponent as the baseline) and 5 planted diverging ones, over 100 families:
    the share of null subgroups among the labelled ones stays below 5% on average, and the planted ones are found."""
    rng = np.random.default_rng(3)
    false_share, found = [], 0
    for _ in range(100):
        errors = {"base": 40 * FLOPS**-0.05 * np.exp(rng.normal(0, 0.02, 7))}
        for k in range(25):
            beta = 0.05 if k < 20 else 0.0
            errors[f"g{k}"] = 60 * FLOPS**-beta * np.exp(rng.normal(0, 0.02, 7))
        laws = relative_laws(FLOPS, errors, "base")
        labelled = [name for name, law in laws.items() if law.label != "constant"]
        false_share.append(sum(int(name[1:]) < 20 for name in labelled) / max(len(labelled), 1))
        found += sum(laws[f"g{k}"].label == "diverging" for k in range(20, 25))
    assert np.mean(false_share) < 0.05 and found >= 0.95 * 100 * 5
    assert all(0 <= law.q <= 1 and law.q >= law.p for law in laws.values())
    with pytest.raises(ValueError, match="no subgroup besides the baseline 'base'"):
        relative_laws(FLOPS, {"base": np.ones(7)}, "base")


def test_rescaling_compute_changes_gamma_not_delta_beta():
    errors, _ = family(betas=(0.08, 0.05), alphas=(40, 60), sigma=0.01, seed=1)
    law = relative_law(FLOPS, errors, "rare", "base")
    rescaled = relative_law(FLOPS * 6, errors, "rare", "base")  # e.g. 6ND instead of FLOPs / 6
    assert rescaled.delta_beta == pytest.approx(law.delta_beta)
    assert rescaled.gamma == pytest.approx(law.gamma * 6 ** -law.delta_beta)


def test_too_few_models_and_bad_values_are_rejected():
    with pytest.raises(ValueError, match="2 models cannot fit a power law"):
        fit_power_law([1e18, 1e19], [1.0, 0.9], name="rare")
    with pytest.raises(ValueError, match="rare: compute and errors must be finite and positive .model 1"):
        fit_power_law([1e18, 1e19, 1e20], [1.0, float("nan"), 0.8], name="rare")
    with pytest.raises(ValueError, match="no errors for subgroup 'other'"):
        relative_law(FLOPS, {"base": np.ones(7)}, "other", "base")


def test_subgroup_texts_and_their_errors(tmp_path):
    from helm_plugins.statistics.relative_scaling.scenarios import SubgroupTextScenario

    rare = SubgroupTextScenario("synthetic-dialects", "rare").get_instances("")
    frequent = SubgroupTextScenario("synthetic-dialects", "frequent").get_instances("")
    assert len(rare) == len(frequent) == 200 and " da " in rare[0].input.text and " da " not in frequent[0].input.text
    path = tmp_path / "texts.jsonl"
    path.write_text('{"id": "a", "text": "x", "subgroup": "g"}\n{"id": "b", "text": "y"}\n')
    with pytest.raises(ValueError, match=r"texts.jsonl:2: missing or empty string field 'subgroup'"):
        SubgroupTextScenario(str(path), "g").get_instances("")
    path.write_text('{"id": "a", "text": "x", "subgroup": "g"}\n')
    with pytest.raises(ValueError, match=r"no text of subgroup 'h' \(subgroups: \['g'\]\)"):
        SubgroupTextScenario(str(path), "h").get_instances("")
