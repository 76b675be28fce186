import pytest

from helm_plugins.runners.pretrain.config import load_config

SMALL = [
    "run_name=small",
    "data.num_documents=400",
    "data.validation_documents=40",
    "tokenizer.vocab_size=300",
    "model.context_length=32",
    "model.n_layer=1",
    "model.n_head=2",
    "model.n_embd=32",
    "batch_size=8",
    "max_steps=30",
    "eval_every=10",
    "eval_batches=2",
    "checkpoint_every=10",
    "schedule.warmup_steps=5",
    "sample_tokens=5",
    "threads=1",
]


@pytest.fixture
def small_config():
    """A pretraining config that trains in about a second."""

    def make(*overrides):
        return load_config("demo", overrides=SMALL + list(overrides))

    return make
