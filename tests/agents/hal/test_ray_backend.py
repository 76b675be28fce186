"""The Ray backend (a local Ray cluster started here) gives the same results as the local backend."""

import shutil
import time

import pytest

from helm_plugins.agents.hal.benchmarks import make_tasks
from helm_plugins.agents.hal.harness import AgentSpec, HarnessConfig, LocalBackend, NoModels, run_tasks
from helm_plugins.common.sandbox import SandboxLimits

ray = pytest.importorskip("ray", reason="Ray is an optional extra: pip install 'helm-plugins[ray]'")
pytestmark = pytest.mark.skipif(not shutil.which("bwrap"), reason="bubblewrap is not installed")
RAY_START_BUDGET_S = 60


@pytest.fixture(scope="module")
def ray_backend():
    from helm_plugins.agents.hal.harness import RayBackend

    start = time.monotonic()
    try:
        backend = RayBackend(max_concurrent=2)
    except Exception as error:  # a machine where Ray cannot start a local cluster
        pytest.skip(f"a local Ray cluster did not start: {error}")
    if time.monotonic() - start > RAY_START_BUDGET_S:
        ray.shutdown()
        pytest.skip(f"a local Ray cluster took more than {RAY_START_BUDGET_S} s to start")
    yield backend
    ray.shutdown()


@pytest.mark.parametrize("benchmark,agent", [("airline", "random"), ("usaco", "skilled")])
def test_ray_and_local_backends_agree(tmp_path, ray_backend, benchmark, agent):
    tasks = make_tasks(benchmark, 6, 2)
    config = HarnessConfig(benchmark, AgentSpec.parse(agent), {"seed": 3, "skill": 0.5}, SandboxLimits(timeout_s=30),
                           max_concurrent=2)
    local = run_tasks(tasks, config, tmp_path / "local", NoModels(), backend=LocalBackend(2), resume=False).results
    remote = run_tasks(tasks, config, tmp_path / "ray", NoModels(), backend=ray_backend, resume=False).results
    view = lambda results: {k: (r.score, r.answer, r.usage, r.marks) for k, r in results.items()}  # noqa: E731
    assert view(remote) == view(local)
    assert (tmp_path / "ray" / "results.jsonl").read_text().count("\n") == 6
