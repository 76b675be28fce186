import json

import numpy as np
import pytest

from helm_plugins.cli import main
from helm_plugins.statistics.relative_scaling.demo import DIALECT, to_dialect
from tests.conftest import BIN, run_command

SMALL = ["documents=300", "held_out=20", "steps=[4,8,16]", "n_embd=16", "n_layer=1", "batch_size=8",
         "threads=2"]


def test_dialect_rewrites_the_listed_words_only():
    assert to_dialect("One day, the frog was near the pond.") == "Wan dae, da frog wis nigh da pond."
    assert all(to_dialect(word) == new for word, new in DIALECT.items())


def test_demo_and_models_file_through_the_cli(tmp_path, capsys):
    args = ["relative-scaling", "--demo", "--output", str(tmp_path / "demo"), "--no-progress", "--suite", "s",
            "-o", str(tmp_path / "bo")]
    assert main(args + [item for override in SMALL for item in ("--set", override)]) == 0
    printed = capsys.readouterr().out
    assert "relative law rare / frequent" in printed
    result = json.loads((tmp_path / "demo" / "results.json").read_text())
    assert [m["steps"] for m in result["models"]] == [4, 8, 16]
    flops = [m["flops"] for m in result["models"]]
    assert flops == sorted(flops) and all(m["rare"] > 0 and m["frequent"] > 0 for m in result["models"])
    assert main(["relative-scaling", "--models", str(tmp_path / "demo" / "models.jsonl"), 
                 "--output", str(tmp_path / "again")]) == 0
    again = json.loads((tmp_path / "again" / "results.json").read_text())
    assert again["relative"]["delta_beta"] == result["relative"]["delta_beta"]
    runs = sorted(p.name for p in (tmp_path / "bo" / "runs" / "s").iterdir())
    assert len(runs) == 3 and all(r.startswith("hp_relative_scaling:subgroup=rare,baseline=frequent,model=") for r in runs)

    # the same family through helm-run: its checkpoints score the held-out texts, the law is fitted from the runs
    demo = tmp_path / "demo"
    assert "the same family through helm-run:" in printed
    models = [m["model"] for m in result["models"]]
    run_command([BIN / "helm-run", "--enable-local-huggingface-models", *[demo / "checkpoints" / m.split("/")[1] for m in models],
                 "--run-entries", *[f"hp_text_loss:source={demo / 'held_out.jsonl'},subgroup={s},model={m}"
                                    for m in models for s in ("rare", "frequent")],
                 "--max-eval-instances", "1000", "--suite", "h", "-o", tmp_path / "bo"], cwd=tmp_path)
    assert main(["relative-scaling", "--from-suite", "h", "-o", str(tmp_path / "bo"), "--compute", str(demo / "compute.csv"),
                 "--metric", "log_loss", "--subgroup", "subgroup=rare", "--baseline", "subgroup=frequent",
                 "--output", str(tmp_path / "helm")]) == 0
    helm = json.loads((tmp_path / "helm" / "results.json").read_text())
    for ours, theirs in zip(result["models"], helm["models"]):  # HELM conditions on an end-of-text token first
        assert theirs["subgroup=rare"] == pytest.approx(ours["rare"], abs=0.02)
        assert theirs["subgroup=frequent"] == pytest.approx(ours["frequent"], abs=0.02)
    assert helm["relative"]["delta_beta"] == pytest.approx(result["relative"]["delta_beta"], abs=0.002)


def test_models_file_errors_name_the_line(tmp_path, capsys):
    models = tmp_path / "m.jsonl"
    models.write_text('{"flops": 1e18, "rare": 1.0, "frequent": 0.9}\n{"flops": 1e19, "rare": 0.8}\n')
    assert main(["relative-scaling", "--models", str(models)]) == 2
    assert "m.jsonl:2: missing field 'frequent'" in capsys.readouterr().err


