"""Training data: documents -> token rows (packed windows or one document per row) in a seeded order.

The batch at step s is a pure function of (seed, s), so a resumed run reads exactly the batches an
uninterrupted run would have read, and the order is reproducible from the config alone.
"""

import hashlib
import json
import random
from pathlib import Path
from typing import Dict, Iterator, List, Literal, Tuple

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field, model_validator
from transformers import PreTrainedTokenizerFast

from helm_plugins.synthetic.corpus import generate_documents


class DataConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: Literal["synthetic", "text_files", "jsonl"] = Field(
        "synthetic", description="synthetic generators, plain-text files (one document per file), or JSONL"
    )
    mixture: Dict[str, float] = Field(
        default_factory=lambda: {"arithmetic": 0.45, "fact_world": 0.35, "stories": 0.2},
        description="synthetic source: document kind -> weight",
    )
    num_documents: int = Field(20_000, gt=0, description="synthetic source: training documents")
    validation_documents: int = Field(500, gt=0, description="synthetic source: validation documents")
    paths: List[str] = Field(default_factory=list, description="text_files/jsonl sources: input files")
    jsonl_field: str = Field("text", description="jsonl source: the field holding the document text")
    validation_fraction: float = Field(0.05, gt=0, lt=1, description="file sources: share held out for validation")
    packing: Literal["concatenate", "document"] = Field(
        "concatenate",
        description="concatenate: documents joined and cut into full windows; document: one document per row "
        "from position 0 (as HELM prompts are), truncated and padded, padding not trained on",
    )

    @model_validator(mode="after")
    def _paths_for_file_sources(self) -> "DataConfig":
        if self.source != "synthetic" and not self.paths:
            raise ValueError(f"data.source={self.source!r} needs data.paths")
        return self


def load_documents(config: DataConfig, seed: int) -> Tuple[List[str], List[str]]:
    """(training documents, validation documents)."""
    if config.source == "synthetic":
        return (
            generate_documents(config.mixture, config.num_documents, seed, stream="train"),
            generate_documents(config.mixture, config.validation_documents, seed, stream="validation"),
        )
    documents: List[str] = []
    for path in map(Path, config.paths):
        if not path.is_file():
            raise FileNotFoundError(f"data.paths: {path} does not exist")
        if config.source == "text_files":
            documents.append(path.read_text(encoding="utf-8"))
            continue
        for line_number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                documents.append(json.loads(line)[config.jsonl_field])
            except (json.JSONDecodeError, KeyError, TypeError) as error:
                raise ValueError(f"{path}:{line_number}: not a JSON object with field {config.jsonl_field!r} ({error})")
    random.Random(f"split:{seed}").shuffle(documents)
    num_validation = max(1, round(len(documents) * config.validation_fraction))
    if num_validation >= len(documents):
        raise ValueError(f"{len(documents)} documents are too few to hold out a validation share")
    return documents[num_validation:], documents[:num_validation]


IGNORE_INDEX = -100  # target value of padding: F.cross_entropy skips it


def encode_documents(tokenizer: PreTrainedTokenizerFast, documents: List[str]) -> List[List[int]]:
    """Token ids of each document, followed by the end-of-text token."""
    eos = tokenizer.eos_token_id
    return [[*encoding.ids, eos] for encoding in tokenizer.backend_tokenizer.encode_batch(documents, add_special_tokens=False)]


def fingerprint(rows: torch.Tensor) -> str:
    return hashlib.sha256(rows.numpy().tobytes()).hexdigest()[:16]


class Batches:
    """Rows of `context_length + 1` tokens, visited in a seeded order each epoch.

    `concatenate` cuts one stream of all documents into non-overlapping windows (no padding). `document` puts
    each document in its own row from position 0, as a HELM prompt is, truncated to the row and padded with
    IGNORE_INDEX targets. The batch at step s depends only on (seed, s).
    """

    def __init__(self, rows: torch.Tensor, batch_size: int, seed: int, pad_id: int):
        if len(rows) < batch_size:
            raise ValueError(
                f"the data gives {len(rows)} rows of {rows.shape[1] - 1} tokens, fewer than the batch size "
                f"{batch_size}: add data or lower batch_size/context_length"
            )
        self.rows = rows
        self.batch_size = batch_size
        self.seed = seed
        self.pad_id = pad_id
        self._order_epoch = -1
        self._order = np.empty(0, dtype=np.int64)

    @classmethod
    def from_documents(
        cls, documents: List[List[int]], packing: str, context_length: int, batch_size: int, seed: int, pad_id: int
    ) -> "Batches":
        width = context_length + 1
        if packing == "concatenate":
            total = sum(len(document) for document in documents)
            stream = torch.from_numpy(np.fromiter((t for d in documents for t in d), dtype=np.int64, count=total))
            rows = stream[: (len(stream) - 1) // context_length * context_length + 1]
            rows = rows.unfold(0, width, context_length) if len(rows) >= width else rows.new_empty((0, width))
        else:
            rows = torch.full((len(documents), width), IGNORE_INDEX, dtype=torch.long)
            for i, document in enumerate(documents):
                document = document[:width]
                rows[i, : len(document)] = torch.tensor(document, dtype=torch.long)
        return cls(rows, batch_size, seed, pad_id)

    @property
    def num_rows(self) -> int:
        return len(self.rows)

    def epoch_order(self, epoch: int) -> np.ndarray:
        if epoch != self._order_epoch:
            self._order = np.random.default_rng([self.seed, epoch]).permutation(self.num_rows)
            self._order_epoch = epoch
        return self._order

    def row_indices(self, step: int) -> List[int]:
        """Row indices of the batch at `step` (0-based), crossing epoch boundaries as needed."""
        indices = []
        for position in range(step * self.batch_size, (step + 1) * self.batch_size):
            epoch, offset = divmod(position, self.num_rows)
            indices.append(int(self.epoch_order(epoch)[offset]))
        return indices

    def _split(self, rows: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        inputs = rows[:, :-1]
        return inputs.masked_fill(inputs == IGNORE_INDEX, self.pad_id), rows[:, 1:]

    def batch(self, step: int) -> Tuple[torch.Tensor, torch.Tensor]:
        """(inputs, targets); targets are IGNORE_INDEX on padding."""
        return self._split(self.rows[self.row_indices(step)])

    def sequential_batches(self, max_batches: int) -> Iterator[Tuple[torch.Tensor, torch.Tensor]]:
        """Fixed batches in data order, for validation."""
        for start in range(0, min(self.num_rows, max_batches * self.batch_size), self.batch_size):
            yield self._split(self.rows[start : start + self.batch_size])
