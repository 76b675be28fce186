"""Reading JSONL input files with errors that name the file, the line and the field.

Every row is checked the same way, whatever reads it: the line must be UTF-8 text (a binary file is named as
such, not reported as a codec error), JSON, an object, and hold no NaN or infinity anywhere (Python's json
module accepts `NaN` and `Infinity`, and `1e999` overflows to infinity). Numbers a reader needs are taken with
`number_field` / `number_list_field`, which name the field and what it holds instead of a bare conversion error.
"""

import json
import math
from pathlib import Path
from typing import Iterator, List, Optional, Tuple, Union


def find_non_finite(value: object, where: str = "") -> Optional[Tuple[str, float]]:
    """(dotted field path, value) of the first NaN or infinity inside `value`, or None."""
    if isinstance(value, float) and not math.isfinite(value):
        return where, value
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        found = find_non_finite(child, f"{where}[{key}]" if isinstance(key, int) else f"{where}.{key}" if where else key)
        if found:
            return found
    return None


def read_jsonl_rows(path: Union[str, Path]) -> Iterator[Tuple[int, dict]]:
    """(line number, object) for every non-blank line; a missing file, a non-text line, bad JSON, a non-object row
    or a non-finite number raises ValueError naming the file and line (and the field, for numbers)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    with open(path, "rb") as file:
        for line_number, raw in enumerate(file, 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise ValueError(
                    f"{path}:{line_number}: not UTF-8 text (byte 0x{raw[error.start]:02x} at column {error.start + 1}); "
                    "expected a JSONL file, one JSON object a line"
                ) from None
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}:{line_number}: not JSON ({error.msg}, column {error.colno})") from None
            if not isinstance(row, dict):
                raise ValueError(f"{path}:{line_number}: expected an object, got {type(row).__name__}")
            bad = find_non_finite(row)
            if bad:
                raise ValueError(f"{path}:{line_number}: field {bad[0]!r} is {bad[1]}; numbers must be finite")
            yield line_number, row


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def number_field(path: Union[str, Path], line_number: int, row: dict, field: str, positive: bool = False) -> float:
    """`row[field]` as a float; missing, non-numeric (strings, lists, booleans) or non-finite values raise a
    ValueError naming the file, line and field."""
    if field not in row:
        raise ValueError(f"{path}:{line_number}: missing field {field!r} (has {sorted(row)})")
    value = row[field]
    if not _is_number(value):
        raise ValueError(f"{path}:{line_number}: field {field!r} must be a finite number, got {value!r}")
    if positive and value <= 0:
        raise ValueError(f"{path}:{line_number}: field {field!r} must be positive, got {value!r}")
    return float(value)


def number_list_field(path: Union[str, Path], line_number: int, row: dict, field: str) -> List[float]:
    """`row[field]` as a non-empty list of finite numbers; anything else names the file, line, field and item."""
    value = row.get(field)
    if not isinstance(value, list) or not value:
        raise ValueError(f"{path}:{line_number}: field {field!r} must be a non-empty list of numbers, got {value!r}")
    for index, item in enumerate(value):
        if not _is_number(item):
            raise ValueError(f"{path}:{line_number}: field {field!r} item {index} must be a finite number, got {item!r}")
    return [float(item) for item in value]
