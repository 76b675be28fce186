import json

from helm_plugins.cli import main
from helm_plugins.statistics.relative_scaling.demo import DIALECT, to_dialect

SMALL = ["documents=300", "held_out=20", "steps=[4,8,16]", "n_embd=16", "n_layer=1", "batch_size=8", "bootstrap=100",
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
    assert main(["relative-scaling", "--models", str(tmp_path / "demo" / "models.jsonl"), "--bootstrap", "100",
                 "--output", str(tmp_path / "again")]) == 0
    again = json.loads((tmp_path / "again" / "results.json").read_text())
    assert again["relative"]["delta_beta"] == result["relative"]["delta_beta"]
    runs = sorted(p.name for p in (tmp_path / "bo" / "runs" / "s").iterdir())
    assert len(runs) == 3 and all(r.startswith("hp_relative_scaling:subgroup=rare,baseline=frequent,model=") for r in runs)


def test_models_file_errors_name_the_line(tmp_path, capsys):
    models = tmp_path / "m.jsonl"
    models.write_text('{"flops": 1e18, "rare": 1.0, "frequent": 0.9}\n{"flops": 1e19, "rare": 0.8}\n')
    assert main(["relative-scaling", "--models", str(models)]) == 2
    assert "m.jsonl:2: missing ['frequent']" in capsys.readouterr().err
