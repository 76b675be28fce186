"""The prod_env examples of docs/real_models.md and the README are valid HELM configuration, and the
OpenAI-compatible one works: helm-run sends its requests to the server the example names."""

import dataclasses
import inspect
import json
import re
from pathlib import Path
from typing import Dict, List, Tuple

import cattrs
import dacite
import pytest
import yaml
from helm.benchmark.model_deployment_registry import ModelDeployments
from helm.benchmark.model_metadata_registry import ModelMetadata, ModelMetadataList
from helm.benchmark.tokenizer_config_registry import TokenizerConfig, TokenizerConfigs
from helm.common.object_spec import get_class_by_name

from tests.conftest import BIN, run_command
from tests.fake_openai import FakeOpenAIServer

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "docs" / "real_models.md", ROOT / "README.md"]
YAML_BLOCK = re.compile(r"^```yaml\n# prod_env/(\w+\.yaml)\n(.*?)^```", re.S | re.M)
TOP_LEVEL = {"model_deployments.yaml": "model_deployments", "model_metadata.yaml": "models",
             "tokenizer_configs.yaml": "tokenizer_configs"}


def yaml_examples(page: Path) -> List[Tuple[str, dict]]:
    """(prod_env file name, parsed YAML) of each ```yaml block that starts with `# prod_env/<file>`."""
    return [(name, yaml.safe_load(body)) for name, body in YAML_BLOCK.findall(page.read_text())]


def unknown_keys(entry: dict, cls) -> List[str]:
    """Keys of a YAML entry that are not fields of the HELM dataclass it becomes (HELM's loaders ignore them)."""
    fields = {f.name for f in dataclasses.fields(cls)}
    return sorted(set(entry) - fields)


def constructor_problems(class_name: str, args: Dict[str, object]) -> List[str]:
    """Arguments the named class's constructor does not take (OpenAIClient passes extra ones to openai.OpenAI)."""
    cls = get_class_by_name(class_name)
    parameters = inspect.signature(cls.__init__).parameters
    accepted = set(parameters)
    if class_name.startswith("helm.clients.openai_client."):
        import openai

        accepted |= set(inspect.signature(openai.OpenAI.__init__).parameters)
    elif any(p.kind == p.VAR_KEYWORD for p in parameters.values()):
        return []
    return [f"{class_name} takes no argument {name!r}" for name in args if name not in accepted]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_prod_env_example_is_valid_helm_configuration(page):
    examples = yaml_examples(page)
    assert examples, f"no ```yaml block starting with '# prod_env/<file>' in {page.name}"
    tokenizers = {"simple/tokenizer1"}  # HELM's own; the examples' tokenizer configs add theirs
    deployments = []
    problems = []
    for name, raw in examples:
        assert name in TOP_LEVEL, f"{page.name}: unknown prod_env file {name}"
        assert set(raw) == {TOP_LEVEL[name]}, f"{page.name}: {name} must have the one key {TOP_LEVEL[name]}"
        if name == "model_deployments.yaml":
            for entry in cattrs.structure(raw, ModelDeployments).model_deployments:
                deployments.append(entry)
            for entry in raw["model_deployments"]:
                problems += unknown_keys(entry, ModelDeployments.__dataclass_fields__["model_deployments"].type.__args__[0])
                problems += unknown_keys(entry["client_spec"], type(deployments[-1].client_spec))
                problems += constructor_problems(entry["client_spec"]["class_name"], entry["client_spec"].get("args", {}))
        elif name == "model_metadata.yaml":
            dacite.from_dict(ModelMetadataList, raw)
            for entry in raw["models"]:
                problems += unknown_keys(entry, ModelMetadata)
        else:
            for config in cattrs.structure(raw, TokenizerConfigs).tokenizer_configs:
                tokenizers.add(config.name)
            for entry in raw["tokenizer_configs"]:
                problems += unknown_keys(entry, TokenizerConfig)
                problems += constructor_problems(entry["tokenizer_spec"]["class_name"], entry["tokenizer_spec"].get("args", {}))
    assert problems == []
    for deployment in deployments:
        assert deployment.tokenizer_name in tokenizers, f"{deployment.name}: tokenizer {deployment.tokenizer_name} is declared nowhere"


def test_checks_catch_a_misspelt_key_and_argument():
    assert unknown_keys({"name": "a/b", "max_seq_length": 10}, ModelMetadata) == ["max_seq_length"]
    assert constructor_problems("helm.clients.openai_client.OpenAIClient", {"base_url": "x", "baseurl": "y"}) == [
        "helm.clients.openai_client.OpenAIClient takes no argument 'baseurl'"]
    assert constructor_problems("helm.clients.litellm_client.LiteLLMCompletionClient", {"api_base": "x"}) == [
        "helm.clients.litellm_client.LiteLLMCompletionClient takes no argument 'api_base'"]


@pytest.mark.slow
def test_the_openai_compatible_example_runs_through_helm_run(tmp_path):
    page = (ROOT / "docs" / "real_models.md").read_text()
    examples = dict(reversed(yaml_examples(ROOT / "docs" / "real_models.md")))  # the first block of each file
    deployment = examples["model_deployments.yaml"]["model_deployments"][0]
    assert deployment["client_spec"]["class_name"] == "helm.clients.openai_client.OpenAIClient"
    entry = re.search(r"--run-entries '([^']*model=" + re.escape(deployment["name"]) + r"[^']*)'", page).group(1)

    with FakeOpenAIServer(lambda model, prompt: "So the sum is 12. The answer is 12.") as server:
        deployment["client_spec"]["args"]["base_url"] = server.base_url  # the example's server, here a local fake
        prod_env = tmp_path / "prod_env"
        prod_env.mkdir()
        for name, raw in (("model_deployments.yaml", {"model_deployments": [deployment]}),
                          ("model_metadata.yaml", examples["model_metadata.yaml"])):
            (prod_env / name).write_text(yaml.safe_dump(raw, sort_keys=False))
        run_command([BIN / "helm-run", "--run-entries", entry, "--suite", "real", "-m", "3", "-n", "1"], cwd=tmp_path)

    assert len(server.requests) == 3
    assert {model for model, _ in server.requests} == {deployment["client_spec"]["args"]["openai_model_name"]}
    run_dir = next((tmp_path / "benchmark_output" / "runs" / "real").glob("hp_synthetic_arithmetic:*"))
    stats = {s["name"]["name"]: s for s in json.loads((run_dir / "stats.json").read_text()) if not s["name"].get("perturbation")}
    assert stats["final_number_exact_match"]["count"] >= 1  # scored by HELM's metric like any run
