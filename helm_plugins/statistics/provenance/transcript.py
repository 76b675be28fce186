"""Training transcripts: the examples of Alice's run with their training positions, as JSONL.

One object per line: {"id": "...", "text": "...", "position": 17}. `position` is when the example was trained
on (a step or a row index; ties are fine, e.g. examples of one batch). Losses of a model on the transcript are
JSONL too: {"id": "...", "loss": 2.31} (mean token negative log-likelihood).
"""

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Sequence, Tuple, Union

from helm_plugins.common.jsonl import number_field, read_jsonl_rows


@dataclass(frozen=True)
class TranscriptExample:
    id: str
    text: str
    position: float


def read_transcript(path: Union[str, Path]) -> List[TranscriptExample]:
    path = Path(path)
    examples: List[TranscriptExample] = []
    seen: Dict[str, int] = {}
    for line_number, row in read_jsonl_rows(path):
        for field in ("id", "text"):
            if not isinstance(row.get(field), str) or not row[field]:
                raise ValueError(f"{path}:{line_number}: missing or empty string field {field!r}")
        position = number_field(path, line_number, row, "position")
        if row["id"] in seen:
            raise ValueError(f"{path}:{line_number}: duplicate id {row['id']!r} (first on line {seen[row['id']]})")
        seen[row["id"]] = line_number
        examples.append(TranscriptExample(row["id"], row["text"], position))
    if len(examples) < 3:
        raise ValueError(f"{path}: {len(examples)} examples; a provenance test needs at least 3")
    return examples


def write_transcript(path: Union[str, Path], examples: Sequence[TranscriptExample]) -> None:
    with open(path, "w") as file:
        for example in examples:
            file.write(json.dumps({"id": example.id, "text": example.text, "position": example.position}) + "\n")


def read_losses(path: Union[str, Path]) -> Dict[str, float]:
    path = Path(path)
    losses: Dict[str, float] = {}
    for line_number, row in read_jsonl_rows(path):
        if not isinstance(row.get("id"), str):
            raise ValueError(f"{path}:{line_number}: missing string field 'id'")
        if row["id"] in losses:
            raise ValueError(f"{path}:{line_number}: duplicate id {row['id']!r}")
        losses[row["id"]] = number_field(path, line_number, row, "loss")
    return losses


def write_losses(path: Union[str, Path], losses: Dict[str, float]) -> None:
    with open(path, "w") as file:
        for example_id, loss in losses.items():
            file.write(json.dumps({"id": example_id, "loss": loss}) + "\n")


def aligned(examples: Sequence[TranscriptExample], losses: Dict[str, float], source: str) -> List[float]:
    """The losses in transcript order; every transcript id must have one (extra ids are an error too)."""
    ids = [example.id for example in examples]
    missing = [i for i in ids if i not in losses]
    extra = sorted(set(losses) - set(ids))
    if missing or extra:
        raise ValueError(
            f"{source}: example ids do not match the transcript ({len(missing)} missing, e.g. {missing[:3]}; "
            f"{len(extra)} not in the transcript, e.g. {extra[:3]})"
        )
    return [losses[i] for i in ids]


def read_checkpoint_manifest(path: Union[str, Path]) -> Tuple[Path, List[Path]]:
    """The reshuffle test's models: JSONL {"path", "original"}, one Hugging Face checkpoint folder a line (relative
    paths are relative to the manifest's folder); exactly one is Alice's real run ("original": true), the others
    are retrainings of her last phase on reshuffled orders. Returns (original, reshuffles)."""
    path = Path(path)
    original: List[Path] = []
    others: List[Path] = []
    for line_number, row in read_jsonl_rows(path):
        if not isinstance(row.get("path"), str) or not row["path"]:
            raise ValueError(f"{path}:{line_number}: missing string field 'path'")
        if not isinstance(row.get("original", False), bool):
            raise ValueError(f"{path}:{line_number}: field 'original' must be true or false")
        folder = (path.parent / row["path"]).resolve()
        if not (folder / "config.json").is_file():
            raise ValueError(f"{path}:{line_number}: {folder} is not a Hugging Face checkpoint folder (no config.json)")
        (original if row.get("original") else others).append(folder)
    if len(original) != 1 or not others:
        raise ValueError(f"{path}: {len(original)} original checkpoints and {len(others)} reshuffles; the reshuffle test "
                         "needs exactly one \"original\": true (Alice's real run) and at least one reshuffle")
    return original[0], others


def write_checkpoint_manifest(path: Union[str, Path], original: Path, reshuffles: Sequence[Path]) -> None:
    path = Path(path)
    with open(path, "w") as file:
        for folder, is_original in [(original, True)] + [(folder, False) for folder in reshuffles]:
            file.write(json.dumps({"path": os.path.relpath(folder, path.parent), "original": is_original}) + "\n")
