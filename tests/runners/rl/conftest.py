"""A prepared MLE task (this runner's district_house_prices, prepared in the sandbox once per session)."""

import pytest

from helm_plugins.common.mle_tasks import ReferenceScores, copy_task, prepare_task
from helm_plugins.common.sandbox import SandboxLimits
from helm_plugins.runners.rl.environment import ProgramRunner
from helm_plugins.runners.rl.study import find_task


@pytest.fixture(scope="session")
def house_task(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rl_tasks") / "district_house_prices"
    task = copy_task(find_task("district_house_prices"), folder, include_prepared=False)
    assert prepare_task(task).ok
    return task


@pytest.fixture
def runner(house_task, tmp_path):
    # references fixed by hand (no ladder run): normalised = (raw - 100000) / (50000 - 100000)
    references = ReferenceScores(constant=100000.0, gbm=50000.0, higher_is_better=False)
    return ProgramRunner(house_task, references, str(tmp_path), SandboxLimits(timeout_s=20, memory_mb=1024,
                                                                              max_output_chars=5000))
