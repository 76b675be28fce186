"""Every AHELM aspect is covered by run_specs/audio.conf and the schema: an offline (priority 1) entry, or
released-data entries whose scenarios construct, with aspect groups the summarizer aggregates."""

import yaml
from helm.benchmark.presentation.run_entry import read_run_entries
from helm.benchmark.run import run_entries_to_run_specs
from helm.benchmark.scenarios.scenario import create_scenario

import helm_plugins.plugin  # noqa: F401  (registers the run spec functions and deployments)
from helm_plugins.audio.run_specs import ASPECT_GROUP, ASPECT_ORDER, ASPECTS, aspect_of
from helm_plugins.summarize import schema_path
from tests.conftest import REPO

CONF = REPO / "run_specs" / "audio.conf"
DOC = REPO / "docs" / "audio.md"


AUDIO_RELEASED_MODULES = {"ffmpeg", "soundfile", "librosa", "pydub"}  # pyproject's audio-released extra


def _assert_class_defined(class_name: str) -> None:
    """Read, not imported: the module imports packages of the audio-released extra."""
    import ast
    import importlib.util

    module, _, name = class_name.rpartition(".")
    tree = ast.parse(open(importlib.util.find_spec(module).origin).read())
    assert name in [node.name for node in tree.body if isinstance(node, ast.ClassDef)], class_name


def _specs_by_priority():
    by_priority = {}
    for entry in read_run_entries([str(CONF)]).entries:
        for spec in run_entries_to_run_specs([entry], max_eval_instances=5, num_train_trials=1):
            by_priority.setdefault(entry.priority, []).append(spec)
    return by_priority


def test_every_aspect_has_an_offline_entry_or_released_entries_that_construct():
    by_priority = _specs_by_priority()
    offline = {aspect_of(g) for spec in by_priority[1] for g in spec.groups}
    released = {aspect_of(g) for spec in by_priority.get(3, []) for g in spec.groups}
    assert set(ASPECT_ORDER) <= offline | released
    assert set(ASPECT_ORDER) - offline == {"emotion"}  # no offline emotion: documented in the conf and docs
    assert "emotion" in released
    doc = DOC.read_text()
    for aspect in ASPECT_ORDER:
        assert aspect in doc, f"docs/audio.md does not mention the {aspect} aspect"
    constructed = 0
    for spec in by_priority[3]:
        assert spec.scenario_spec.class_name.startswith("helm.benchmark.scenarios.audio_language.")
        # HELM's scenario classes check their arguments (subject, level, language, subset) at construction and
        # download only in get_instances
        try:
            create_scenario(spec.scenario_spec)
            constructed += 1
        except ModuleNotFoundError as error:  # loaders that import the audio-released extra's packages
            assert error.name in AUDIO_RELEASED_MODULES, error
            _assert_class_defined(spec.scenario_spec.class_name)
    assert constructed >= 5  # PARADE, CoRe-Bench, AIR-Bench, MUStARD, voice jailbreak need no extra


def test_the_schema_has_one_aspect_group_over_every_audio_group():
    schema = yaml.safe_load(schema_path().read_text())
    groups = {g["name"]: g for g in schema["run_groups"]}
    # the ten aspects, then the text ceiling of the knowledge questions (a reference, not an aspect)
    assert groups["hp_audio"]["subgroups"] == [ASPECT_GROUP[a] for a in ASPECT_ORDER] + ["hp_audio_knowledge_text"]
    for aspect in ASPECT_ORDER:
        subgroups = groups[ASPECT_GROUP[aspect]]["subgroups"]
        assert set(subgroups) == {g for g, a in ASPECTS.items() if a == aspect}
        for name in subgroups:  # each leaf has a main metric, which the aspect table ranks models by
            assert groups[name]["environment"]["main_name"] in {m["name"] for m in schema["metrics"]}
