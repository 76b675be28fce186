import json

import pytest

from helm_plugins.statistics.provenance.report import test_from_files as query_test_from_files
from helm_plugins.statistics.provenance.transcript import read_losses, read_transcript


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


@pytest.fixture
def transcript(tmp_path):
    return write_jsonl(tmp_path / "t.jsonl", [{"id": f"x{i}", "text": f"story {i}", "position": i} for i in range(50)])


def test_files_round_trip_into_the_query_test(tmp_path, transcript):
    losses = write_jsonl(tmp_path / "bob.jsonl", [{"id": f"x{i}", "loss": 3.0 - i / 50} for i in reversed(range(50))])
    result = query_test_from_files(transcript, losses, permutations=0)
    assert result.n == 50 and result.spearman == pytest.approx(-1)  # aligned by id, not by line


@pytest.mark.parametrize(
    "rows, message",
    [
        ([{"id": "a", "text": "t"}], "t.jsonl:1: missing field 'position'"),
        ([{"id": "a", "text": "t", "position": 1}, {"id": "a", "text": "u", "position": 2}], "t.jsonl:2: duplicate id 'a'"),
        ([{"id": "a", "text": "", "position": 1}], "t.jsonl:1: missing or empty string field 'text'"),
        ([{"id": "a", "text": "t", "position": "late"}], "t.jsonl:1: field .position. must be a finite number, got .late."),
    ],
)
def test_bad_transcripts_name_the_file_and_row(tmp_path, rows, message):
    with pytest.raises(ValueError, match=message):
        read_transcript(write_jsonl(tmp_path / "t.jsonl", rows))


def test_bad_loss_files(tmp_path, transcript):
    nan = tmp_path / "nan.jsonl"
    nan.write_text('{"id": "x0", "loss": NaN}\n')
    with pytest.raises(ValueError, match="nan.jsonl:1: field .loss. is nan; numbers must be finite"):
        read_losses(nan)
    partial = write_jsonl(tmp_path / "partial.jsonl", [{"id": f"x{i}", "loss": 1.0} for i in range(10)] + [{"id": "zz", "loss": 1.0}])
    with pytest.raises(ValueError, match="partial.jsonl: example ids do not match the transcript .40 missing.*1 not in"):
        query_test_from_files(transcript, partial)
    with pytest.raises(FileNotFoundError, match="missing.jsonl does not exist"):
        read_losses(tmp_path / "missing.jsonl")
