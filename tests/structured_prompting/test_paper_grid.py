"""The paper grid of structured_prompting.conf as helm-run builds it: budgets that leave room for reasoning tokens,
the paper's instruction proposer, distinct run names."""

import re

import pytest
from helm.benchmark.config_registry import register_builtin_configs_from_helm_package
from helm.benchmark.presentation.run_entry import read_run_entries
from helm.benchmark.run import run_entries_to_run_specs

import helm_plugins.plugin  # noqa: F401
from tests.conftest import REPO

REASONING = re.compile(r"(^|/)o\d|gemini-2\.5|deepseek-r1")


@pytest.fixture(scope="module")
def grid():
    register_builtin_configs_from_helm_package()
    entries = read_run_entries([str(REPO / "run_specs" / "structured_prompting.conf")]).entries
    return run_entries_to_run_specs([e for e in entries if e.priority in (2, 3)])


def test_grid_is_complete_and_run_names_are_distinct(grid):
    assert len(grid) == 7 * 4 * 6 + 7 * 4 * 3 * 2  # priority 3: optimiser seeds 1 and 2
    assert len({spec.name for spec in grid}) == len(grid)
    seeds = {}
    for spec in grid:
        a = spec.adapter_spec
        if getattr(a, "dspy_method", "") in ("bfrs", "miprov2", "gepa"):
            seeds.setdefault((a.dspy_benchmark, a.model, a.dspy_method), set()).add(a.dspy_seed)
    assert len(seeds) == 7 * 4 * 3 and all(found == {0, 1, 2} for found in seeds.values())


def test_reasoning_models_get_room_for_reasoning_and_answer(grid):
    for spec in grid:
        if REASONING.search(spec.adapter_spec.model):
            assert spec.adapter_spec.max_tokens >= 16000, spec.name  # HELM's baselines give 1-10 tokens on some
        elif hasattr(spec.adapter_spec, "dspy_method"):
            assert spec.adapter_spec.max_tokens >= 4000, spec.name  # the paper's DSPy default


def test_miprov2_and_gepa_propose_with_the_papers_model(grid):
    proposers = {spec.adapter_spec.dspy_prompt_model for spec in grid
                 if getattr(spec.adapter_spec, "dspy_method", "") in ("miprov2", "gepa")}
    assert proposers == {"openai/gpt-4o-2024-05-13"}
