"""HAL through helm-run: the ReAct agent on fake OpenAI-compatible models with planted skills and prices (the
frontier recovers the planted ones, costs equal tokens × prices), the rubric judge on a fake judge, hal-report,
helm-summarize's leaderboard groups, and bad entries."""

import hashlib
import json
import re
import shutil

import pytest

from tests.conftest import BIN, REPO, run_command
from tests.fake_openai import FakeOpenAIServer

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not shutil.which("bwrap"), reason="bubblewrap is not installed (apt-get install -y bubblewrap)")]

SKILL = {"weak": 0.3, "strong": 0.9, "pricey": 0.9}  # planted: pricey is as good as strong at 10x the price
PRICES = {"weak": 0.5, "strong": 2.0, "pricey": 20.0}  # USD per million tokens, input and output alike
NUM_TASKS = 10


def true_answer(text: str) -> str:
    """The file QA answer, computed from the files the ReAct agent put in its first message."""
    employees = re.findall(r"^(E\d+),(\w+),(\w+),(\w+)$", text, re.MULTILINE)
    sales = [(p, r, int(u)) for p, r, u in re.findall(r"^(\w+),(north|south|east|west),(\d+)$", text, re.MULTILINE)]
    if m := re.search(r"In which city does (\w+) work\?", text):
        return next(city for _, name, city, _ in employees if name == m.group(1))
    if m := re.search(r"most units in the (\w+) region", text):
        return max((u, p) for p, r, u in sales if r == m.group(1))[1]
    employee = re.search(r"employee id (E\d+)", text).group(1)
    return next(dept for eid, _, _, dept in employees if eid == employee)


class PlantedModels(FakeOpenAIServer):
    def replies(self, body):
        model, messages = body["model"], body["messages"]
        if model == "judge":
            text = messages[-1]["content"]
            shortcut = "huggingface.co/datasets" in text.split("Agent log (excerpt):")[-1]
            return [json.dumps({"shortcut": shortcut, "catastrophic_action": False, "instruction_violation": False,
                                "tool_call_failure": False, "environment_error": False, "evidence": "read the log"})]
        task = "\n".join(m["content"] for m in messages)  # one flattened prompt: the fake deployments have no chat tag
        coin = int(hashlib.sha256(task.encode()).hexdigest()[:8], 16) / 16 ** 8  # one coin per task: skills nest
        answer = true_answer(task) if coin < SKILL[model] else "nowhere"
        return ["Thought: the files answer it.\nFinal Answer: " + answer]


def deployments(base_url: str) -> str:
    rows = "".join(
        f"  - name: fake/{name}\n    model_name: fake/{name}\n    tokenizer_name: simple/tokenizer1\n    max_sequence_length: 100000\n"
        f"    client_spec:\n      class_name: helm.clients.openai_client.OpenAIClient\n"
        f"      args: {{base_url: \"{base_url}\", api_key: sk-test-secretsecret123, openai_model_name: {name}}}\n"
        for name in list(SKILL) + ["judge", "unpriced"])
    return f"model_deployments:\n{rows}"


def stats_of(run_dir):
    return {s["name"]["name"]: s for s in json.loads((run_dir / "stats.json").read_text())
            if s["name"]["split"] == "test" and not s["name"].get("perturbation")}


def instance_sum(run_dir, metric):
    return sum(s["mean"] for row in json.loads((run_dir / "per_instance_stats.json").read_text())
               for s in row["stats"] if s["name"]["name"] == metric and not s["name"].get("perturbation"))


