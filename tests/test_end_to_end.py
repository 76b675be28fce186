"""HELM's own commands with the plugin installed: helm-run, helm-summarize, helm-server in headless Chromium."""

import json
import sys
from importlib.metadata import entry_points

import pytest

from helm_plugins.common.results import read_stats
from tests.conftest import BIN, REPO, run_command
from tests.helm_server import render, serve

pytestmark = pytest.mark.slow

PRETRAIN_RUN = "hp_pretrain:recipe=demo,optimizer=adamw,seed=0,model=helm-plugins_pretrain-demo"
ARITHMETIC_RUN = "hp_synthetic_arithmetic:num_instances=200,seed=0,model=helm-plugins_tiny-default"
FACT_WORLD_RUN = "hp_synthetic_fact_world:num_instances=200,seed=0,closed_book=True,method=separate,model=helm-plugins_tiny-default"
FACT_WORLD_JOINT_RUN = "hp_synthetic_fact_world:num_instances=200,seed=0,closed_book=True,method=joint,model=helm-plugins_tiny-default"


def test_entry_point_is_declared():
    assert any(ep.value == "helm_plugins.plugin" for ep in entry_points(group="helm"))


def test_demo_conf_runs_on_the_embedded_model_above_chance(demo_suite):
    runs = demo_suite / "benchmark_output" / "runs" / "t"
    arithmetic = read_stats(runs / ARITHMETIC_RUN)
    fact_world = read_stats(runs / FACT_WORLD_RUN)
    joint = read_stats(runs / FACT_WORLD_JOINT_RUN)
    assert arithmetic["num_instances"] == fact_world["num_instances"] == joint["num_instances"] == 20
    assert arithmetic["final_number_exact_match"] >= 0.8  # chance: ~0 (the sum of two numbers below 100)
    assert fact_world["exact_match"] >= 0.6  # chance: 0.25 (four options), on held-out facts
    state = json.loads((runs / ARITHMETIC_RUN / "scenario_state.json").read_text())
    assert state["request_states"][0]["request"]["model_deployment"] == "helm-plugins/tiny-default"


def test_pretraining_run_sits_in_the_same_suite(demo_suite):
    stats = read_stats(demo_suite / "benchmark_output" / "runs" / "t" / PRETRAIN_RUN)
    assert stats["train_tokens@train"] == 40 * 32 * 128
    assert 0 < stats["val_loss@valid"] < 7


def test_every_schema_column_of_the_demo_suite_finds_its_stat(demo_suite):
    completed = run_command([BIN / "helm-plugins", "summarize", "--suite", "t"], cwd=demo_suite)
    output = completed.stdout + completed.stderr
    unmatched = [line for line in output.splitlines() if "does not have any stat matched" in line]
    assert unmatched == [], "\n".join(unmatched[:10])


def test_plugins_flag_without_the_entry_point(tmp_path):
    script = (
        "import sys, helm.benchmark.run as run\n"
        "run.load_entry_point_plugins = lambda group='helm': []  # hide the installed entry point\n"
        "sys.argv = ['helm-run'] + sys.argv[1:]\n"
        "run.main()\n"
    )
    args = ["--run-entries", "hp_synthetic_fact_world:closed_book=true,method=separate,model=helm-plugins/tiny-default",
            "--suite", "p", "-m", "3"]
    without = run_command([sys.executable, "-c", script, *args], cwd=tmp_path, expect_success=False)
    assert without.returncode != 0 and "Unknown run spec name: hp_synthetic_fact_world" in without.stdout + without.stderr
    run_command([sys.executable, "-c", script, "--plugins", "helm_plugins.plugin", *args], cwd=tmp_path)
    assert (tmp_path / "benchmark_output" / "runs" / "p" / FACT_WORLD_RUN / "stats.json").is_file()


@pytest.mark.parametrize(
    "entry, message",
    [
        ("hp_synthetic_arithmetic:model=helm-plugins/tiny-default,num_instance=3", "unknown argument 'num_instance'"),
        ("hp_synthetic_arithmetic:model=helm-plugins/tiny-default,seed=abc", "argument seed='abc'"),
        ("hp_synthetic_arithmetic:model=helm-plugins/tiny-defualt", "Unknown model"),
    ],
)
def test_bad_run_entries_fail_naming_entry_and_problem(tmp_path, entry, message):
    completed = run_command(
        [BIN / "helm-run", "--run-entries", entry, "--suite", "bad", "-m", "3"], cwd=tmp_path, expect_success=False
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode != 0
    assert f"run entry '{entry}'" in output and message in output


# ----- the leaderboard in headless Chromium -----


@pytest.fixture
def helm_server(demo_suite):
    with serve(demo_suite, "t") as url:
        yield url


def test_leaderboard_renders_groups_and_runner_runs(helm_server, tmp_path):
    leaderboard = render(f"{helm_server}/#/leaderboard", tmp_path / "profile")
    for text in ("Leaderboard: helm_plugins", "Synthetic tasks", "Pretraining", "tiny-default"):  # capability rows
        assert text in leaderboard, text
    synthetic = render(f"{helm_server}/#/leaderboard/hp_synthetic", tmp_path / "profile")
    assert "Arithmetic - Accuracy ↑" in synthetic, "the capability page shows its scenarios' columns"
    pretraining = render(f"{helm_server}/#/leaderboard/hp_pretraining", tmp_path / "profile")
    assert "Val loss" in pretraining and "pretrain-demo" in pretraining
    run_page = render(f"{helm_server}/#/runs/{PRETRAIN_RUN}", tmp_path / "profile")
    assert "step0000020" in run_page and "step0000040" in run_page
    speculation = render(f"{helm_server}/#/leaderboard/hp_speculative_decoding", tmp_path / "profile")
    assert "Tokens/pass" in speculation and "tiny-default+das" in speculation
