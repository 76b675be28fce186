"""helm-plugins summarize on a suite with an unreadable run: the error names the file and the run to rerun."""

import subprocess
import sys

import pytest

from helm_plugins.common.results import RunInstance, RunRecord, make_stat, write_run_directory

RUN = "hp_runner:x=1,model=helm-plugins/m1"


def _suite_with_one_run(tmp_path):
    record = RunRecord(
        name=RUN, scenario_name="hp_pretrain", scenario_description="a runner", scenario_class="some.Runner",
        scenario_args={"x": 1}, model="helm-plugins/m1", method="pretraining", groups=["hp_pretraining"],
        stats=[make_stat("val_loss", [1.0, 3.0], split="valid")],
        instances=[RunInstance(id="step1", input="prompt", output="sample", stats={"val_loss": 2.5}, split="valid")],
    )
    return write_run_directory(tmp_path / "runs" / "s", record)


def _summarize(tmp_path):
    return subprocess.run(
        [sys.executable, "-m", "helm_plugins.cli", "summarize", "--suite", "s", "-o", str(tmp_path)],
        capture_output=True, text=True, cwd=tmp_path,
    )


@pytest.mark.parametrize("file_name", ["stats.json", "run_spec.json", "scenario_state.json", "per_instance_stats.json"])
def test_a_truncated_run_file_is_named_with_the_run_to_rerun(tmp_path, file_name):
    run_dir = _suite_with_one_run(tmp_path)
    path = run_dir / file_name
    path.write_text(path.read_text()[:40])  # what an interrupted, non-atomic write leaves
    completed = _summarize(tmp_path)
    assert completed.returncode == 2
    message = completed.stderr.strip().splitlines()[-1]
    assert f"{path}: not valid JSON" in message
    assert f"run '{run_dir.name}' is incomplete" in message and "--skip-completed-runs" in message


def test_a_readable_suite_still_summarizes(tmp_path):
    _suite_with_one_run(tmp_path)
    completed = _summarize(tmp_path)
    assert completed.returncode == 0, completed.stderr[-2000:]
