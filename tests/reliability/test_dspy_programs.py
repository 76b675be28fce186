"""A DSPy program whose optimisation got no LM reply is recorded as an optimisation failure, never saved, and a
program saved that way by an older version is never reused."""

import json

from helm_plugins.structured_prompting.executor import ANNOTATION
from helm_plugins.structured_prompting.metrics import StructuredPromptingMetric
from tests.structured_prompting.test_executor import Endpoint, fake_deployment, key, run  # noqa: F401


def test_an_optimisation_without_a_single_reply_is_recorded_and_never_saved(key, tmp_path):
    from helm.benchmark.adaptation.adapter_spec import AdapterSpec

    states = run("bfrs", Endpoint(key, fail=True), programs_dir=str(tmp_path), candidates=2)
    assert list(tmp_path.rglob("*.json")) == []  # nothing saved, so nothing can be reused
    notes = [s.annotations[ANNOTATION] for s in states]
    assert {n["status"] for n in notes} == {"optimisation_failure"}
    assert "every one of the" in notes[0]["error"] and "planted provider error" in notes[0]["error"]
    stats = {s.name.name: s.mean for s in StructuredPromptingMetric("synthetic_arithmetic").evaluate_generation(
        AdapterSpec(model="fakeorg/in-process", model_deployment="fakeorg/in-process"), states[0], None, "")}
    assert stats["sp_optimisation_failure"] == 1 and stats["sp_request_failure"] == 0
    assert all(s.result.completions[0].text == "" for s in states)

    # a working endpoint afterwards optimises (nothing stale was left behind)
    endpoint = Endpoint(key)
    states = run("bfrs", endpoint, programs_dir=str(tmp_path), candidates=2)
    assert {s.annotations[ANNOTATION]["status"] for s in states} <= {"ok", "parse_failure"}
    assert len(list(tmp_path.rglob("*.meta.json"))) == 1


def test_a_saved_program_whose_optimisation_had_no_reply_is_not_reused(key, tmp_path):
    run("bfrs", Endpoint(key), programs_dir=str(tmp_path), candidates=2)
    [meta_path] = list(tmp_path.rglob("*.meta.json"))
    meta = json.loads(meta_path.read_text())
    meta_path.write_text(json.dumps({**meta, "failed_lm_calls": meta["lm_calls"]}))  # as an older version saved it
    endpoint = Endpoint(key)
    states = run("bfrs", endpoint, programs_dir=str(tmp_path), candidates=2)
    assert {s.annotations[ANNOTATION]["status"] for s in states} == {"optimisation_failure"}
    assert "without a single successful LM call" in states[0].annotations[ANNOTATION]["error"]
    assert endpoint.requests == []
