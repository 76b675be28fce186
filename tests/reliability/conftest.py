import json

import pytest


@pytest.fixture
def write_jsonl():
    """write_jsonl(path, rows) -> path: one JSON object a line (rows given as str are written verbatim)."""

    def write(path, rows):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join((row if isinstance(row, str) else json.dumps(row)) + "\n" for row in rows))
        return path

    return write
