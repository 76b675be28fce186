import numpy as np
import pytest

from helm_plugins.statistics.relative_scaling.laws import fit_power_law, relative_law

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
    errors, items = family(betas=(0.08, 0.05), alphas=(40, 60), sigma=0.01, seed=0, items=200)
    law = relative_law(FLOPS, errors, "rare", "base", item_errors=items, bootstrap=1000)
    assert law.ci_low < 0.08 - 0.05 < law.ci_high
    assert law.delta_beta == pytest.approx(0.03, abs=0.01) and law.label == "diverging"
    assert law.gamma == pytest.approx(60 / 40, rel=0.5)


def test_equal_exponents_give_an_interval_covering_zero():
    covered = 0
    for seed in range(20):
        errors, _ = family(betas=(0.06, 0.06), alphas=(40, 60), sigma=0.02, seed=seed)
        law = relative_law(FLOPS, errors, "rare", "base", bootstrap=400, seed=seed)
        covered += law.ci_low <= 0 <= law.ci_high
    assert covered >= 17  # about 95% nominal, a bootstrap on 7 models runs a little narrow


def test_rescaling_compute_changes_gamma_not_delta_beta():
    errors, _ = family(betas=(0.08, 0.05), alphas=(40, 60), sigma=0.01, seed=1)
    law = relative_law(FLOPS, errors, "rare", "base", bootstrap=200)
    rescaled = relative_law(FLOPS * 6, errors, "rare", "base", bootstrap=200)  # e.g. 6ND instead of FLOPs / 6
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
