"""The example of docs/structured_prompting.md, run as written: its prod_env files and its commands against a local
fake OpenAI-compatible server with planted skills (only the server's address is changed), with GSM8K-format data
files placed for offline use. Both routes (HELM's OpenAI client and LiteLLM) reach the server."""

import json
import os
import re
import subprocess

import pytest

from tests.conftest import BIN, OFFLINE_ENV, REPO
from tests.structured_prompting.fake_openai import FakeOpenAI

pytestmark = pytest.mark.slow
DOC = REPO / "docs" / "structured_prompting.md"
DOC_URL = "http://localhost:8000/v1"


def doc_blocks():
    """{path: content} of the files the document declares, and its command block."""
    text = DOC.read_text()
    files = dict(re.findall(r"<!-- file: (\S+) -->\n```\w*\n(.*?)```", text, re.S))
    (commands,) = re.findall(r"<!-- commands -->\n```sh\n(.*?)```", text, re.S)
    return files, commands


def gsm8k_files(root, num_train=20, num_test=10):
    """Files in the format of the GSM8K release, and the fake server's answer key."""
    answers, wrong, data = {}, {}, {}
    for split, count in (("train", num_train), ("test", num_test)):
        rows = []
        for k in range(count):
            a, b = 3 + 7 * k + (split == "test") * 500, 11 + 13 * k
            question = f"Lena has {a} marbles ({split} {k}) and wins {b} more. How many marbles does she have?"
            rows.append({"question": question, "answer": f"She has {a} + {b} = {a + b}.\n#### {a + b}"})
            answers[question], wrong[question] = str(a + b), str(a + b + 1)
        data[split] = rows
    (root / "gsm8k").mkdir()
    for split, rows in data.items():
        (root / "gsm8k" / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return answers, wrong


def test_the_documented_example_runs_as_written(tmp_path):
    files, commands = doc_blocks()
    assert set(files) == {"prod_env/model_metadata.yaml", "prod_env/model_deployments.yaml"}
    answers, wrong = gsm8k_files(tmp_path)
    with FakeOpenAI(answers, wrong, {"helm": 0.5, "predict": 0.6, "cot": 1.0}) as fake:
        for path, content in files.items():
            (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / path).write_text(content.replace(DOC_URL, fake.base_url))
        env = {**os.environ, **OFFLINE_ENV, "PATH": f"{BIN}:{os.environ['PATH']}"}
        completed = subprocess.run(["bash", "-ec", commands.replace(DOC_URL, fake.base_url)], cwd=tmp_path, env=env,
                                   capture_output=True, text=True, timeout=1200)
        assert completed.returncode == 0, (completed.stdout + completed.stderr)[-4000:]
        bodies = list(fake.bodies)
    assert {b["model"] for b in bodies} == {"my-model"}  # both deployments reached the server

    runs = tmp_path / "benchmark_output" / "runs" / "my-sp"
    scores = {}
    for run in runs.glob("hp_structured_prompting:*"):
        method = re.search(r"method=(\w+)", run.name).group(1)
        stats = {s["name"]["name"]: s.get("mean") for s in json.loads((run / "stats.json").read_text())
                 if s["name"].get("split") == "test" and not s["name"].get("perturbation")}
        scores[method] = stats["final_number_exact_match"]
        assert stats["sp_cost_unknown"] == 1.0  # a local model has no price: unknown, not $0
    assert set(scores) == {"helm", "cot", "bfrs", "predict"}
    assert scores["cot"] == 1.0 and scores["bfrs"] == 1.0 and scores["helm"] < scores["cot"]
    assert any("litellm" in p.name for p in runs.glob("*method=predict*"))
    report = json.loads((runs / "ceiling" / "ceiling.json").read_text())
    [cell] = report["cells"]
    assert cell["baseline"] == scores["helm"] and cell["selected_ceiling"] == 1.0
    assert "Ceiling summary" in completed.stdout
