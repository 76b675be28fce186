import json
import math

import pytest
import torch

from helm_plugins.common.results import read_stats
from helm_plugins.runners.pretrain.optimizer_study import OptimizerStudy, OptimizerStudyConfig, ranking_flips, write_outputs
from helm_plugins.runners.pretrain.fits import PowerLaw
from helm_plugins.runners.pretrain.optimizers import OPTIMIZERS
from helm_plugins.runners.pretrain.trainer import Trainer

BASE = {
    "data": {"num_documents": 400, "validation_documents": 40},
    "tokenizer": {"vocab_size": 300},
    "model": {"context_length": 32},
    "batch_size": 8,
    "eval_batches": 2,
}


def micro_study(**changes) -> OptimizerStudyConfig:
    settings = {
        "name": "micro",
        "base": BASE,
        "sizes": [{"name": "d16", "n_layer": 1, "n_head": 2, "n_embd": 16}],
        "chinchilla_multiples": [0.5, 1, 2],
        "tokens_per_parameter": 2,
        "optimizers": {
            "adamw": {"optimizer.lr": 0.01, "warmup_fraction": 0.1},
            "muon": {"optimizer.lr": 0.02, "schedule.decay": "linear"},
        },
        "axes": [{"key": "optimizer.lr", "factor": 2}],
        "phase1_axes": [],
        "phase2_axes": [],
        "seeds": [0, 1],
        "control": {"optimizer.lr": 0.0006},
        "workers": 1,
        "bootstrap_replicates": 20,
    }
    settings.update(changes)
    return OptimizerStudyConfig.model_validate(settings)


PLANTED = PowerLaw(alpha=30.0, exponent=0.4, offset=1.5)
PLANTED_SPEEDUP = {"adamw": 1.0, "muon": 1.5, "adamw-untuned": 0.5}
BEST_LR = {"adamw": 0.004, "muon": 0.016}


class PlantedExecutor:
    """Stands in for training: loss = AdamW's planted law at speedup x tokens, plus a penalty for a learning rate
    away from the optimizer's best (0.02 per factor of 2 squared) and +-0.002 seed noise."""

    def __init__(self):
        self.runs_started = 0
        self.seen = set()

    def run(self, configs, description=""):
        records = []
        for config in configs:
            optimizer = config.run_name.split("-")[1] if "untuned" not in config.run_name else "adamw-untuned"
            tokens = config.max_steps * config.tokens_per_step
            penalty = 0.02 * math.log2(config.optimizer.lr / BEST_LR[optimizer]) ** 2 if optimizer in BEST_LR else 0.0
            noise = 0.002 * (1 if config.seed % 2 else -1)
            loss = PLANTED(PLANTED_SPEEDUP[optimizer] * tokens) + penalty + noise
            curve = [{"step": s, "tokens": s * config.tokens_per_step, "val_loss": loss + 1.0 / s} for s in range(1, config.max_steps + 1)]
            key = config.model_dump_json()
            self.runs_started += key not in self.seen
            self.seen.add(key)
            records.append({"status": "done", "final_val_loss": loss, "step": config.max_steps, "curve": curve})
        return records

    def close(self):
        pass


def test_study_recovers_planted_speedups_and_tuned_learning_rates(tmp_path):
    config = micro_study(
        optimizers={"adamw": {"optimizer.lr": 0.032}, "muon": {"optimizer.lr": 0.002}},
        phase1_axes=["optimizer.lr"],
        phase2_axes=["optimizer.lr"],
        seeds=[0, 1],
        bootstrap_replicates=50,
    )
    study = OptimizerStudy(config, tmp_path / "study", progress=False, executor=PlantedExecutor())
    summary = study.run()
    run_dirs = write_outputs(study, summary, tmp_path / "suite")
    rows = {(r["optimizer"], r["multiple"]): r for r in summary["table"]}
    assert len(rows) == 9 and summary["failures"] == [] and len(run_dirs) == 9
    for multiple in (0.5, 1.0, 2.0):
        for optimizer, best in BEST_LR.items():
            row = rows[(optimizer, multiple)]
            assert row["knobs"]["optimizer.lr"] == best and row["seeds"] == 2
            assert row["speedup"]["estimate"] == pytest.approx(PLANTED_SPEEDUP[optimizer], rel=0.02)
            assert row["speedup"]["low"] <= row["speedup"]["estimate"] <= row["speedup"]["high"]
        # against the untuned control (half as data-efficient) every tuned speedup doubles
        assert rows[("muon", multiple)]["speedup_vs_untuned"]["estimate"] == pytest.approx(3.0, rel=0.05)
        assert rows[("adamw-untuned", multiple)]["speedup"]["estimate"] == pytest.approx(0.5, rel=0.05)
    adamw_path = rows[("adamw", 0.5)]["tuning_path"]  # phase I walked down from 0.032
    assert [step["to"] for step in adamw_path if step["axis"]] == [0.016, 0.008, 0.004]
    assert rows[("adamw", 2.0)]["tuning_runs"] == 3  # phase II starts at the tuned point: only its neighbours
    law = summary["laws"]["d16"]["adamw"]
    assert law["fit"]["exponent"] == pytest.approx(0.4, rel=0.05)
    assert law["offset_interval"]["low"] <= law["fit"]["offset"] <= law["offset_interval"]["high"]
    stats = read_stats(next(d for d in run_dirs if "optimizer=muon,size=d16,budget=1x" in d.name))
    assert stats["speedup_vs_adamw@valid"] == pytest.approx(1.5, rel=0.02) and stats["val_loss@valid"] > 1.5
    assert (tmp_path / "study" / "speedup.png").is_file() and (tmp_path / "study" / "loss_curves.png").is_file()


