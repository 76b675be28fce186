"""Future-entropy scaling and the EntCE family fit on small local models."""

import json

import pytest
import torch

from helm_plugins.cli import main
from helm_plugins.statistics.entropy_calibration.demo import load_checkpoint
from helm_plugins.statistics.entropy_calibration.future_entropy import (
    FutureEntropyRegressor,
    FutureEntropyScaling,
    Temperature,
    run_steps,
)


@pytest.fixture(scope="module")
def tiny():
    model, tokenizer = load_checkpoint("tiny-default")
    prompts = torch.tensor([[tokenizer.eos_token_id] + tokenizer.encode("Once upon a time, there was a")] * 3)
    return model, prompts


def test_regressor_recovers_a_planted_linear_relation():
    generator = torch.Generator().manual_seed(0)
    states = torch.randn(4000, 8, generator=generator)
    weight = torch.linspace(-1, 1, 8)
    targets = states @ weight + 3.0 + 0.01 * torch.randn(4000, generator=generator)
    fitted = FutureEntropyRegressor.fit(states, targets, ridge=1e-3)
    assert torch.allclose(fitted.weight, weight, atol=0.01) and fitted.bias == pytest.approx(3.0, abs=0.01)


def test_forced_steps_give_the_teacher_forced_loss(tiny):
    model, prompts = tiny
    continuation = torch.randint(1, 500, (3, 6), generator=torch.Generator().manual_seed(1))
    _, _, losses, _ = run_steps(model, prompts, 6, seed=0, forced=continuation)
    with torch.no_grad():
        logits = model(input_ids=torch.cat([prompts, continuation], 1)).logits[:, prompts.shape[1] - 1 : -1]
    expected = -torch.log_softmax(logits, -1).gather(2, continuation[..., None])[..., 0]
    assert torch.allclose(losses, expected, atol=1e-4)
    _, _, halved, _ = run_steps(model, prompts, 6, seed=0, adjust=Temperature(0.5), forced=continuation)
    assert not torch.allclose(halved, losses)


def test_scaling_reweights_only_by_predicted_future_entropy(tiny):
    model, prompts = tiny
    with torch.no_grad():
        output = model(input_ids=prompts, use_cache=True)
    logits = output.logits[:, -1].float()
    regressor = FutureEntropyRegressor(torch.randn(model.config.n_embd), 0.5)
    assert torch.allclose(FutureEntropyScaling(model, regressor, 0.0)(output.past_key_values, logits), logits)
    adjusted = FutureEntropyScaling(model, regressor, 2.0, top_k=4)(output.past_key_values, logits)
    tail = logits.topk(10).indices[:, 4:]  # outside the candidates: shifted together, ratios kept
    shift = (adjusted - logits).gather(1, tail)
    assert torch.allclose(shift, shift[:, :1].expand_as(shift), atol=1e-5)
    assert logits.topk(1).indices.shape == (3, 1) and torch.isfinite(adjusted).all()


def test_future_entropy_cli_compares_with_temperature(tmp_path, capsys):
    overrides = ["regression_documents=20", "calibration_documents=10", "evaluation_documents=10", "steps=6", "horizon=3",
                 "samples_per_prompt=2", "top_k=4", "threads=2"]
    args = ["entce", "--future-entropy", "--output", str(tmp_path), "--no-progress"]
    assert main(args + [x for o in overrides for x in ("--set", o)]) == 0
    report = json.loads((tmp_path / "future_entropy.json").read_text())
    names = list(report["results"])
    assert names[0] == "base (temperature 1)" and names[1].startswith("future entropy") and names[2].startswith("temperature")
    assert 0 <= report["lambda"] <= 5 and 0.5 <= report["temperature"] <= 1.5
    assert "| sampler | EntCE |" in capsys.readouterr().out and (tmp_path / "future_entropy.png").is_file()


def test_family_fit_over_widths(tmp_path, capsys):
    overrides = ["widths=[8, 16, 32]", "tokens_per_parameter=0.2", "context_length=24", "train_documents=300", "batch_size=8", "threads=1",
                 "measure={documents: 12, steps: 6, prompt_tokens: 6, temperatures: [1.0], zipf_alphas: []}"]
    assert main(["entce", "--family", "--output", str(tmp_path), "--no-progress"] + [x for o in overrides for x in ("--set", o)]) == 0
    report = json.loads((tmp_path / "family.json").read_text())
    sizes = [m["parameters"] for m in report["models"]]
    assert [m["width"] for m in report["models"]] == [8, 16, 32] and sizes == sorted(sizes)
    assert all(abs(m["tokens_per_parameter"] - 0.2) < 0.05 and m["generation_steps"] == 6 for m in report["models"])
    fit = report["scaling"]
    assert report["fitted"] == [8, 16, 32] and fit["ci_low"] < fit["exponent"] < fit["ci_high"]
    assert "| width | parameters |" in capsys.readouterr().out and (tmp_path / "entce_scaling.png").is_file()
