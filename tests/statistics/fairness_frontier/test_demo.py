import json

import numpy as np
import pytest
import torch

from helm_plugins.cli import main
from helm_plugins.statistics.fairness_frontier.demo import FairnessDemoConfig, generate_data

SMALL = ["samples=1200", "widths=[8,16,32,64]", "lambdas=[-0.3,0,0.1,0.2,0.4,0.8]", "epochs=3", "threads=2"]


def test_stress_test_data_has_the_planted_group_rate_and_penalty():
    (x, a, y), _, _ = generate_data(FairnessDemoConfig(samples=20_000, zeta=2.0))
    assert a.mean().item() == pytest.approx(0.2, abs=0.02)
    assert x.shape[1] == 21 and torch.equal(x[:, -1], a)  # the model sees (x, a)
    assert y[a == 0].mean() - y[a == 1].mean() > 0.1  # zeta lowers group 1's positive rate


def test_demo_through_the_cli_writes_report_plot_and_helm_runs(tmp_path, capsys):
    args = ["fairness-frontier", "--demo", "--output", str(tmp_path / "out"), "--suite", "s", "-o", str(tmp_path / "bo"),
            "--no-progress"]
    assert main(args + [item for override in SMALL for item in ("--set", override)]) == 0
    printed = capsys.readouterr().out
    assert "fit (conservative) on sizes" in printed and "extrapolated to" in printed
    result = json.loads((tmp_path / "out" / "results.json").read_text())
    assert result["fit"]["max_violation"] <= 1e-6 and len(result["fit_sizes"]) == 3
    lda = result["less_discriminatory_alternative"]
    assert lda["contested"]["lambda"] == 0 and lda["epsilon"] == 0.005  # the unconstrained model, not the min-loss one
    assert result["baseline_fit"]["C2"] == 0 and "size-independent baseline: mean |error|" in printed
    assert 0 <= result["extrapolation_error"]["share_of_points_below_curve"] <= 1
    assert (tmp_path / "out" / "fairness_frontier.png").stat().st_size > 0
    runs = sorted((tmp_path / "bo" / "runs" / "s").iterdir())
    assert len(runs) == 4 and all(r.name.startswith("hp_fairness_frontier:data=demo,model=") for r in runs)
    # the same analysis from the models file
    assert main(["fairness-frontier", "--models", str(tmp_path / "out" / "models.jsonl"), "--train-size", "780",
                 "--output", str(tmp_path / "again")]) == 0
    again = json.loads((tmp_path / "again" / "results.json").read_text())
    assert np.isclose(again["fit"]["C1"], result["fit"]["C1"])


def test_cli_rejects_bad_requests(tmp_path, capsys):
    assert main(["fairness-frontier"]) == 2
    assert "give one of --demo, --study, --models or --from-suite" in capsys.readouterr().err
    bad = tmp_path / "m.jsonl"
    bad.write_text('{"parameters": 10, "bce": 0.6}\n')
    assert main(["fairness-frontier", "--models", str(bad), "--train-size", "5"]) == 2
    assert "m.jsonl:1: missing field 'dp_gap'" in capsys.readouterr().err
