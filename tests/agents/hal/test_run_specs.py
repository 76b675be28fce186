"""Run entries of HAL: what they build, and bad ones rejected with the entry and the reason."""

import json

import pytest
from helm.benchmark.run_spec_factory import construct_run_specs
from helm.common.object_spec import parse_object_spec

import helm_plugins.plugin  # noqa: F401  (registers hp_hal and the simulated models)


def test_entry_builds_an_agent_run():
    (spec,) = construct_run_specs(parse_object_spec(
        "hp_hal:benchmark=airline,agent=skilled,skill=0.7,reasoning_effort=high,agent_args=temperature:0.2;style:terse,"
        "model=simulated/mini"))
    adapter = spec.adapter_spec
    assert spec.name == "hp_hal:benchmark=airline,agent=skilled,reasoning_effort=high,skill=0.7,model=simulated_mini"
    assert adapter.hal_benchmark == "airline" and adapter.instructions == "agent=skilled effort=high skill=0.7"
    kwargs = json.loads(adapter.hal_agent_kwargs)
    assert kwargs["skill"] == 0.7 and kwargs["reasoning_effort"] == "high" and kwargs["temperature"] == 0.2
    assert kwargs["style"] == "terse" and spec.groups == ["hp_hal_airline"]


@pytest.mark.parametrize("entry, message", [
    ("hp_hal:benchmark=webarena", "unknown HAL benchmark 'webarena'"),
    ("hp_hal:benchmark=airline,sandbox=docker", "sandbox='docker': choose one of auto, bwrap, unshare, none"),
    ("hp_hal:benchmark=airline,agent=nonsense", "shipped agent"),
    ("hp_hal:benchmark=airline,skill=1.5", "skill"),
    ("hp_hal:benchmark=airline,agent_args=novalue", "agent_args 'novalue': expected key:value pairs"),
    ("hp_hal:benchmark=airline,backend=k8s", "backend='k8s': choose local or ray"),
])
def test_bad_entries_fail_with_a_clear_message(entry, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        construct_run_specs(parse_object_spec(f"{entry},model=simulated/flash"))
