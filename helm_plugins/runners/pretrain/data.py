"""Training data: documents -> one token stream -> fixed-length windows in a seeded order.

The batch at step s is a pure function of (seed, s), so a resumed run reads exactly the batches an
uninterrupted run would have read, and the order is reproducible from the config alone.
"""

import hashlib
import json
import random
from pathlib import Path
from typing import Dict, List, Literal, Tuple

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


def tokenize_documents(tokenizer: PreTrainedTokenizerFast, documents: List[str]) -> np.ndarray:
    """One stream: each document followed by the end-of-text token."""
    encodings = tokenizer.backend_tokenizer.encode_batch(documents, add_special_tokens=False)
    eos = tokenizer.eos_token_id
    stream = np.fromiter(
        (token for encoding in encodings for token in (*encoding.ids, eos)),
        dtype=np.int32,
    )
    return stream


def stream_fingerprint(tokens: np.ndarray) -> str:
    return hashlib.sha256(tokens.tobytes()).hexdigest()[:16]


class WindowBatches:
    """Non-overlapping windows of `context_length + 1` tokens; each epoch visits them in a seeded order."""

    def __init__(self, tokens: np.ndarray, context_length: int, batch_size: int, seed: int):
        self.tokens = torch.from_numpy(tokens.astype(np.int64))
        self.context_length = context_length
        self.batch_size = batch_size
        self.seed = seed
        self.num_windows = (len(tokens) - 1) // context_length
        if self.num_windows < batch_size:
            raise ValueError(
                f"{len(tokens)} tokens give {self.num_windows} windows of {context_length}, fewer than the batch size "
                f"{batch_size}: add data or lower batch_size/context_length"
            )
        self._order_epoch = -1
        self._order = np.empty(0, dtype=np.int64)

    @property
    def tokens_per_batch(self) -> int:
        return self.batch_size * self.context_length

    def epoch_order(self, epoch: int) -> np.ndarray:
        if epoch != self._order_epoch:
            self._order = np.random.default_rng([self.seed, epoch]).permutation(self.num_windows)
            self._order_epoch = epoch
        return self._order

    def window_indices(self, step: int) -> List[int]:
        """Window indices of the batch at `step` (0-based), crossing epoch boundaries as needed."""
        indices = []
        for position in range(step * self.batch_size, (step + 1) * self.batch_size):
            epoch, offset = divmod(position, self.num_windows)
            indices.append(int(self.epoch_order(epoch)[offset]))
        return indices

    def window(self, index: int) -> torch.Tensor:
        start = index * self.context_length
        return self.tokens[start : start + self.context_length + 1]

    def batch(self, step: int) -> Tuple[torch.Tensor, torch.Tensor]:
        windows = torch.stack([self.window(i) for i in self.window_indices(step)])
        return windows[:, :-1], windows[:, 1:]

    def sequential_batches(self, max_batches: int):
        """Fixed batches in stream order, for validation."""
        for start in range(0, min(self.num_windows, max_batches * self.batch_size), self.batch_size):
            stop = min(start + self.batch_size, self.num_windows)
            windows = torch.stack([self.window(i) for i in range(start, stop)])
            yield windows[:, :-1], windows[:, 1:]
