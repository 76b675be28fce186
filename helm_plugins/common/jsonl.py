"""Reading JSONL input files with errors that name the file and line."""

import json
from pathlib import Path
from typing import Iterator, Tuple, Union


def read_jsonl_rows(path: Union[str, Path]) -> Iterator[Tuple[int, dict]]:
    """(line number, object) for every non-blank line; a missing file, bad JSON or a non-object row raises."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    with open(path) as file:
        for line_number, line in enumerate(file, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}:{line_number}: not JSON ({error.msg})") from None
            if not isinstance(row, dict):
                raise ValueError(f"{path}:{line_number}: expected an object, got {type(row).__name__}")
            yield line_number, row
