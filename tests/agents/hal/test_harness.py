"""The harness with scripted agents: known scores, expected random rates, containment of misbehaving agents,
bad outputs, resume, retries and secrets."""

import json
import math
import shutil
import socket

import pytest

from helm_plugins.agents.hal.benchmarks import make_tasks
from helm_plugins.agents.hal.harness import AgentSpec, HarnessConfig, Models, NoModels, run_tasks
from helm_plugins.common.sandbox import SandboxLimits

pytestmark = pytest.mark.skipif(not shutil.which("bwrap"), reason="bubblewrap is not installed (apt-get install -y bubblewrap)")


def config(benchmark, agent="oracle", timeout=30, memory_mb=512, **kwargs):
    return HarnessConfig(benchmark, AgentSpec.parse(agent), kwargs, SandboxLimits(timeout_s=timeout, memory_mb=memory_mb,
                                                                                 max_processes=32), max_concurrent=2)


def run(tmp_path, benchmark, n, agent="oracle", models=None, resume=False, seed=0, **kwargs):
    return run_tasks(make_tasks(benchmark, n, seed), config(benchmark, agent, **kwargs), tmp_path / "work",
                     models or NoModels(), resume=resume).results


@pytest.mark.parametrize("benchmark,n", [("airline", 6), ("fileqa", 6), ("usaco", 4)])
def test_oracle_solves_every_task(tmp_path, benchmark, n):
    results = run(tmp_path, benchmark, n)
    assert [r.score for r in results.values()] == [1.0] * n, [r.reason for r in results.values()]
    assert all(r.error_kind == "" and r.usage["simulated/scripted"]["prompt_tokens"] > 0 for r in results.values())


@pytest.mark.parametrize("benchmark,n", [("airline", 40), ("fileqa", 40), ("usaco", 24)])
def test_random_agent_scores_near_its_expected_rate(tmp_path, benchmark, n):
    results = list(run(tmp_path, benchmark, n, agent="random").values())
    expected = sum(1 / r.agent_metrics["options"] for r in results) / n
    accuracy = sum(r.score for r in results) / n
    variance = sum((1 / r.agent_metrics["options"]) * (1 - 1 / r.agent_metrics["options"]) for r in results) / n ** 2
    assert abs(accuracy - expected) <= 3 * math.sqrt(variance) + 1e-9, (accuracy, expected)
    assert 0 < expected < 1


def test_gold_stays_out_of_the_task_directory(tmp_path):
    task = make_tasks("fileqa", 1, 0)[0]
    run(tmp_path, "fileqa", 1)
    directory = tmp_path / "work" / "tasks" / task.id / "attempt1"
    visible = " ".join(p.read_text() for p in directory.rglob("*") if p.is_file() and p.name != "output.json")
    assert task.public["question"] in visible and f'"answer": "{task.gold["answer"]}"' not in visible


def misbehave(tmp_path, behaviour, **kwargs):
    return next(iter(run(tmp_path, "fileqa", 1, agent="misbehave", behaviour=behaviour, **kwargs).values()))


def test_agent_reading_the_gold_file_is_contained(tmp_path):
    gold = tmp_path / "gold.json"
    gold.write_text(json.dumps({"fileqa-0-0": "the answer"}))
    result = misbehave(tmp_path, "read_gold", gold_path=str(gold))
    assert result.score == 0 and result.error_kind == "crash" and "FileNotFoundError" in result.reason


def test_agent_writing_outside_its_directory_is_contained(tmp_path):
    result = misbehave(tmp_path, "write_outside")
    assert result.score == 0 and result.error_kind == "crash" and "Error" in result.reason
    assert not list((tmp_path / "work").rglob("escaped.txt"))


def test_agent_opening_a_network_connection_is_contained(tmp_path):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.5)
    result = misbehave(tmp_path, "network", port=server.getsockname()[1])
    with pytest.raises(socket.timeout):
        server.accept()  # nothing ever connected
    server.close()
    assert result.score == 0 and result.error_kind == "crash" and "Connection" in result.reason


def test_agent_allocating_without_bound_is_contained(tmp_path):
    result = misbehave(tmp_path, "memory", memory_mb=256)
    assert result.score == 0 and result.error_kind == "memory", result.reason


def test_agent_looping_forever_is_killed(tmp_path):
    result = misbehave(tmp_path, "loop", timeout=2)
    assert result.score == 0 and result.error_kind == "timeout" and result.wall_s < 15


def test_agent_forking_repeatedly_is_contained(tmp_path):
    result = misbehave(tmp_path, "fork", timeout=10)
    assert result.score == 0 and result.error_kind in ("processes", "crash", "timeout"), result.reason


@pytest.mark.parametrize("behaviour,kind", [("malformed", "malformed_output"), ("missing", "missing_output")])
def test_malformed_or_missing_output_is_scored_failed_with_the_reason(tmp_path, behaviour, kind):
    result = misbehave(tmp_path, behaviour)
    assert result.score == 0 and result.error_kind == kind and result.reason


