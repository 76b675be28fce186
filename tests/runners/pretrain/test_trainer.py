import json

import pytest
import torch

from helm_plugins.runners.pretrain.trainer import Trainer


def test_resumed_run_matches_uninterrupted_run(tmp_path, small_config):
    config = small_config()
    straight = Trainer(config, tmp_path / "straight").train(progress=False)

    first = Trainer(config, tmp_path / "resumed").train(stop_at_step=13, progress=False)
    assert not first.completed and first.step == 13
    resumed = Trainer(config, tmp_path / "resumed").train(progress=False)

    assert resumed.completed and resumed.step == straight.step == 30
    assert resumed.train_losses == straight.train_losses  # every step, bit for bit
    assert resumed.final_val_loss == straight.final_val_loss
    assert [e["sample"] for e in resumed.evaluations] == [e["sample"] for e in straight.evaluations]
    for name, tensor in torch.load(tmp_path / "straight" / "checkpoint.pt", weights_only=False)["model"].items():
        assert torch.equal(tensor, torch.load(tmp_path / "resumed" / "checkpoint.pt", weights_only=False)["model"][name])


def test_training_lowers_the_loss_and_writes_outputs(tmp_path, small_config):
    result = Trainer(small_config("max_steps=60", "optimizer.lr=0.01"), tmp_path).train(progress=False)
    assert result.final_val_loss < result.evaluations[0]["val_loss"] < result.train_losses[0]
    assert result.tokens == 60 * 8 * 32 and result.tokens_per_second > 0
    for name in ("config.json", "history.json", "loss_curve.png", "huggingface/model.safetensors", "huggingface/tokenizer.json"):
        assert (tmp_path / name).is_file(), name
    history = json.loads((tmp_path / "history.json").read_text())
    assert len(history["train_losses"]) == 60 and [e["step"] for e in history["evaluations"]] == [10, 20, 30, 40, 50, 60]


def test_same_seed_same_run_other_seed_other_run(tmp_path, small_config):
    a = Trainer(small_config("max_steps=5"), tmp_path / "a").train(progress=False)
    b = Trainer(small_config("max_steps=5"), tmp_path / "b").train(progress=False)
    c = Trainer(small_config("max_steps=5", "seed=1"), tmp_path / "c").train(progress=False)
    assert a.train_losses == b.train_losses != c.train_losses


def test_a_different_config_in_the_same_folder_is_refused(tmp_path, small_config):
    Trainer(small_config(), tmp_path).train(stop_at_step=2, progress=False)
    with pytest.raises(ValueError, match=r"different config \(changed: optimizer\); pass --fresh"):
        Trainer(small_config("optimizer.lr=0.02"), tmp_path)
    fresh = Trainer(small_config("optimizer.lr=0.02"), tmp_path, fresh=True).train(stop_at_step=2, progress=False)
    assert fresh.step == 2


def test_document_packing_trains_on_document_tokens_only(tmp_path, small_config):
    config = small_config("data.packing=document", "max_steps=10", "model.context_length=160")
    trainer = Trainer(config, tmp_path)
    real = sum(int((trainer.batches.batch(step)[1] >= 0).sum()) for step in range(10))
    result = trainer.train(progress=False)
    assert 0 < result.tokens == real < 10 * 8 * 160
    assert trainer.batches.num_rows == 400  # one row per training document


def test_ctrl_c_saves_a_checkpoint_that_resumes_exactly(tmp_path, small_config):
    config = small_config()
    straight = Trainer(config, tmp_path / "straight").train(progress=False)

    trainer = Trainer(config, tmp_path / "interrupted")
    batch = trainer.batches.batch

    def interrupt_at_step_seven(step):
        if step == 7:
            raise KeyboardInterrupt
        return batch(step)

    trainer.batches.batch = interrupt_at_step_seven
    with pytest.raises(KeyboardInterrupt, match="interrupted after step 7; rerun the same command to resume"):
        trainer.train(progress=False)
    resumed = Trainer(config, tmp_path / "interrupted").train(progress=False)
    assert resumed.train_losses == straight.train_losses and resumed.final_val_loss == straight.final_val_loss


def test_a_second_stage_starts_from_the_first_stages_weights_and_tokenizer(tmp_path, small_config):
    first = Trainer(small_config(), tmp_path / "first").train(progress=False)
    second_config = small_config("seed=1", "max_steps=10", f"init_from={first.huggingface_dir}")
    stage = Trainer(second_config, tmp_path / "second")
    assert stage.tokenizer.get_vocab() == Trainer(small_config(), tmp_path / "first").tokenizer.get_vocab()
    exported = torch.load(tmp_path / "first" / "checkpoint.pt", weights_only=False)["model"]
    for name, tensor in stage.model.state_dict().items():
        assert torch.equal(tensor, exported[name]), name
    fresh = Trainer(small_config("seed=1", "max_steps=10"), tmp_path / "fresh").train(progress=False)
    second = stage.train(progress=False)
    # the first stage already learned this data: the second starts near its loss, a random start does not
    assert second.train_losses[0] < first.train_losses[-1] + 0.3 < fresh.train_losses[0]
    with pytest.raises(ValueError, match="init_from .*not a Hugging Face checkpoint folder"):
        Trainer(small_config("seed=2", f"init_from={tmp_path / 'first'}"), tmp_path / "third")


def test_a_config_with_nothing_to_predict_is_refused_before_training(tmp_path, small_config):
    # replies only, one document per 32-token row: the judge prompts fill the rows and their replies are cut off
    config = small_config("data.mixture={judge: 1.0, arithmetic: 0, biography: 0, world_quiz: 0, fact_world_closed_book: 0, stories: 0}",
                          "data.packing=document", "data.loss_on=replies")
    with pytest.raises(ValueError, match="no training row has a token to predict: .*model.context_length=32"):
        Trainer(config, tmp_path)
