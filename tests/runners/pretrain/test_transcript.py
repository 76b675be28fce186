import pytest

from helm_plugins.runners.pretrain.trainer import Trainer
from helm_plugins.runners.pretrain.transcript import training_transcript


def test_transcript_rebuilds_the_runs_order_and_token_count(small_config, tmp_path):
    # 70 x 8 rows: some documents twice, some never; rows of unequal length (context above most documents)
    config = small_config("data.packing=document", "max_steps=70", "model.context_length=256")
    result = Trainer(config, tmp_path / "run").train(progress=False)
    rows = training_transcript(config, tmp_path / "run" / "tokenizer", expected_tokens=result.tokens)
    positions = [row["position"] for row in rows]
    assert 0 < len(rows) <= config.data.num_documents and min(positions) >= 0 and max(positions) == config.max_steps - 1
    assert len({row["id"] for row in rows}) == len(rows)
    sample = training_transcript(config, tmp_path / "run" / "tokenizer", sample=50, seed=1)
    assert len(sample) == 50 and {r["id"] for r in sample} <= {r["id"] for r in rows}
    with pytest.raises(ValueError, match="the config or tokenizer is not the run's"):
        other_seed = small_config("data.packing=document", "max_steps=70", "model.context_length=256", "seed=5")
        training_transcript(other_seed, tmp_path / "run" / "tokenizer",
                            expected_tokens=result.tokens)
    with pytest.raises(ValueError, match="needs data.packing=document"):
        training_transcript(small_config("data.packing=concatenate"), tmp_path / "run" / "tokenizer")
