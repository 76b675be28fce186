"""A local checkpoint behind a LocalCheckpointClient deployment is validated when the client is created: a
truncated or garbled weights file, shapes that disagree with config.json, or NaN weights fail at once with the
file named, and HELM's AutoClient does not retry it."""

import json
import shutil

import pytest
import torch
from helm.common.cache import BlackHoleCacheConfig
from safetensors.torch import load_file, save_file

from helm_plugins.models.checkpoints import CheckpointError, validate_checkpoint
from helm_plugins.models.clients import LocalCheckpointClient
from helm_plugins.models.registration import TINY_DEFAULT_DIR


@pytest.fixture
def checkpoint(tmp_path):
    """A copy of the embedded model's checkpoint to damage."""
    target = tmp_path / "ckpt"
    shutil.copytree(TINY_DEFAULT_DIR, target, ignore=shutil.ignore_patterns("transcript.jsonl"))
    return target


def rewrite(checkpoint, change):
    weights = load_file(checkpoint / "model.safetensors")
    change(weights)
    save_file(weights, checkpoint / "model.safetensors")


def truncate(checkpoint):
    data = (checkpoint / "model.safetensors").read_bytes()
    (checkpoint / "model.safetensors").write_bytes(data[: len(data) // 2])


def garble_header(checkpoint):
    data = (checkpoint / "model.safetensors").read_bytes()
    (checkpoint / "model.safetensors").write_bytes(data[:8] + b"}" * 20 + data[28:])


def nan_weight(checkpoint):
    rewrite(checkpoint, lambda w: w["transformer.h.0.mlp.c_fc.weight"].view(-1)[7].fill_(float("nan")))


def wrong_shape(checkpoint):
    rewrite(checkpoint, lambda w: w.update({"transformer.ln_f.weight": torch.ones(3)}))


def missing_weight(checkpoint):
    rewrite(checkpoint, lambda w: w.pop("transformer.h.0.attn.c_proj.weight"))


def other_config(checkpoint):
    config = json.loads((checkpoint / "config.json").read_text())
    config["n_layer"] += 1
    (checkpoint / "config.json").write_text(json.dumps(config))


@pytest.mark.parametrize(
    "damage, message",
    [
        (truncate, r"model.safetensors: corrupt safetensors file \(Error while deserializing header"),
        (garble_header, r"model.safetensors: corrupt safetensors file"),
        (nan_weight, r"model.safetensors: tensor 'transformer.h.0.mlp.c_fc.weight' has 1 non-finite value"),
        (wrong_shape, r"model.safetensors: tensor 'transformer.ln_f.weight' has shape \(3,\), the config gives"),
        (missing_weight, r"model.safetensors: 1 weight\(s\) of the model are missing, e.g. \['transformer.h.0.attn.c_proj"),
        (other_config, r"model.safetensors: .* weight\(s\) of the model are missing"),
    ],
    ids=["truncated", "garbled header", "NaN weight", "wrong shape", "missing weight", "config disagrees"],
)
def test_a_broken_checkpoint_fails_when_the_client_is_created(checkpoint, damage, message):
    validate_checkpoint(checkpoint)  # intact copy: no error
    damage(checkpoint)
    with pytest.raises(CheckpointError, match=message) as error:
        LocalCheckpointClient(BlackHoleCacheConfig(), tokenizer=None, pretrained_model_name_or_path=str(checkpoint))
    assert str(checkpoint) in str(error.value) and "replace the checkpoint" in str(error.value)


def test_helm_does_not_retry_a_broken_checkpoint(checkpoint, tmp_path):
    from helm.benchmark.model_deployment_registry import ClientSpec, ModelDeployment, register_model_deployment
    from helm.clients.auto_client import AutoClient
    from helm.common.cache_backend_config import BlackHoleCacheBackendConfig
    from helm.common.request import Request

    import helm_plugins.plugin  # noqa: F401  (the embedded model's tokenizer)

    truncate(checkpoint)
    register_model_deployment(ModelDeployment(
        name="reliability/broken", model_name="reliability/broken", tokenizer_name="helm-plugins/tiny-default",
        max_sequence_length=256,
        client_spec=ClientSpec("helm_plugins.models.clients.LocalCheckpointClient",
                               {"pretrained_model_name_or_path": str(checkpoint), "device": "cpu"}),
    ))
    client = AutoClient({}, str(tmp_path / "files"), BlackHoleCacheBackendConfig())
    # raised, not returned as a failed result: HELM retries failed results (10, 20, 40, 80 s), not this
    with pytest.raises(CheckpointError, match="corrupt safetensors file"):
        client.make_request(Request(model="reliability/broken", model_deployment="reliability/broken", prompt="Hi"))
