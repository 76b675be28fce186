"""hp_mle_task run entries: names, groups and clear errors for bad arguments."""

import pytest

import helm_plugins.plugin  # noqa: F401  (registers the run spec functions)
from helm_plugins.agents.mle_smith.run_specs import get_mle_task_spec
from helm_plugins.common.mle_tasks import HUMAN_POOL


def test_names_and_groups():
    spec = get_mle_task_spec(pool="human", agent="knn", skill=0.5)
    assert spec.name == "hp_mle_task:pool=human,agent=knn,skill=0.5" and spec.groups == ["hp_mle_task_human"]
    folder = get_mle_task_spec(pool=str(HUMAN_POOL), agent="linear")
    assert folder.name.startswith("hp_mle_task:pool=mle_task_pool-") and folder.groups == ["hp_mle_task_generated"]
    labelled = get_mle_task_spec(pool=str(HUMAN_POOL), agent="linear", pool_label="human")
    assert labelled.groups == ["hp_mle_task_human"]


@pytest.mark.parametrize("kwargs, message", [
    ({"pool": "no/such/folder"}, "use human, smith_demo, smith_full or a folder of tasks"),
    ({"agent": "oracle"}, "agent='oracle': use one of sample"),
    ({"sandbox": "docker"}, "sandbox='docker'"),
    ({"pool_label": "mixed"}, "pool_label='mixed': choose human or generated"),
])
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        get_mle_task_spec(**kwargs)
