import json
import subprocess
import sys

from helm_plugins.common.results import RunInstance, RunRecord, make_stat, read_stats, write_run_directory


def _record(name="hp_runner:x=1,model=helm-plugins/m1"):
    return RunRecord(
        name=name,
        scenario_name="hp_pretrain",
        scenario_description="a runner",
        scenario_class="some.Runner",
        scenario_args={"x": 1},
        model="helm-plugins/m1",
        method="pretraining",
        groups=["hp_pretraining"],
        stats=[make_stat("val_loss", [1.0, 3.0], split="valid"), make_stat("train_tokens", 1000, split="train")],
        instances=[RunInstance(id="step1", input="prompt", output="sample", stats={"val_loss": 2.5}, split="valid")],
    )


def test_writes_helm_files_with_helm_statistics(tmp_path):
    run_dir = write_run_directory(tmp_path, _record())
    assert run_dir.name == "hp_runner:x=1,model=helm-plugins_m1"
    assert sorted(p.name for p in run_dir.iterdir()) == [
        "per_instance_stats.json", "run_spec.json", "scenario.json", "scenario_state.json", "stats.json",
    ]
    stats = json.loads((run_dir / "stats.json").read_text())
    assert stats[0] == {
        "name": {"name": "val_loss", "split": "valid"},
        "count": 2, "sum": 4.0, "sum_squared": 10.0, "min": 1.0, "max": 3.0, "mean": 2.0, "variance": 1.0, "stddev": 1.0,
    }
    assert read_stats(run_dir) == {"val_loss@valid": 2.0, "train_tokens@train": 1000.0}
    state = json.loads((run_dir / "scenario_state.json").read_text())
    assert state["request_states"][0]["result"]["completions"][0]["text"] == "sample"


def test_output_passes_helm_summarize_with_the_schema(tmp_path):
    write_run_directory(tmp_path / "runs" / "s", _record())
    completed = subprocess.run(
        [sys.executable, "-m", "helm_plugins.cli", "summarize", "--suite", "s", "-o", str(tmp_path)],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    table = json.loads((tmp_path / "runs" / "s" / "groups" / "hp_pretraining.json").read_text())[0]
    assert [h["value"] for h in table["header"]][:2] == ["Model", "Val loss ↓"]  # the direction in the name
    assert table["rows"][0][0]["value"] == "helm-plugins/m1" and table["rows"][0][1]["value"] == 2.0
    predictions = json.loads(
        (tmp_path / "runs" / "s" / "hp_runner:x=1,model=helm-plugins_m1" / "display_predictions.json").read_text()
    )
    assert predictions[0]["predicted_text"] == "sample"
