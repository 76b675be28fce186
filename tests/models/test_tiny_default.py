import json

import pytest
import torch
from helm.benchmark.model_deployment_registry import get_model_deployment
from helm.benchmark.model_metadata_registry import get_model_metadata
from helm.benchmark.tokenizer_config_registry import get_tokenizer_config
from helm.common.cache import BlackHoleCacheConfig, SqliteCacheConfig
from transformers import AutoModelForCausalLM, AutoTokenizer

import helm_plugins.plugin  # noqa: F401
from helm_plugins.models.clients import cache_config_for_weights, weights_fingerprint
from helm_plugins.models.registration import TINY_DEFAULT, TINY_DEFAULT_DIR, read_training_report
from helm_plugins.synthetic.arithmetic import ArithmeticProblem
from helm_plugins.synthetic.prompts import render_arithmetic_prompt

MAX_CHECKPOINT_BYTES = 20 * 1024 * 1024


def test_checkpoint_is_small_and_loads_offline():
    size = sum(f.stat().st_size for f in TINY_DEFAULT_DIR.iterdir())
    assert size <= MAX_CHECKPOINT_BYTES
    model = AutoModelForCausalLM.from_pretrained(TINY_DEFAULT_DIR, local_files_only=True).eval()
    tokenizer = AutoTokenizer.from_pretrained(TINY_DEFAULT_DIR, local_files_only=True)
    assert model.config.model_type == "gpt2" and tokenizer.eos_token == "<|endoftext|>"
    problem = ArithmeticProblem("Ada has 25 apples. She finds 17 more. How many apples does Ada have now?", "", 42, 25, 17, "+")
    ids = tokenizer(render_arithmetic_prompt(problem), return_tensors="pt").input_ids
    with torch.no_grad():
        out = model.generate(ids, max_new_tokens=60, do_sample=False, pad_token_id=tokenizer.eos_token_id)
    assert "The answer is 42" in tokenizer.decode(out[0, ids.shape[1]:])


def test_training_report_describes_the_checkpoint():
    report = read_training_report()
    assert report["num_parameters"] == sum(
        p.numel() for p in AutoModelForCausalLM.from_pretrained(TINY_DEFAULT_DIR, local_files_only=True).parameters()
    )
    assert report["config"]["run_name"] == "tiny-default" and report["train_tokens"] > 1_000_000
    assert json.loads((TINY_DEFAULT_DIR / "config.json").read_text())["n_positions"] == report["context_length"]


def test_registered_with_helm():
    deployment = get_model_deployment(TINY_DEFAULT)
    assert deployment.client_spec.class_name == "helm_plugins.models.clients.LocalCheckpointClient"
    assert deployment.client_spec.args["pretrained_model_name_or_path"] == str(TINY_DEFAULT_DIR)
    assert deployment.max_sequence_length == read_training_report()["context_length"]
    assert get_tokenizer_config(TINY_DEFAULT).end_of_text_token == "<|endoftext|>"
    assert get_model_metadata(TINY_DEFAULT).num_parameters == read_training_report()["num_parameters"]


def test_cache_is_kept_per_weights_file(tmp_path):
    (tmp_path / "model.safetensors").write_bytes(b"weights one")
    first = weights_fingerprint(tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"weights two")
    assert weights_fingerprint(tmp_path) != first
    config = cache_config_for_weights(SqliteCacheConfig(str(tmp_path / "helm-plugins.sqlite")), "abc")
    assert config.path == str(tmp_path / "helm-plugins-abc.sqlite")
    assert isinstance(cache_config_for_weights(BlackHoleCacheConfig(), "abc"), BlackHoleCacheConfig)
    with pytest.raises(FileNotFoundError, match="helm-plugins pretrain --recipe tiny-default"):
        weights_fingerprint(tmp_path / "empty")