def test_extra_tasks_in_the_output_are_counted_and_ignored(tmp_path):
    result = misbehave(tmp_path, "extra")
    assert result.extra_tasks == 1 and result.error_kind == ""


def test_api_keys_never_reach_the_sandbox_or_the_traces(tmp_path, monkeypatch):
    secret = "sk-test-abcdefghijklmnop1234"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    result = misbehave(tmp_path, "api_key")
    assert result.answer == "no key in the sandbox"
    written = " ".join(p.read_text(errors="replace") for p in (tmp_path / "work").rglob("*") if p.is_file())
    assert secret not in written


def test_interrupted_run_resumed_gives_the_same_results(tmp_path):
    tasks = make_tasks("airline", 6, 3)
    cfg = config("airline", "random", seed=1)
    full = run_tasks(tasks, cfg, tmp_path / "full", NoModels(), resume=False).results
    run_tasks(tasks[:3], cfg, tmp_path / "partial", NoModels(), resume=False)  # the interrupted run
    checkpoint = tmp_path / "partial" / "results.jsonl"
    checkpoint.write_text(checkpoint.read_text() + '{"task_id": "airline-3-3", "sco')  # cut mid-line
    resumed = run_tasks(tasks, cfg, tmp_path / "partial", NoModels(), resume=True)
    assert resumed.resumed == 3
    assert {k: (r.score, r.answer) for k, r in resumed.results.items()} == {k: (r.score, r.answer) for k, r in full.items()}


class FlakyModels(Models):
    """Fails the first model call, then answers like a model that knows the file QA answer format."""

    def __init__(self):
        self.calls = 0

    def complete(self, payload):
        self.calls += 1
        if self.calls == 1:
            return {"error": "503 planted outage"}
        return {"text": "Final Answer: nowhere", "model": "fake/model", "prompt_tokens": 10, "completion_tokens": 3}


def test_transient_model_failure_is_retried_with_a_fresh_directory(tmp_path):
    models = FlakyModels()
    result = next(iter(run(tmp_path, "fileqa", 1, agent="react", models=models, max_steps=2).values()))
    assert result.attempts == 2 and result.error_kind == "" and result.answer == "nowhere"
    assert result.usage["fake/model"] == {"calls": 1, "prompt_tokens": 10, "completion_tokens": 3, "cached_prompt_tokens": 0}


def test_bad_agent_reference_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="shipped agent.*<folder>:<module>.<function>"):
        AgentSpec.parse("nonsense")
    with pytest.raises(ValueError, match="no main.py"):
        AgentSpec.parse(f"{tmp_path}:main.run")


def test_user_agent_folder(tmp_path):
    folder = tmp_path / "my_agent"
    folder.mkdir()
    (folder / "main.py").write_text("def run(tasks, answer='x', **kwargs):\n    return {t: answer for t in tasks}\n")
    result = next(iter(run(tmp_path, "fileqa", 1, agent=f"{folder}:main.run", answer="JFK").values()))
    assert result.answer == "JFK" and result.error_kind == ""


RECKLESS_AGENT = """import re, hal_gateway
def run(tasks, flight='', card='', **kwargs):
    task_id, task = next(iter(tasks.items()))
    uid = re.search(r'user id (\\S+)\\)', task['instruction']).group(1)
    rid = re.search(r'reservation (R\\d+)', task['instruction']).group(1)
    hal_gateway.tool('book_reservation', user_id=uid, flight=flight, cabin='economy', payment_id=card)
    hal_gateway.tool('cancel_reservation', reservation_id=rid)
    return {task_id: 'done'}
"""


def test_environment_marks_catastrophic_actions_and_policy_violations(tmp_path):
    """An agent that charges another user's card and cancels a basic-economy booking is marked by the airline
    environment, and the database then differs from the goal."""
    folder = tmp_path / "reckless"
    folder.mkdir()
    (folder / "main.py").write_text(RECKLESS_AGENT)
    task = next(t for t in make_tasks("airline", 20, 0) if t.gold["kind"] == "cancel" and t.gold["initial_db"][
        "reservations"][t.public["instruction"].split()[-1].rstrip(".")]["cabin"] == "basic_economy")
    db = task.gold["initial_db"]
    other_user = next(u for u in sorted(db["users"]) if u != task.gold["acting_user"])
    card = next(p for p, v in db["users"][other_user]["payment_methods"].items() if v["type"] == "credit_card")
    flight = next(f for f, v in sorted(db["flights"].items()) if v["seats_left"] > 0)
    cfg = config("airline", f"{folder}:main.run", flight=flight, card=card)
    result = run_tasks([task], cfg, tmp_path / "work", NoModels(), resume=False).results[task.id]
    assert result.score == 0 and result.error_kind == ""
    assert result.marks == {"catastrophic_action": 1, "instruction_violation": 1}
