"""UQ and SpecEval through helm-run: offline on the embedded models (judges.conf priority 1), and with a fake
OpenAI-compatible judge on 127.0.0.1 whose verdicts give known precision, recall and adherence."""

import json
import re

import pytest

from helm_plugins.judges.uq.scenarios import UQMetaEvalScenario
from tests.conftest import BIN, REPO, run_command
from tests.fake_openai import FakeOpenAIServer, deployment_yaml
from tests.judges.scripted import arithmetic_validator

pytestmark = pytest.mark.slow


def run_stats(run_dir):
    return {s["name"]["name"]: s["mean"] for s in json.loads((run_dir / "stats.json").read_text())
            if s["name"]["split"] == "test" and not s["name"].get("perturbation") and "mean" in s}


def the_run(suite, prefix):
    (path,) = suite.glob(f"{prefix}:*")
    return path


def test_priority_one_offline_on_the_embedded_models(tmp_path):
    """Priority 1: UQ on tiny-chat (its own judge) lands in the UQ tables with verdicts parsed from its replies;
    SpecEval on tiny-default is a plumbing check (prompts fitted into its window, every call recorded, off the
    SpecEval tables). Verdict counts add up in every run."""
    run_command([BIN / "helm-run", "--conf-paths", REPO / "run_specs" / "judges.conf", "--priority", "1", "--suite", "j",
                 "-m", "3", "-n", "2"], cwd=tmp_path)
    suite = tmp_path / "benchmark_output" / "runs" / "j"
    runs = sorted(p.name for p in suite.iterdir() if p.is_dir() and ":" in p.name)
    assert len(runs) == 6, runs
    for run in runs:
        stats = run_stats(suite / run)
        assert stats["judge_requests"] > 0 and stats["judge_failed_requests"] == 0 and stats["judge_cost_usd"] == 0
        groups = json.loads((suite / run / "run_spec.json").read_text())["groups"]
        if run.startswith("hp_spec_adherence"):
            assert groups == ["hp_judges_plumbing"] and "tiny-default" in run
            assert stats["judge_truncated_prompts"] > 0  # long judge prompts were fitted into the 256-token window
        else:
            assert "hp_judges_plumbing" not in groups and "model=helm-plugins_tiny-chat" in run, run
            assert stats["judge_truncated_prompts"] == 0  # the 1,024-token context holds the judge prompts
            assert stats["judge_malformed_verdicts"] <= 0.5 * stats["judge_requests"], run  # verdicts are parsed
        states = json.loads((suite / run / "scenario_state.json").read_text())["request_states"]
        for state in states:
            (annotation,) = state["annotations"].values()
            judged = [c for c in annotation["calls"] if "verdict_status" in c]
            assert sum(annotation["verdicts"].values()) == len(judged)
            assert all(c["prompt"] and isinstance(c["reply"], str) for c in annotation["calls"])
    report = run_command([BIN / "helm-plugins", "uq-report", "--suite", "j"], cwd=tmp_path).stdout
    assert "validator_precision | validator_recall | validator_accuracy" in report and report.count("| hp_uq") == 3
    matrix = run_command([BIN / "helm-plugins", "spec-matrix", "--suite", "j"], cwd=tmp_path).stdout
    assert "helm-plugins (likert)" in matrix and (suite / "spec_matrix" / "judge_bias.png").is_file()

    summary = run_command([BIN / "helm-plugins", "summarize", "--suite", "j", "--num-threads", "1"], cwd=tmp_path)
    assert "does not have any stat matched" not in summary.stdout + summary.stderr
    plumbing = json.loads((suite / "groups" / "hp_judges_plumbing.json").read_text())
    assert "tiny-default" in json.dumps(plumbing[0]["rows"])
    assert any("tiny-chat" in path.read_text() for path in (suite / "groups").glob("hp_uq_meta*.json"))
    assert not (suite / "groups" / "hp_spec_adherence_likert_self.json").exists() or "tiny-default" not in (
        suite / "groups" / "hp_spec_adherence_likert_self.json").read_text()


def fake_models(model: str, prompt: str) -> str:
    if model == "candidate":
        if "bomb" in prompt or "gun" in prompt:
            return "I can't help with that."
        return "Sure! Here is a long and detailed answer. The answer is 0."
    if '"rating"' in prompt:  # SpecEval Likert judge
        return '{"rating": 5, "explanation": "refusal"}' if "I can't help" in prompt else '{"rating": 2}'
    return arithmetic_validator(prompt)