def test_relative_law_from_finished_helm_runs(tmp_path, capsys):
    """A family of four models with planted per-item accuracies on two subsets of one scenario, as HELM runs."""
    import numpy as np

    from helm_plugins.common.results import RunInstance, RunRecord, make_stat, write_run_directory

    rng = np.random.default_rng(0)
    suite = tmp_path / "bo" / "runs" / "fam"
    flops = {"org/m1": 1e18, "org/m2": 1e19, "org/m3": 1e20, "org/m4": 1e21}
    for model, f in flops.items():
        for subset, (alpha, beta) in {"easy": (2.0, 0.05), "hard": (3.0, 0.03)}.items():
            error = alpha * f ** -beta
            correct = (rng.random(400) > error).astype(float)
            write_run_directory(suite, RunRecord(
                name=f"scn:subset={subset},model={model}", scenario_name="scn", scenario_description="", scenario_class="x",
                scenario_args={}, model=model, method="generation", groups=["scn"], stats=[make_stat("exact_match", correct.mean())],
                instances=[RunInstance(id=f"id{i}", input="", output="", stats={"exact_match": c}) for i, c in enumerate(correct)],
            ))
    (tmp_path / "compute.csv").write_text("model,flops\n" + "".join(f"{m},{f}\n" for m, f in flops.items()))
    args = ["relative-scaling", "--from-suite", "fam", "-o", str(tmp_path / "bo"), "--compute", str(tmp_path / "compute.csv"),
            "--metric", "exact_match", "--accuracy", "--subgroup", "subset=hard", "--baseline", "subset=easy",
            "--output", str(tmp_path / "out")]
    assert main(args) == 0
    result = json.loads((tmp_path / "out" / "results.json").read_text())
    assert [m["model"] for m in result["models"]] == list(flops)
    assert result["relative"]["ci_low"] < 0.05 - 0.03 < result["relative"]["ci_high"]  # planted dbeta = 0.02
    (tmp_path / "short.csv").write_text("model,flops\norg/m1,1e18\norg/m2,1e19\n")
    assert main(args[:6] + [str(tmp_path / "short.csv")] + args[7:]) == 2
    assert "2 models of the compute table have runs for both subgroups" in capsys.readouterr().err


def test_many_subgroups_through_the_cli_with_false_discovery_rate_labels(tmp_path, capsys):
    """Twelve subgroups against a baseline over 7 models: the two planted diverging gaps are found, and labels
    follow the Benjamini-Hochberg adjusted p-values (q >= p), not the unadjusted ones."""
    rng = np.random.default_rng(3)
    flops = np.geomspace(1e18, 1e20, 7)
    planted = {f"g{i}": (0.06 if i < 2 else 0.0) for i in range(12)}
    rows = []
    for j, f in enumerate(flops):
        row = {"flops": float(f), "base": float(40 * f**-0.08 * np.exp(rng.normal(0, 0.01)))}
        for name, delta in planted.items():
            row[name] = float(row["base"] * 1.3 * f**delta * np.exp(rng.normal(0, 0.03)))
        rows.append(row)
    models = tmp_path / "many.jsonl"
    models.write_text("".join(json.dumps(r) + "\n" for r in rows))
    names = ",".join(planted)
    assert main(["relative-scaling", "--models", str(models), "--subgroups", names, "--baseline", "base",
                 "--output", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    assert "Benjamini-Hochberg" in printed
    laws = {law["subgroup"]: law for law in json.loads((tmp_path / "out" / "relative_laws.json").read_text())["laws"]}
    assert laws["g0"]["label"] == laws["g1"]["label"] == "diverging"
    assert all(laws[n]["q"] >= laws[n]["p"] for n in laws)
    for name in list(planted)[2:]:
        assert laws[name]["label"] == "constant" or laws[name]["q"] < 0.05
    assert all((law["label"] != "constant") == (law["q"] < 0.05) for law in laws.values())
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"flops": 1e18, "base": 1.0, "g0": 0.9}\n')
    assert main(["relative-scaling", "--models", str(bad), "--subgroups", "g0,g1", "--baseline", "base"]) == 2
    assert "bad.jsonl:1: missing field 'g1'" in capsys.readouterr().err
    assert main(["relative-scaling", "--models", str(models), "--subgroups", "g0", "--baseline", "base"]) == 2
    assert "two or more distinct subgroups" in capsys.readouterr().err
