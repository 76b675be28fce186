import torch
from transformers import AutoModelForCausalLM

from helm_plugins.runners.pretrain.model import GPT, GPTConfig

import pytest


def test_huggingface_export_gives_the_same_logits(tmp_path):
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=97, context_length=32, n_layer=2, n_head=2, n_embd=32)).eval()
    model.export_huggingface(tmp_path, eos_token_id=0)
    exported = AutoModelForCausalLM.from_pretrained(tmp_path, local_files_only=True).eval()
    idx = torch.randint(0, 97, (3, 32))
    with torch.no_grad():
        ours, _ = model(idx)
        theirs = exported(idx).logits
    assert torch.allclose(ours, theirs, atol=1e-5)
    assert exported.config.eos_token_id == 0 and exported.config.n_positions == 32


def test_loss_is_next_token_cross_entropy_and_long_inputs_are_rejected():
    model = GPT(GPTConfig(vocab_size=11, context_length=8, n_layer=1, n_head=1, n_embd=8))
    idx = torch.randint(0, 11, (2, 8))
    logits, loss = model(idx, idx)
    assert torch.isclose(loss, torch.nn.functional.cross_entropy(logits.reshape(-1, 11), idx.reshape(-1)))
    with pytest.raises(ValueError, match="exceeds context_length 8"):
        model(torch.zeros(1, 9, dtype=torch.long))


def test_width_must_divide_into_heads():
    with pytest.raises(ValueError, match="divisible by n_head"):
        GPTConfig(n_embd=30, n_head=4)


def test_huggingface_import_restores_the_exported_weights(tmp_path):
    config = GPTConfig(vocab_size=97, context_length=32, n_layer=2, n_head=2, n_embd=32)
    torch.manual_seed(0)
    model = GPT(config).eval()
    model.export_huggingface(tmp_path, eos_token_id=0)
    torch.manual_seed(1)
    restored = GPT(config).eval()
    restored.load_huggingface(tmp_path)
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, restored.state_dict()[name]), name
    assert restored.lm_head.weight is restored.wte.weight  # still tied
    with pytest.raises(ValueError, match=r"another shape \(n_embd 32 there, 64 here\)"):
        GPT(config.model_copy(update={"n_embd": 64})).load_huggingface(tmp_path)
    with pytest.raises(ValueError, match="not a Hugging Face checkpoint folder"):
        GPT(config).load_huggingface(tmp_path / "missing")