def test_fake_openai_judge_through_helm_run(tmp_path):
    with FakeOpenAIServer(fake_models) as server:
        (tmp_path / "prod_env").mkdir()
        (tmp_path / "prod_env" / "model_deployments.yaml").write_text(
            deployment_yaml(server.base_url, ["fake/judge", "fake/candidate"]))
        run_command([BIN / "helm-run", "--suite", "f", "-m", "100", "-n", "2", "--run-entries",
                     "hp_uq_meta:num_questions=16,strategy=pipeline[cc*1|U;flc*2|U],judge=fake/judge,model=fake/candidate",
                     "hp_spec_adherence:spec=toy,judge=fake/judge,model=fake/candidate"], cwd=tmp_path)
        assert {model for model, _ in server.requests} == {"judge", "candidate"}
    suite = tmp_path / "benchmark_output" / "runs" / "f"

    instances = UQMetaEvalScenario(num_questions=16, seed=0).get_instances("")
    planted = [(i.extra_data["planted_correct"], " - " in i.extra_data["planted_answer"]) for i in instances]
    tp = sum(c and not m for c, m in planted)
    fn = sum(c and m for c, m in planted)
    uq = run_stats(the_run(suite, "hp_uq_meta"))
    assert uq["uq_validator_precision"] == 1.0
    assert uq["uq_validator_recall"] == pytest.approx(tp / (tp + fn))
    assert uq["uq_answer_accuracy"] == 0.0  # the fake candidate always answers 0
    assert "uq_generator_validator_gap" not in uq  # another model judged: the gap is undefined
    minus_planted = sum(m for _, m in planted)
    assert uq["judge_malformed_verdicts"] == pytest.approx(2 * minus_planted / 16)  # flc*2 on each subtraction
    assert uq["judge_cost_unknown_requests"] > 0  # the fake model has no price

    spec = run_stats(the_run(suite, "hp_spec_adherence"))
    assert spec["spec_adherence"] == pytest.approx(2 / 11) and spec["spec_adherence_prohibition"] == 1.0
    assert spec["spec_verdict_valid"] == 1.0 and spec["spec_likert_mean"] == pytest.approx((2 * 5 + 9 * 2) / 11)


@pytest.mark.parametrize(
    "entry, message",
    [
        ("hp_uq:strategy=pipeline[cc*3|U;flc*|U]", "strategy does not parse at column 21: expected a whole number"),
        ("hp_uq:questions=missing.jsonl", "UQ questions file missing.jsonl not found"),
        ("hp_spec_adherence:mode=pairwise", "mode=pairwise needs baseline=<model deployment>"),
    ],
)
def test_bad_entries_fail_with_a_clear_message(tmp_path, entry, message):
    completed = run_command([BIN / "helm-run", "--suite", "bad", "-m", "2", "--run-entries",
                             f"{entry},model=helm-plugins/tiny-default"], cwd=tmp_path, expect_success=False)
    assert completed.returncode != 0 and message in completed.stdout + completed.stderr


def test_spec_testmaker_command_with_fake_models(tmp_path):
    counter = iter(range(10_000))

    def models(model, prompt):
        if model == "maker":
            return json.dumps({"prompts": [f"Test prompt number {next(counter)}." for _ in range(3)]})
        if model == "candidate":
            return f"Reply to {prompt}"
        if "Rate how good this user prompt is" in prompt:
            number = int(re.search(r"Test prompt number (\d+)", prompt).group(1))
            return '{"rating": 1}' if number % 3 == 2 else '{"rating": 4}'  # every third prompt is below quality
        number = int(re.search(r"Reply to Test prompt number (\d+)", prompt).group(1))
        return json.dumps({"rating": 1 + number % 5})

    with FakeOpenAIServer(models) as server:
        (tmp_path / "prod_env").mkdir()
        (tmp_path / "prod_env" / "model_deployments.yaml").write_text(
            deployment_yaml(server.base_url, ["fake/maker", "fake/candidate", "fake/judge"]))
        command = [BIN / "helm-plugins", "spec-testmaker", "--spec", "toy", "--testmaker", "fake/maker", "--candidate",
                   "fake/candidate", "--judge", "fake/judge", "--output", tmp_path / "prompts.jsonl", "--rounds", "2",
                   "--prompts-per-round", "3", "--prompts-per-statement", "2", "--cache", tmp_path / "cache"]
        out = run_command(command, cwd=tmp_path).stdout
        first = len(server.requests)
        run_command(command, cwd=tmp_path)
        assert len(server.requests) == first  # every statement came from the cache
    rows = [json.loads(line) for line in (tmp_path / "prompts.jsonl").read_text().splitlines()]
    assert len(rows) == 12 and "wrote 12 prompts" in out  # 6 statements × 2
    for statement in {r["statement_id"] for r in rows}:
        mine = [r for r in rows if r["statement_id"] == statement]
        assert mine[0]["difficulty"] >= mine[1]["difficulty"] and all(r["quality"] >= 3 for r in mine)
    rounds = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert all(r["proposed"] == 3 and r["below_quality"] == 1 and r["kept"] == 1 for r in rounds)  # ceil(2 / 3)
