import json

import numpy as np
import pytest

from helm_plugins.runners.pretrain.data import DataConfig, WindowBatches, load_documents


def test_batches_depend_only_on_seed_and_step_and_cover_each_epoch():
    tokens = np.arange(10 * 4 + 1, dtype=np.int32)  # 10 windows of 4
    batches = WindowBatches(tokens, context_length=4, batch_size=5, seed=3)
    again = WindowBatches(tokens, context_length=4, batch_size=5, seed=3)
    assert [batches.window_indices(s) for s in range(6)] == [again.window_indices(s) for s in (0, 1, 2, 3, 4, 5)]
    assert sorted(batches.window_indices(0) + batches.window_indices(1)) == list(range(10))
    assert sorted(batches.window_indices(2) + batches.window_indices(3)) == list(range(10))
    assert batches.window_indices(0) + batches.window_indices(1) != batches.window_indices(2) + batches.window_indices(3)
    x, y = batches.batch(0)
    assert x.shape == (5, 4) and (y[:, :-1] == x[:, 1:]).all() and (y[:, -1] == x[:, -1] + 1).all()


def test_too_little_data_is_reported():
    with pytest.raises(ValueError, match="fewer than the batch size 8"):
        WindowBatches(np.arange(20, dtype=np.int32), context_length=4, batch_size=8, seed=0)


def test_jsonl_source_and_its_errors(tmp_path):
    good = tmp_path / "docs.jsonl"
    good.write_text("\n".join(json.dumps({"text": f"document {i}"}) for i in range(40)))
    train, validation = load_documents(DataConfig(source="jsonl", paths=[str(good)], validation_fraction=0.1), seed=0)
    assert len(train) == 36 and len(validation) == 4 and not set(train) & set(validation)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "ok"}\n{"body": "no text field"}\n')
    with pytest.raises(ValueError, match=r"bad.jsonl:2: not a JSON object with field 'text'"):
        load_documents(DataConfig(source="jsonl", paths=[str(bad)]), seed=0)
    with pytest.raises(FileNotFoundError, match="missing.txt does not exist"):
        load_documents(DataConfig(source="text_files", paths=[str(tmp_path / "missing.txt")]), seed=0)
    with pytest.raises(ValueError, match="needs data.paths"):
        DataConfig(source="jsonl")
