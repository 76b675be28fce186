import json

import pytest

from helm_plugins.common.results import read_stats
from helm_plugins.runners.rl.actors import SimulatedActors
from helm_plugins.runners.rl.config import load_rl_mle_config
from helm_plugins.runners.rl.report import GROUP, summarize, write_helm_runs, write_report
from helm_plugins.runners.rl.study import Checkpoint, ProgramSpace, run_key, train_run

SPACE = ProgramSpace({"features": ["onehot", "raw"], "model": ["constant", "forest"], "size": ["large"]})
# a measured-looking outcome table: the constant program is fast and weak, raw features crash in training
TABLE = {
    "onehot/constant/large": {"status": "ok", "score": 0.0, "markers": 2, "duration_s": 0.7},
    "raw/constant/large": {"status": "ok", "score": 0.0, "markers": 2, "duration_s": 0.7},
    "onehot/forest/large": {"status": "ok", "score": 1.1, "markers": 5, "duration_s": 3.0},
    "raw/forest/large": {"status": "failed", "score": None, "markers": 3, "duration_s": 2.6},
}


def config(**overrides):
    sets = [f"{k}={json.dumps(v)}" for k, v in {"steps": 8, "seeds": [0, 1], "best_of": 4, "checkpoint_every": 2,
                                                   "tasks": ["district_house_prices"], **overrides}.items()]
    return load_rl_mle_config("demo", None, sets)


def actors_for(table):
    return SimulatedActors(8, lambda action: table["/".join(SPACE.components(action).values())])


class Interrupted(Exception):
    pass


def test_a_run_resumed_from_its_checkpoint_continues_exactly(tmp_path):
    cfg = config()
    arm = cfg.arms[0]
    straight = train_run(cfg, arm, 0, 0, SPACE, TABLE, actors_for(TABLE), {}, lambda: None)
    checkpoint = Checkpoint(tmp_path / "checkpoint.json", cfg)
    state = checkpoint.state(run_key("t", arm.name, 0))
    saves = {"n": 0}

    def save_then_die():
        checkpoint.save()
        saves["n"] += 1
        if saves["n"] == 2:  # the learner process dies after its second checkpoint (step 4)
            raise Interrupted

    with pytest.raises(Interrupted):
        train_run(cfg, arm, 0, 0, SPACE, TABLE, actors_for(TABLE), state, save_then_die)
    reloaded = Checkpoint(tmp_path / "checkpoint.json", cfg).state(run_key("t", arm.name, 0))
    assert len(reloaded["history"]) == 4 and not reloaded.get("done")
    resumed = train_run(cfg, arm, 0, 0, SPACE, TABLE, actors_for(TABLE), reloaded, lambda: None)
    assert resumed["history"] == straight["history"]
    assert resumed["best_of_n"] == straight["best_of_n"] and resumed["policy"] == straight["policy"]


def test_a_checkpoint_of_another_config_is_refused(tmp_path):
    checkpoint = Checkpoint(tmp_path / "checkpoint.json", config())
    checkpoint.save()
    with pytest.raises(ValueError, match="different config.*steps"):
        Checkpoint(tmp_path / "checkpoint.json", config(steps=9))
    (tmp_path / "checkpoint.json").write_text("{not json")
    with pytest.raises(ValueError, match="not a readable checkpoint"):
        Checkpoint(tmp_path / "checkpoint.json", config())


def test_summary_report_and_helm_runs(tmp_path):
    cfg = config()
    runs = {}
    for arm in cfg.arms:
        for seed in cfg.seeds:
            runs[run_key("district_house_prices", arm.name, seed)] = train_run(cfg, arm, seed, 0, SPACE, TABLE,
                                                                      actors_for(TABLE), {}, lambda: None)
    summary = summarize(cfg, runs, {"district_house_prices": TABLE})
    assert {(r["task"], r["arm"]) for r in summary["table"]} == {("district_house_prices", a.name) for a in cfg.arms}
    row = summary["table"][0]
    best = row["best_of_n"]
    assert best["n"] == 2 and best["low"] <= best["mean"] <= best["high"]
    assert [a["arm"] for a in summary["ablation"]] == ["unweighted", "no-instrumentation"]
    assert summary["reference_arm"] == "weighted-instrumented"
    write_report(summary, tmp_path)
    assert (tmp_path / "curves.png").stat().st_size > 0 and "Ablation" in (tmp_path / "study.md").read_text()
    run_dirs = write_helm_runs(cfg, summary, tmp_path / "suite", tmp_path)
    assert len(run_dirs) == len(cfg.arms)
    stats = read_stats(run_dirs[0])
    assert {"rl_best_of_n_score", "rl_late_score", "rl_action_seconds", "rl_failure_rate"} <= set(stats)
    spec = json.loads((run_dirs[0] / "run_spec.json").read_text())
    assert spec["groups"] == [GROUP]
    per_instance = json.loads((run_dirs[0] / "per_instance_stats.json").read_text())
    assert [p["instance_id"] for p in per_instance] == ["seed0", "seed1"]


def test_config_errors_name_the_key():
    with pytest.raises(ValueError, match="components.model"):
        config(components={"features": ["onehot"], "model": ["transformer"], "size": ["small"]})
    with pytest.raises(ValueError, match="unique"):
        config(arms=[{"name": "a", "duration_weighting": True, "instrumentation": True}] * 2)
    with pytest.raises(ValueError, match="window_s"):
        config(window_s=-1)
