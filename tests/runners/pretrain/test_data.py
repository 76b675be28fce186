import json

import pytest

from helm_plugins.runners.pretrain.data import IGNORE_INDEX, Batches, DataConfig, build_rows, load_documents


def test_batches_depend_only_on_seed_and_step_and_cover_each_epoch():
    documents = [list(range(10 * i, 10 * i + 4)) for i in range(10)]  # 40 tokens -> 9 windows of 4 (+1)
    batches = Batches(build_rows(documents, "concatenate", context_length=4), batch_size=3, seed=3, pad_id=0)
    again = Batches(build_rows(documents, "concatenate", context_length=4), batch_size=3, seed=3, pad_id=0)
    assert batches.num_rows == 9 and batches.batches_per_epoch == 3
    assert [batches.row_indices(s) for s in range(6)] == [again.row_indices(s) for s in (0, 1, 2, 3, 4, 5)]
    assert sorted(sum((batches.row_indices(s) for s in range(3)), [])) == list(range(9))
    assert sorted(sum((batches.row_indices(s) for s in range(3, 6)), [])) == list(range(9))
    assert batches.row_indices(0) != batches.row_indices(3)
    x, y = batches.batch(0)
    assert x.shape == y.shape == (3, 4) and (y[:, :-1] == x[:, 1:]).all()
    assert batches.rows[1].tolist() == [10, 11, 12, 13, 20]  # windows share one token: the last target


def test_document_batches_group_similar_lengths_and_trim_padding():
    documents = [[1] * (2 + i % 20) for i in range(400)]  # lengths 2..21
    batches = Batches(build_rows(documents, "document", context_length=32), batch_size=8, seed=0, pad_id=0, bucketed=True)
    widths = [batches.batch(step)[0].shape[1] for step in range(batches.batches_per_epoch)]
    assert max(widths) <= 21 and sum(widths) / len(widths) < 14  # trimmed to the longest row of each batch
    seen = sum((batches.row_indices(step) for step in range(batches.batches_per_epoch)), [])
    assert sorted(seen) == list(range(400))


def test_document_rows_start_at_position_zero_and_ignore_padding():
    documents = [[5, 6, 7], [8, 9, 10, 11, 12, 13, 14]]
    batches = Batches(build_rows(documents, "document", context_length=4), batch_size=2, seed=0, pad_id=0, bucketed=True)
    x, y = next(batches.sequential_batches(1))
    assert x.tolist() == [[5, 6, 7, 0], [8, 9, 10, 11]]
    assert y.tolist() == [[6, 7, IGNORE_INDEX, IGNORE_INDEX], [9, 10, 11, 12]]


def test_too_little_data_is_reported():
    with pytest.raises(ValueError, match="fewer than the batch size 8"):
        Batches(build_rows([list(range(20))], "concatenate", context_length=4), batch_size=8, seed=0, pad_id=0)


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


def test_reply_loss_trains_on_assistant_replies_only():
    from helm_plugins.runners.pretrain.data import encode_documents
    from helm_plugins.runners.pretrain.tokenizer import load_tokenizer
    from helm_plugins.models.registration import TINY_CHAT_DIR

    tokenizer = load_tokenizer(TINY_CHAT_DIR)
    document = (
        "<|user|>\nShown: 70 + 75 = 134.<|endoftext|><|assistant|>\n[[N]]<|endoftext|>"
        "<|user|>\nAnd 4 + 4?<|endoftext|><|assistant|>\n8"
    )
    everything, replies = (encode_documents(tokenizer, [document], loss_on)[0] for loss_on in ("all", "replies"))
    batches = Batches(build_rows([replies], "document", context_length=64), batch_size=1, seed=0, pad_id=0)
    x, y = batches.batch(0)
    assert x[0].tolist() == everything[:-1]  # the model reads every token
    targets = [t for t in y[0].tolist() if t != IGNORE_INDEX]
    assert tokenizer.decode(targets) == "[[N]]<|endoftext|>8<|endoftext|>"  # the wrong sum shown is never a target
    assert batches.input_tokens(0) == len(everything) - 1
    with pytest.raises(ValueError, match="document 1 has no assistant reply"):
        encode_documents(tokenizer, [document, "plain text"], "replies")