def test_study_trains_end_to_end_and_reruns_nothing(tmp_path):
    config = micro_study(seeds=[0])
    study = OptimizerStudy(config, tmp_path / "study", progress=False)
    summary = study.run()
    assert summary["runs_trained"] == 9 and summary["failures"] == []
    assert all(row["final_val_loss"] < 6 for row in summary["table"])  # below the uniform 300-token loss (5.7)
    assert len(summary["rankings"]["per_cell"]) == 3
    again = OptimizerStudy(config, tmp_path / "study", progress=False)
    assert again.run()["table"] == json.loads(json.dumps(summary["table"])) and again.executor.runs_started == 0


def test_ranking_flips_compare_the_order_at_half_and_full_budget():
    cells = [("s", 1.0)]
    finals = {("a", cells[0]): [3.0], ("b", cells[0]): [3.1], ("c", cells[0]): [3.2]}
    mids = {("a", cells[0]): [3.9], ("b", cells[0]): [3.5], ("c", cells[0]): [3.6]}  # b leads until a decays
    rankings = ranking_flips(finals, mids, ["a", "b", "c"], cells)
    cell = rankings["per_cell"][0]
    assert cell["mid_order"] == ["b", "c", "a"] and cell["final_order"] == ["a", "b", "c"]
    assert rankings["mean_tau"] == pytest.approx(-1 / 3) and rankings["cells_with_flips"] == 1


@pytest.mark.parametrize(
    "change, message",
    [
        ({"optimizers": {"adamw": {}, "adamq": {}}}, r"unknown optimizers \['adamq'\]; registered: adamw, cautious_adamw"),
        ({"optimizers": {"muon": {}}}, "needs 'adamw'"),
        ({"phase1_axes": ["optimizer.eps"]}, r"phase axes \['optimizer.eps'\] have no grid"),
        ({"chinchilla_multiples": [1, 2]}, ">= 3 distinct budgets"),
    ],
)
def test_bad_study_configs_are_rejected(change, message):
    with pytest.raises(ValueError, match=message):
        micro_study(**change)


def test_bad_points_are_rejected_before_any_training(tmp_path):
    bad_axis = micro_study(axes=[{"key": "optimizer.betas", "values": [[0.9, 0.95], [0.9, 1.2]]}], optimizers={"adamw": {"optimizer.betas": [0.9, 0.95]}})
    with pytest.raises(ValueError, match=r"axis optimizer.betas value \[0.9, 1.2\] for adamw: .*must lie in \[0, 1\)"):
        OptimizerStudy(bad_axis, tmp_path)
    with pytest.raises(ValueError, match="muon does not take options"):
        OptimizerStudy(micro_study(optimizers={"adamw": {}, "muon": {"optimizer.options": {"beta": 1}}}), tmp_path)
    with pytest.raises(ValueError, match="smaller than one batch"):
        OptimizerStudy(micro_study(tokens_per_parameter=0.01), tmp_path)
    assert not (tmp_path / "runs").exists()


@pytest.fixture(scope="module")
def data_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("data_cache")


@pytest.mark.parametrize("name", OPTIMIZERS.names())
def test_every_optimizer_resumes_bit_exactly(tmp_path, small_config, data_cache, name):
    config = small_config(f"optimizer.name={name}", "max_steps=8", "eval_every=4", "checkpoint_every=2", "sample_tokens=0")
    straight = Trainer(config, tmp_path / "straight", data_cache=data_cache).train(progress=False, export=False)
    Trainer(config, tmp_path / "resumed", data_cache=data_cache).train(stop_at_step=3, progress=False, export=False)
    resumed = Trainer(config, tmp_path / "resumed", data_cache=data_cache).train(progress=False, export=False)
    assert resumed.train_losses == straight.train_losses and resumed.final_val_loss == straight.final_val_loss
    a = torch.load(tmp_path / "straight" / "checkpoint.pt", weights_only=False)["model"]
    b = torch.load(tmp_path / "resumed" / "checkpoint.pt", weights_only=False)["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_cli_lists_presets_and_names_a_bad_one(capsys):
    from helm_plugins.cli import main

    assert main(["optimizers", "--list"]) == 0
    listed = capsys.readouterr().out
    assert "demo" in listed and "paper-small" in listed and "muon" in listed
    assert main(["optimizers", "--preset", "nope"]) == 2
    assert "no config file" in capsys.readouterr().err
    assert main(["optimizers", "--preset", "demo", "--set", "optimizers.sgd={}"]) == 2
    assert "unknown optimizers ['sgd']" in capsys.readouterr().err
