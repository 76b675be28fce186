"""The schema and the confs agree: every run group that any entry of any conf produces is in the schema."""

import re
from pathlib import Path

import pytest
import yaml
from helm.benchmark.presentation.run_entry import read_run_entries
from helm.benchmark.run import run_entries_to_run_specs

import helm_plugins.plugin  # noqa: F401  (registers the run spec functions and deployments)
from helm_plugins.summarize import schema_path
from tests.conftest import REPO

CONFS = sorted((REPO / "run_specs").glob("*.conf"))
# Entries whose inputs are the user's own files (a provider's specification, released documents) are built with
# the shipped equivalent: the groups a run lands in do not depend on those files' contents.
USER_FILES = {
    r"spec=specs/\w+\.jsonl": "spec=toy",
    r",prompts=prompts/\w+\.jsonl": "",
    r"transcript=transcripts/\w+\.jsonl": "transcript=tiny-default",
    r"source=items/\w+\.jsonl,": "",
    r"source=documents/\w+\.jsonl": "source=synthetic",
}
STAND_IN_MODEL = "helm-plugins/tiny-default"


def _schema():
    return yaml.safe_load(schema_path().read_text())


def _entries():
    for conf in CONFS:
        for entry in read_run_entries([str(conf)]).entries:
            yield pytest.param(conf.name, entry, id=f"{conf.name}:{entry.description}"[:150])


def _run_specs(entry):
    """The run specs HELM builds for `entry`; a model without a deployment here is replaced by the embedded one
    (run groups never depend on the model)."""
    description = entry.description
    for pattern, replacement in USER_FILES.items():
        description = re.sub(pattern, replacement, description)
    try:
        return run_entries_to_run_specs([entry.__class__(description, entry.priority, entry.groups)],
                                        max_eval_instances=5, num_train_trials=1)
    except Exception as error:
        if "Unknown model" not in str(error):
            raise
    description = re.sub(r"model=[^,]+", f"model={STAND_IN_MODEL}", description)
    return run_entries_to_run_specs([entry.__class__(description, entry.priority, entry.groups)],
                                    max_eval_instances=5, num_train_trials=1)


@pytest.mark.parametrize("conf, entry", list(_entries()))
def test_every_run_group_of_every_entry_is_in_the_schema(conf, entry):
    schema_groups = {group["name"] for group in _schema()["run_groups"]}
    specs = _run_specs(entry)
    assert specs, f"{conf}: entry {entry.description} builds no run"
    for spec in specs:
        missing = sorted(set(spec.groups) - schema_groups)
        assert not missing, f"{conf}: run {spec.name} lands in groups missing from the schema: {missing}"


def test_the_schema_passes_helms_strict_validation():
    from helm.benchmark.presentation.schema import validate_schema_file

    errors = [m for m in validate_schema_file(str(schema_path()), strict=False) if m.severity == "error"]
    assert errors == []


def test_schema_groups_name_defined_metric_groups():
    schema = _schema()
    metric_groups = {group["name"] for group in schema["metric_groups"]}
    for group in schema["run_groups"]:
        unknown = sorted(set(group.get("metric_groups", [])) - metric_groups)
        assert not unknown, f"run group {group['name']} names undefined metric groups {unknown}"