def test_react_on_planted_models_frontier_cost_judge_and_leaderboard(tmp_path):
    (tmp_path / "prod_env").mkdir()
    (tmp_path / "prices.yaml").write_text("models:\n" + "".join(
        f"  fake/{n}: {{input: {p}, output: {p}}}\n" for n, p in PRICES.items()))
    entries = [f"hp_hal:benchmark=fileqa,agent=react,num_tasks={NUM_TASKS},max_steps=3,price_file={tmp_path / 'prices.yaml'},"
               f"model=fake/{name}" for name in SKILL]
    entries.append("hp_hal:benchmark=fileqa,agent=react,num_tasks=2,max_steps=2,model=fake/unpriced")
    judged_entries = [f"hp_hal:benchmark=fileqa,agent={agent},num_tasks=4,judge=fake/judge,judge_all=true,"
                      "model=simulated/flash" for agent in ("shortcut", "oracle")]
    with PlantedModels() as server:
        (tmp_path / "prod_env" / "model_deployments.yaml").write_text(deployments(server.base_url))
        completed = run_command([BIN / "helm-run", "--suite", "h", "-m", "100", "-n", "2", "--run-entries", *entries],
                                cwd=tmp_path, expect_success=False)
        run_command([BIN / "helm-run", "--suite", "j", "-m", "100", "-n", "2", "--run-entries", *judged_entries], cwd=tmp_path)
    suite = tmp_path / "benchmark_output" / "runs" / "h"
    assert "no price for fake/unpriced" in completed.stdout + completed.stderr  # an unknown price stops that run
    assert not list(suite.glob("*unpriced*/stats.json"))  # no results, no $0

    accuracy = {}
    for name in SKILL:
        (run_dir,) = suite.glob(f"hp_hal:benchmark=fileqa,agent=react,model=fake_{name}")
        stats = stats_of(run_dir)
        accuracy[name] = stats["accuracy"]["mean"]
        # cost = Σ characters (simple/tokenizer1: one token per character) × price, read back from the traces
        traces = tmp_path / "benchmark_output" / "hal_runs" / "fileqa" / "react" / f"fake_{name}" / "traces"
        events = [json.loads(line) for path in traces.glob("*.jsonl") for line in path.read_text().splitlines()]
        tokens = sum(e["prompt_tokens"] + e["completion_tokens"] for e in events if e["kind"] == "lm")
        assert instance_sum(run_dir, "cost_per_task_usd") == pytest.approx(tokens * PRICES[name] / 1e6)
        assert instance_sum(run_dir, "total_tokens") == tokens and stats["error"]["mean"] == 0
        assert "sk-test-secretsecret123" not in " ".join(p.read_text() for p in traces.glob("*.jsonl"))
    assert accuracy["weak"] < accuracy["strong"] == accuracy["pricey"]

    judged = {agent: stats_of(next(suite.parent.joinpath("j").glob(f"hp_hal:benchmark=fileqa,agent={agent},judge=*")))["flag_shortcut"]["mean"]
              for agent in ("shortcut", "oracle")}
    assert judged == {"shortcut": 1.0, "oracle": 0.0}

    report = run_command([BIN / "helm-plugins", "hal-report", "--suite", "h"], cwd=tmp_path).stdout
    data = json.loads((tmp_path / "benchmark_output" / "hal_report" / "h" / "report.json").read_text())
    on_frontier = {r["model"] for r in data["runs"] if r["on_cost_frontier"] and r["agent"] == "react"}
    assert on_frontier == {"fake/weak", "fake/strong"}  # the dearest model is dominated, as planted
    assert (tmp_path / "benchmark_output" / "hal_report" / "h" / "frontiers.png").is_file()
    assert "## fileqa" in report and "shortcut" in report

    run_command([BIN / "helm-plugins", "summarize", "--suite", "h"], cwd=tmp_path)
    frontier = json.loads((suite / "groups" / "hp_hal_frontier.json").read_text())
    assert "On cost frontier" in json.dumps(frontier) and "fake/strong" in json.dumps(frontier)
    leaderboard = json.loads((suite / "groups" / "hp_hal_fileqa.json").read_text())
    assert "agent=react" in json.dumps(leaderboard) and "Cost per task" in json.dumps(leaderboard)


def test_priority_one_conf_runs_offline(tmp_path):
    """A slice of agents.conf's priority 1 (each benchmark, each scripted agent) runs and scores as planted."""
    conf = (REPO / "run_specs" / "agents.conf").read_text()
    entries = [re.sub(r"num_tasks=\d+", "num_tasks=3", e) for e in re.findall(r'description: "([^"]+)", priority: 1', conf)
               if "agent=oracle" in e or "agent=shortcut" in e]
    run_command([BIN / "helm-run", "--suite", "p", "-m", "100", "-n", "2", "--run-entries", *entries], cwd=tmp_path)
    suite = tmp_path / "benchmark_output" / "runs" / "p"
    for benchmark in ("airline", "fileqa", "usaco"):
        oracle = stats_of(next(suite.glob(f"hp_hal:benchmark={benchmark},agent=oracle,*")))
        assert oracle["accuracy"]["mean"] == 1.0 and oracle["flag_shortcut"]["mean"] == 0
        shortcut = stats_of(next(suite.glob(f"hp_hal:benchmark={benchmark},agent=shortcut,*")))
        assert shortcut["flag_shortcut"]["mean"] == 1.0
