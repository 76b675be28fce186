import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "TOKENIZERS_PARALLELISM": "false",
}
os.environ.update(OFFLINE_ENV)


def run_command(args, cwd, expect_success=True, timeout=900):
    """Run a command line tool of the environment; on an unexpected result show its output's tail."""
    completed = subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env={**os.environ, **OFFLINE_ENV}
    )
    if expect_success and completed.returncode != 0:
        pytest.fail(f"{args[0]} exited with {completed.returncode}:\n{(completed.stdout + completed.stderr)[-4000:]}")
    return completed


@pytest.fixture(scope="session")
def demo_suite(tmp_path_factory):
    """The demo, scaled down: helm-run on demo.conf's priority-1 entries, short pretraining and speculation
    runs, helm-summarize."""
    root = tmp_path_factory.mktemp("demo")
    run_command(
        [BIN / "helm-run", "--conf-paths", REPO / "run_specs" / "demo.conf", "--priority", "1", "--suite", "t",
         "--max-eval-instances", "20", "--num-threads", "2"],
        cwd=root,
    )
    run_command(
        [BIN / "helm-plugins", "pretrain", "--recipe", "demo", "--suite", "t", "--output", root / "pretrain",
         "--no-progress", "--set", "max_steps=40", "--set", "eval_every=20", "--set", "data.num_documents=1500"],
        cwd=root,
    )
    run_command(
        [BIN / "helm-plugins", "speculate", "--preset", "demo", "--suite", "t", "--output", root / "speculate",
         "--no-progress", "--set", "problems=2", "--set", "rollouts_per_problem=2", "--set", "epochs=2"],
        cwd=root,
    )
    run_command([BIN / "helm-plugins", "summarize", "--suite", "t"], cwd=root)
    return root
