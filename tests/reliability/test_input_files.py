"""Input files (JSONL models files, transcripts, item files): every bad value is rejected, naming the file, the
line and the field; a binary file is named as such; nothing is dropped silently."""

import pytest

from helm_plugins.cli import main
from helm_plugins.common.jsonl import read_jsonl_rows


def fails(argv, capsys):
    """The helm-plugins command's error line (it must fail with exit code 2, not a traceback)."""
    assert main([str(a) for a in argv]) == 2
    return capsys.readouterr().err


def frontier_rows(sizes=(100, 200, 400)):
    return [{"parameters": n, "lambda": lam, "dp_gap": 0.3 - lam / 10, "bce": 0.5 + lam / 20 - n / 1e4}
            for n in sizes for lam in (0.0, 1.0, 2.0)]


@pytest.mark.parametrize(
    "line, message",
    [
        ('{"parameters": 200, "lambda": 1, "dp_gap": NaN, "bce": 0.5}', "models.jsonl:4: field 'dp_gap' is nan; numbers must be finite"),
        ('{"parameters": 200, "lambda": 1, "dp_gap": 0.1, "bce": Infinity}', "models.jsonl:4: field 'bce' is inf"),
        ('{"parameters": 200, "lambda": 1, "dp_gap": 0.1, "bce": 1e999}', "models.jsonl:4: field 'bce' is inf"),
        ('{"parameters": 200, "lambda": 1, "dp_gap": "0.1", "bce": 0.5}', "models.jsonl:4: field 'dp_gap' must be a finite number, got '0.1'"),
        ('{"parameters": [200], "lambda": 1, "dp_gap": 0.1, "bce": 0.5}', "models.jsonl:4: field 'parameters' must be a finite number, got [200]"),
        ('{"parameters": 0, "lambda": 1, "dp_gap": 0.1, "bce": 0.5}', "models.jsonl:4: field 'parameters' must be positive"),
        ('{"parameters": 200, "lambda": true, "dp_gap": 0.1, "bce": 0.5}', "models.jsonl:4: field 'lambda' must be a finite number, got True"),
    ],
)
def test_fairness_frontier_models_file_rejects_bad_numbers(tmp_path, write_jsonl, capsys, line, message):
    rows = frontier_rows()
    models = write_jsonl(tmp_path / "models.jsonl", rows[:3] + [line] + rows[3:])
    assert message in fails(["fairness-frontier", "--models", models, "--train-size", 1000, "--output", tmp_path / "o"], capsys)


def test_fairness_frontier_with_one_model_size_is_an_error_not_an_index_error(tmp_path, write_jsonl, capsys):
    models = write_jsonl(tmp_path / "models.jsonl", frontier_rows(sizes=(100,)))
    error = fails(["fairness-frontier", "--models", models, "--train-size", 1000, "--output", tmp_path / "o"], capsys)
    assert "models.jsonl: models of 1 size(s) (100 parameters); the fit needs at least two sizes" in error


def scaling_rows():
    return [{"flops": 10.0 ** k, "rare": 3.0 - k / 10, "frequent": 2.0 - k / 10} for k in range(1, 6)]


@pytest.mark.parametrize(
    "row, message",
    [
        ({"flops": 1e9, "rare": "abc", "frequent": 1.0}, "models.jsonl:3: field 'rare' must be a finite number, got 'abc'"),
        ({"flops": 1e9, "rare": [1.0, 2.0], "frequent": 1.0}, "models.jsonl:3: field 'rare' must be a finite number, got [1.0, 2.0]"),
        ({"flops": "1e9", "rare": 1.0, "frequent": 1.0}, "models.jsonl:3: field 'flops' must be a finite number, got '1e9'"),
        ({"flops": 1e9, "rare": 1.0}, "models.jsonl:3: missing field 'frequent'"),
        ({"flops": 1e9, "rare": 1.0, "frequent": 1.0, "rare_items": [0.1, "x"]},
         "models.jsonl:3: field 'rare_items' item 1 must be a finite number, got 'x'"),
        ('{"flops": 1e9, "rare": 1.0, "frequent": {"mean": NaN}}', "models.jsonl:3: field 'frequent.mean' is nan"),
    ],
)
def test_relative_scaling_models_file_names_file_line_and_field(tmp_path, write_jsonl, capsys, row, message):
    rows = scaling_rows()
    models = write_jsonl(tmp_path / "models.jsonl", rows[:2] + [row] + rows[2:])
    assert message in fails(["relative-scaling", "--models", models, "--output", tmp_path / "o"], capsys)


def test_a_binary_file_given_as_jsonl_names_the_file_and_line(tmp_path, capsys):
    binary = tmp_path / "models.jsonl"
    binary.write_bytes(b'{"flops": 1, "rare": 2, "frequent": 1}\n\x89PNG\r\n\x1a\n\x00\x00\xff\xfe')
    error = fails(["relative-scaling", "--models", binary, "--output", tmp_path / "o"], capsys)
    assert "models.jsonl:2: not UTF-8 text (byte 0x89 at column 1); expected a JSONL file" in error
    with pytest.raises(ValueError, match=r"models.jsonl:2: not UTF-8 text"):
        list(read_jsonl_rows(binary))


def test_a_binary_specification_file_names_the_file_and_line(tmp_path):
    from helm_plugins.judges.spec_adherence.statements import load_spec

    spec = tmp_path / "spec.jsonl"
    spec.write_bytes(b"\xff\xd8\xff\xe0 JFIF")
    with pytest.raises(ValueError, match=r"spec.jsonl:1: not UTF-8 text \(byte 0xff at column 1\)"):
        load_spec(str(spec))


@pytest.mark.parametrize(
    "reader, rows, message",
    [
        ("helm_plugins.statistics.provenance.transcript:read_transcript",
         ['{"id": "a", "text": "t", "position": NaN}'],
         "t.jsonl:1: field 'position' is nan"),
        ("helm_plugins.statistics.provenance.transcript:read_losses", ['{"id": "a", "loss": -Infinity}'],
         "t.jsonl:1: field 'loss' is -inf"),
        ("helm_plugins.statistics.fairness_frontier.scenarios:read_items",
         ['{"text": "x", "label": 1, "group": 0, "weight": NaN}'], "t.jsonl:1: field 'weight' is nan"),
        ("helm_plugins.judges.uq.scenarios:read_questions",
         ['{"question_id": "q", "title": "t", "body": "b", "votes": NaN}'], "t.jsonl:1: field 'votes' is nan"),
        ("helm_plugins.statistics.entropy_calibration.scenarios:read_documents",
         ['{"id": "d", "text": "t", "scores": [1, NaN]}'], r"t.jsonl:1: field 'scores\[1\]' is nan"),
    ],
)
def test_every_jsonl_reader_rejects_non_finite_numbers_the_same_way(tmp_path, write_jsonl, reader, rows, message):
    import importlib

    module, function = reader.split(":")
    path = write_jsonl(tmp_path / "t.jsonl", rows)
    with pytest.raises(ValueError, match=message):
        getattr(importlib.import_module(module), function)(path)


@pytest.mark.parametrize("value", ["nan", "inf", "-Infinity", "abc"])
def test_real_valued_command_line_options_reject_non_finite_values(value, capsys):
    with pytest.raises(SystemExit) as exit:
        main(["fairness-frontier", "--from-suite", "s", f"--delta={value}"])
    assert exit.value.code == 2 and f"argument --delta: {value!r} is not a" in capsys.readouterr().err
