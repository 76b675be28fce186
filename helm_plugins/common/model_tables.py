"""Per-model numbers given as CSV (`model,<column>`), e.g. training FLOPs or parameter counts of a family."""

import csv
import math
from pathlib import Path
from typing import Dict


def read_model_table(path: Path, column: str) -> Dict[str, float]:
    """{HELM model name: positive finite value}; errors name the file and line."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"{path} does not exist")
    table: Dict[str, float] = {}
    with open(path, newline="") as file:
        for line_number, row in enumerate(csv.DictReader(file), 2):
            if not row.get("model") or not row.get(column):
                raise ValueError(f"{path}:{line_number}: need columns model,{column}")
            try:
                value = float(row[column])
            except ValueError:
                raise ValueError(f"{path}:{line_number}: {column} {row[column]!r} is not a number") from None
            if not math.isfinite(value) or value <= 0:
                raise ValueError(f"{path}:{line_number}: {column} must be positive and finite, got {row[column]!r}")
            if row["model"] in table:
                raise ValueError(f"{path}:{line_number}: duplicate model {row['model']!r}")
            table[row["model"]] = value
    return table
