"""judges.conf as helm-run builds it: reasoning models get output budgets for their reasoning, as judges and as
answerers, so verdicts and answers are not cut off empty."""

import re

from helm.benchmark.config_registry import register_builtin_configs_from_helm_package
from helm.benchmark.presentation.run_entry import read_run_entries
from helm.benchmark.run import run_entries_to_run_specs

import helm_plugins.plugin  # noqa: F401
from tests.conftest import REPO

REASONING = re.compile(r"(^|/)o\d|gemini-2\.5|deepseek-r1")


def test_reasoning_judges_and_answerers_have_room():
    register_builtin_configs_from_helm_package()
    entries = read_run_entries([str(REPO / "run_specs" / "judges.conf")]).entries
    specs = run_entries_to_run_specs([e for e in entries if e.priority == 2])
    assert len(specs) == 7
    for spec in specs:
        model = spec.adapter_spec.model
        judge = spec.annotators[0].args["judge"] or model
        if REASONING.search(judge):
            assert spec.annotators[0].args["max_tokens"] >= 16000, spec.name
        if REASONING.search(model):
            assert spec.adapter_spec.max_tokens >= 16000, spec.name
