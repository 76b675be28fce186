"""The query test over several seeds (new stories, orders and fine-tune each seed): Bob, fine-tuned from Alice on
new stories for half as many steps as her whole run at 0.3 times her learning rate, is detected; Carol, trained
on Alice's stories in another order, is rejected about as often as the level allows. Small models (a fresh
2-layer GPT-2 of width 32) keep it fast."""

import json

import pytest

from helm_plugins.cli import main
from helm_plugins.statistics.provenance.demo import ProvenanceDemoConfig, seed_study

ALPHA = 0.05
SEEDS = 4
SMALL = dict(examples=240, new_examples=120, fine_tune_lr=3e-4, max_tokens=64, base_width=32, permutations=199, threads=1)


@pytest.fixture(scope="module")
def study():
    return seed_study(ProvenanceDemoConfig(**SMALL), range(SEEDS), ALPHA)


def test_bob_is_detected_and_carol_rejected_at_about_alpha(study):
    bob, carol = study["rates"]["bob"], study["rates"]["carol"]
    assert bob["seeds"] == carol["seeds"] == SEEDS
    # derived: rejected in at least 3 of 4 seeds (the rate's exact 95% interval then excludes alpha)
    assert bob["rejected"] >= SEEDS - 1 and bob["ci_low"] > ALPHA
    # independent: the exact 95% interval of the false-positive rate holds alpha (0 or 1 rejections of 4)
    assert carol["ci_low"] <= ALPHA <= carol["ci_high"]
    assert sorted(bob["p_values"])[SEEDS // 2] < sorted(carol["p_values"])[SEEDS // 2]  # medians, upper


def test_rates_carry_exact_intervals(study):
    for rate in study["rates"].values():
        assert 0 <= rate["ci_low"] <= rate["rate"] <= rate["ci_high"] <= 1
        assert rate["rate"] == rate["rejected"] / rate["seeds"]
        assert all(2 / 200 <= p <= 1 for p in rate["p_values"])  # two-sided permutation p with 199 permutations


def test_cli_seed_study_writes_its_report(tmp_path, capsys):
    settings = [f"{k}={v}" for k, v in {**SMALL, "examples": 40, "new_examples": 8, "permutations": 19}.items()]
    code = main(["provenance", "--demo", "--seeds", "2", "--output", str(tmp_path), "--no-progress",
                 *[arg for s in settings for arg in ("--set", s)]])
    assert code == 0
    assert "bob: rejected H0 in" in capsys.readouterr().out
    report = json.loads((tmp_path / "seed_study.json").read_text())
    assert report["rates"]["carol"]["seeds"] == 2 and report["config"]["examples"] == 40
    assert main(["provenance", "--seeds", "2"]) == 2
