import json

from helm_plugins.cli import main


def test_entce_demo_on_the_embedded_model(tmp_path, capsys):
    overrides = ["documents=12", "steps=8", "prompt_tokens=8", "temperatures=[1.0, 0.5]", "zipf_alphas=[1.5]", "threads=2"]
    args = ["entce", "--demo", "--output", str(tmp_path), "--no-progress", "--suite", "s", "-o", str(tmp_path / "bo")]
    assert main(args + [item for override in overrides for item in ("--set", override)]) == 0
    report = json.loads((tmp_path / "results.json").read_text())
    by_temperature = report["by_temperature"]
    assert set(by_temperature) == {"1.0", "0.5"} and by_temperature["1.0"]["steps"] == 8
    assert by_temperature["0.5"]["mean_entropy"] < by_temperature["1.0"]["mean_entropy"]  # sharper sampling
    assert (tmp_path / "entropy_calibration.png").stat().st_size > 0
    assert "| 1.0 |" in capsys.readouterr().out
    runs = sorted(p.name for p in (tmp_path / "bo" / "runs" / "s").iterdir())
    assert runs == ["hp_entropy_calibration:temperature=0.5,model=helm-plugins_tiny-default@t0.5",
                    "hp_entropy_calibration:temperature=1.0,model=helm-plugins_tiny-default@t1.0"]


def test_entce_needs_demo_and_a_real_model(tmp_path, capsys):
    assert main(["entce"]) == 2
    assert "give one of --demo" in capsys.readouterr().err
    assert main(["entce", "--demo", "--set", f"model={tmp_path / 'absent'}", "--output", str(tmp_path / "o")]) == 2
    assert "no checkpoint folder" in capsys.readouterr().err
