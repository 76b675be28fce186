"""The generation pipeline end to end: offline from a bundled dataset, and with a model behind a fake
OpenAI-compatible endpoint whose first design leaks the answers (caught, fed back, fixed)."""

import json
import re
import shutil

import numpy as np
import pandas as pd
import pytest

from helm_plugins.agents.mle_smith import generator as G
from helm_plugins.common import mle_tasks
from tests.conftest import BIN, run_command
from tests.fake_openai import FakeOpenAIServer, deployment_yaml

pytestmark = pytest.mark.skipif(not shutil.which("bwrap"), reason="bubblewrap is not installed")


def test_offline_generation_from_a_bundled_dataset_yields_a_task_the_ladder_solves_in_order(tmp_path):
    log = G.generate("sklearn:load_wine", tmp_path / "tasks", G.GeneratorConfig())
    assert log["accepted"] == ["wine_target"] and log["cost"]["model_calls"] == 0
    task = mle_tasks.load_task(tmp_path / "tasks" / "wine_target")
    assert task.info.origin == "generated" and task.info.raw_source == "sklearn:load_wine"
    refs = mle_tasks.reference_scores(task)  # written by the Execution gate, not recomputed
    ladder = [mle_tasks.oriented(refs.ladder[r], refs.higher_is_better) for r in mle_tasks.LADDER]
    assert ladder[0] < ladder[1] and ladder[0] < ladder[2] and refs.usable
    record = json.loads((task.root / "info" / "generation.json").read_text())
    gates = {c["gate"] for c in record["attempts"][-1]["checks"]}
    assert record["outcome"] == "accepted" and gates == {"assertion", "review", "execution"}
    stages = [s["stage"] for s in json.loads((tmp_path / "tasks" / "generation.json").read_text())["sources"][0]["stages"]]
    assert stages[:4] == ["brainstormer", "designer", "refactor", "verification"]
    public = pd.read_csv(task.public_dir / "test.csv")
    assert "target" not in public.columns and len(public) > 20


def toy_table(path, n=300, seed=3):
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n).round(3), rng.normal(size=n).round(3)
    label = np.where(x1 - x2 + 0.4 * rng.normal(size=n) > 0, "high", "low")
    pd.DataFrame({"x1": x1, "x2": x2, "shop": rng.choice(["a", "b", "c"], n), "label": label}).to_csv(path, index=False)


class Smith:
    """The fake model's skills, chosen by the prompt: propose, design (first leaky, then fixed), refactor, review."""

    def __init__(self, design):
        self.design = design
        self.prompts = {"brainstorm": [], "design": [], "refactor": [], "review": []}

    def __call__(self, model, prompt):
        if "You are the Brainstormer" in prompt:
            self.prompts["brainstorm"].append(prompt)
            return json.dumps({"candidates": [
                {"target": "nonexistent", "task_type": "regression", "metric": "rmse"},
                {"target": "label", "task_type": "classification", "metric": "accuracy", "rationale": "the label"}]})
        if "You are the Designer" in prompt:
            self.prompts["design"].append(prompt)
            prepare = self.design.prepare_source
            if "failed verification" not in prompt:  # the first design leaks the label into test.csv
                prepare = prepare.replace("test.drop(columns=[TARGET]).to_csv(",
                                          "test.drop(columns=[TARGET]).assign(hint=test[TARGET].to_numpy()).to_csv(")
            return (f"Here is the package.\n```description\n{self.design.description}```\n"
                    f"```python prepare\n{prepare}```\n```python metric\n{self.design.metric_source}```\n")
        if "You are the Refactor agent" in prompt:
            self.prompts["refactor"].append(prompt)
            blocks = re.findall(r"```python (prepare|metric)\n(.*?)```", prompt, re.DOTALL)
            return "\n".join(f"```python {label}\n{body}```" for label, body in blocks)
        self.prompts["review"].append(prompt)
        return json.dumps({c: {"verdict": "pass", "reason": "fine"} for c in
                           ("clear_description", "suitable_metric", "no_leakage", "no_shortcut")})


@pytest.mark.slow
def test_generation_with_a_model_through_helm_retries_a_leaky_design(tmp_path):
    toy_table(tmp_path / "shop.csv")
    frame = pd.read_csv(tmp_path / "shop.csv")
    design = G.template_design(G.Candidate(target="label", task_type="classification", metric="accuracy"),
                               G.profile_frame(frame, "shop"), None, G.GeneratorConfig(), "shop_label", [])
    smith = Smith(design)
    with FakeOpenAIServer(smith) as server:
        (tmp_path / "prod_env").mkdir()
        (tmp_path / "prod_env" / "model_deployments.yaml").write_text(deployment_yaml(server.base_url, ["fake/smith"]))
        out = run_command([BIN / "helm-plugins", "mle-smith", "--data", tmp_path / "shop.csv", "--out", tmp_path / "tasks",
                           "--model", "fake/smith", "--local-path", tmp_path / "prod_env"], cwd=tmp_path).stdout
    assert "1 accepted ['shop_label']" in out
    assert len(smith.prompts["design"]) == 2
    assert "column 'hint' of test.csv reproduces the answers" in smith.prompts["design"][1]  # the error went back
    task = mle_tasks.load_task(tmp_path / "tasks" / "shop_label")
    assert "hint" not in pd.read_csv(task.public_dir / "test.csv").columns
    assert (task.raw_dir / "data.csv").is_file()  # a user's CSV travels with the task
    log = json.loads((tmp_path / "tasks" / "generation.json").read_text())["sources"][0]
    brainstorm = log["stages"][0]
    assert brainstorm["accepted"] == ["label"] and "not in the data" in brainstorm["rejected"][0]["problem"]
    assert [c["stage"] for c in log["cost"]["calls"]] == ["brainstormer", "designer", "refactor", "designer",
                                                          "refactor", "review"]
    assert log["cost"]["prompt_tokens"] > 0 and log["cost"]["completion_tokens"] > 0
    record = json.loads((task.root / "info" / "generation.json").read_text())
    assert record["reviews"][0]["reply"].startswith('{"clear_description"')
    first = {c["name"]: c for c in record["attempts"][0]["checks"]}
    assert not first["no answers in public files"]["passed"]


@pytest.mark.slow
def test_a_model_without_the_skills_yields_no_task_and_says_why(tmp_path):
    toy_table(tmp_path / "shop.csv")
    with FakeOpenAIServer(lambda model, prompt: "I am not sure what you mean.") as server:
        (tmp_path / "prod_env").mkdir()
        (tmp_path / "prod_env" / "model_deployments.yaml").write_text(deployment_yaml(server.base_url, ["fake/weak"]))
        completed = run_command([BIN / "helm-plugins", "mle-smith", "--data", tmp_path / "shop.csv", "--out",
                                 tmp_path / "tasks", "--model", "fake/weak", "--local-path", tmp_path / "prod_env"],
                                cwd=tmp_path, expect_success=False)
    assert completed.returncode == 1 and "0 accepted" in completed.stdout
    log = json.loads((tmp_path / "tasks" / "generation.json").read_text())["sources"][0]
    assert "no JSON object" in log["stages"][0]["error"] and log["stages"][0]["outcome"].startswith("no usable target")
