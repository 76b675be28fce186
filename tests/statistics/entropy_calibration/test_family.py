"""The EntCE scaling family: every width trained on the same tokens per parameter, measured on held-out rows
that run across documents (so that >= 256 steps fit), the exponent fitted with its interval."""

import pytest
import torch
from pydantic import ValidationError

from helm_plugins.statistics.entropy_calibration.demo import EntropyCalibrationDemoConfig, held_out_tokens, load_checkpoint
from helm_plugins.statistics.entropy_calibration.family import EntropyScalingConfig, plateau, width_config


def test_every_width_trains_on_the_same_tokens_per_parameter():
    from helm_plugins.runners.pretrain.model import GPT

    config = EntropyScalingConfig()
    assert config.measure.steps >= 256 and config.measure.packed
    for width in config.widths:
        pretrain = width_config(config, width)
        with torch.device("meta"):
            parameters = GPT(pretrain.model.model_copy(update={"vocab_size": pretrain.tokenizer.vocab_size})).num_parameters()
        tokens = pretrain.max_steps * pretrain.tokens_per_step
        assert abs(tokens / parameters - config.tokens_per_parameter) <= pretrain.tokens_per_step / parameters
        assert pretrain.model.n_embd == width and pretrain.model.context_length == config.context_length
        assert pretrain.schedule.warmup_steps == max(1, pretrain.max_steps // 10)


def test_the_window_must_hold_the_measured_sequences():
    with pytest.raises(ValidationError, match="context_length 128 is shorter than the measured sequences"):
        EntropyScalingConfig(context_length=128)


def test_packed_rows_run_across_documents_from_a_document_start():
    _, tokenizer = load_checkpoint("tiny-default")
    config = EntropyCalibrationDemoConfig(documents=6, prompt_tokens=8, steps=300, packed=True)
    prompts, continuations = held_out_tokens(tokenizer, config)
    assert prompts.shape == (6, 9) and continuations.shape == (6, 300)
    assert (prompts[:, 0] == tokenizer.eos_token_id).all()
    assert ((continuations == tokenizer.eos_token_id).sum(1) >= 1).all()  # longer than one document
    first = tokenizer.decode(torch.cat([prompts[0, 1:], continuations[0]]).tolist())
    assert first.startswith(tokenizer.decode(prompts[0, 1:].tolist()))
    with pytest.raises(ValueError, match="or set packed=true"):
        held_out_tokens(tokenizer, config.model_copy(update={"packed": False}))


def test_plateau_reads_the_fall_over_the_last_quarter():
    evaluations = [{"step": s, "val_loss": v} for s, v in [(25, 3.0), (50, 2.5), (75, 2.2), (100, 2.0)]]
    assert plateau(evaluations) == pytest.approx(0.1)
    assert plateau(evaluations[:1]) is None
