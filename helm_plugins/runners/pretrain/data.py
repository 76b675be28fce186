"""Training data: documents -> token rows (packed windows or one document per row) in a seeded order.

The batch at step s is a pure function of (seed, s), so a resumed run reads exactly the batches an
uninterrupted run would have read, and the order is reproducible from the config alone.
"""

import hashlib
import json
import random
from pathlib import Path
from typing import Dict, Iterator, List, Literal, Optional, Tuple

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
    seed: Optional[int] = Field(
        None, description="seed of the synthetic corpus and of the file split; None uses the run's seed (set it to keep "
        "the data fixed while the run's seed varies initialisation and batch order)"
    )
    train_tokens: Optional[int] = Field(
        None, gt=0, description="a fixed data budget D: keep the first train_tokens // context_length training rows "
        "(concatenate packing); runs then repeat this data for as many epochs as their steps need"
    )
    extra_rows: Optional[str] = Field(
        None, description="a torch file holding a 2-D tensor of token rows (context_length + 1 wide, ids of the same "
        "tokenizer), e.g. text sampled from a teacher, added to the training rows"
    )
    real_rows: bool = Field(True, description="False trains on extra_rows alone (self-distillation without real data)")
    packing: Literal["concatenate", "document"] = Field(
        "concatenate",
        description="concatenate: documents joined and cut into full windows; document: one document per row "
        "from position 0 (as HELM prompts are), truncated and padded, padding not trained on",
    )
    loss_on: Literal["all", "replies"] = Field(
        "all",
        description="all: every token is a target; replies: only the assistant replies of chat documents "
        "(from `<|assistant|>` to their end-of-text) are, the rest is context only, as in supervised fine-tuning",
    )

    @model_validator(mode="after")
    def _paths_for_file_sources(self) -> "DataConfig":
        if self.source != "synthetic" and not self.paths:
            raise ValueError(f"data.source={self.source!r} needs data.paths")
        if self.train_tokens is not None and self.packing != "concatenate":
            raise ValueError("data.train_tokens counts full windows: it needs data.packing=concatenate")
        if not self.real_rows and not self.extra_rows:
            raise ValueError("data.real_rows=false leaves no training data: give data.extra_rows")
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
# A context-only token (data.loss_on=replies) is stored in the rows as CONTEXT_ONLY - id: it is read as an input,
# never predicted. The value range (<= -1000) cannot meet IGNORE_INDEX.
CONTEXT_ONLY = -1000
REPLY_START, REPLY_END = "<|assistant|>\n", "<|endoftext|>"


def limit_rows(rows: torch.Tensor, train_tokens: Optional[int], context_length: int) -> torch.Tensor:
    """The first `train_tokens // context_length` rows (a fixed data budget); an error if the corpus is smaller."""
    if train_tokens is None:
        return rows
    wanted = train_tokens // context_length
    if wanted < 1:
        raise ValueError(f"data.train_tokens={train_tokens} is less than one row of {context_length} tokens")
    if len(rows) < wanted:
        raise ValueError(
            f"data.train_tokens={train_tokens:,} needs {wanted} rows of {context_length} tokens but the corpus gives "
            f"{len(rows)} ({len(rows) * context_length:,} tokens): raise data.num_documents"
        )
    return rows[:wanted]


def read_extra_rows(path: str, width: int, vocab_size: int) -> torch.Tensor:
    """Token rows from `path` (data.extra_rows), checked against the row width and the tokenizer's vocabulary."""
    try:
        rows = torch.load(path, weights_only=True)
    except FileNotFoundError:
        raise FileNotFoundError(f"data.extra_rows: {path} does not exist") from None
    except Exception as error:  # a damaged or foreign file
        raise ValueError(f"data.extra_rows: {path} is not a readable torch file ({type(error).__name__}: {error})") from None
    if not isinstance(rows, torch.Tensor) or rows.dim() != 2 or rows.dtype != torch.long:
        raise ValueError(f"data.extra_rows: {path} must hold a 2-D tensor of token ids (int64)")
    if rows.shape[1] != width:
        raise ValueError(f"data.extra_rows: {path} has rows of {rows.shape[1]} tokens; this run needs {width} (context_length + 1)")
    if len(rows) and (int(rows.min()) < 0 or int(rows.max()) >= vocab_size):
        raise ValueError(
            f"data.extra_rows: {path} has token ids outside [0, {vocab_size}): it was made with another tokenizer"
        )
    return rows


def encode_documents(tokenizer: PreTrainedTokenizerFast, documents: List[str], loss_on: str = "all") -> List[List[int]]:
    """Token ids of each document, followed by the end-of-text token. With loss_on="replies" the tokens outside
    assistant replies are stored as context-only (CONTEXT_ONLY - id); the final end-of-text token is a target
    when the document ends inside a reply."""
    eos = tokenizer.eos_token_id
    encodings = tokenizer.backend_tokenizer.encode_batch(documents, add_special_tokens=False)
    if loss_on == "all":
        return [[*encoding.ids, eos] for encoding in encodings]
    encoded = []
    for index, (text, encoding) in enumerate(zip(documents, encodings)):
        starts, ends = reply_spans(text)
        if not len(starts):
            raise ValueError(
                f"data.loss_on=replies: document {index} has no assistant reply (no {REPLY_START!r}): "
                f"{text[:80]!r}..."
            )
        ids = np.asarray([*encoding.ids, eos], dtype=np.int64)
        token_starts = np.asarray([start for start, _ in encoding.offsets] + [len(text)], dtype=np.int64)
        span = np.searchsorted(starts, token_starts, side="right") - 1
        trained = (span >= 0) & (token_starts < ends[np.maximum(span, 0)])
        trained[-1] = ends[-1] > len(text)  # the appended end-of-text closes an open final reply
        encoded.append(np.where(trained, ids, CONTEXT_ONLY - ids).tolist())
    return encoded


def reply_spans(text: str) -> Tuple[np.ndarray, np.ndarray]:
    """Character spans [start, end) of the assistant replies in a chat document, each with its closing
    end-of-text token; an unclosed final reply ends past the text (so the appended end-of-text belongs to it)."""
    starts, ends = [], []
    position = text.find(REPLY_START)
    while position >= 0:
        start = position + len(REPLY_START)
        close = text.find(REPLY_END, start)
        end = close + len(REPLY_END) if close >= 0 else len(text) + 1
        starts.append(start)
        ends.append(end)
        position = text.find(REPLY_START, end) if close >= 0 else -1
    return np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)


def fingerprint(rows: torch.Tensor) -> str:
    return hashlib.sha256(rows.numpy().tobytes()).hexdigest()[:16]


def build_rows(documents: List[List[int]], packing: str, context_length: int) -> torch.Tensor:
    """Token rows of width context_length + 1: full windows of the stream (concatenate) or one document per
    row, truncated and padded with IGNORE_INDEX (document)."""
    width = context_length + 1
    if packing == "concatenate":
        total = sum(len(document) for document in documents)
        stream = torch.from_numpy(np.fromiter((t for d in documents for t in d), dtype=np.int64, count=total))
        stream = stream[: (len(stream) - 1) // context_length * context_length + 1]
        return stream.unfold(0, width, context_length) if len(stream) >= width else stream.new_empty((0, width))
    rows = torch.full((len(documents), width), IGNORE_INDEX, dtype=torch.long)
    for i, document in enumerate(documents):
        document = document[:width]
        rows[i, : len(document)] = torch.tensor(document, dtype=torch.long)
    return rows


class Batches:
    """Rows of up to `context_length + 1` tokens, grouped into batches in a seeded order each epoch.

    With `bucketed` (for document rows, which start at position 0 as a HELM prompt does), rows of similar length
    are batched together (within chunks of BUCKET_BATCHES batches) and each batch is trimmed to its longest
    row, so little compute goes to padding.
    The batch at step s depends only on (seed, s); an epoch is `len(rows) // batch_size` batches.
    """

    BUCKET_BATCHES = 64

    def __init__(self, rows: torch.Tensor, batch_size: int, seed: int, pad_id: int, bucketed: bool = False):
        if len(rows) < batch_size:
            raise ValueError(
                f"the data gives {len(rows)} rows of {rows.shape[1] - 1} tokens, fewer than the batch size "
                f"{batch_size}: add data or lower batch_size/context_length"
            )
        self.rows = rows
        self.lengths = (rows != IGNORE_INDEX).sum(dim=1).numpy()
        self.batch_size = batch_size
        self.seed = seed
        self.pad_id = pad_id
        self.bucketed = bucketed
        self.batches_per_epoch = len(rows) // batch_size
        self._epoch = -1
        self._epoch_batches: List[np.ndarray] = []

    @property
    def num_rows(self) -> int:
        return len(self.rows)

    def epoch_batches(self, epoch: int) -> List[np.ndarray]:
        if epoch != self._epoch:
            rng = np.random.default_rng([self.seed, epoch])
            order = rng.permutation(self.num_rows)[: self.batches_per_epoch * self.batch_size]
            if self.bucketed:
                chunk = self.BUCKET_BATCHES * self.batch_size
                order = np.concatenate(
                    [part[np.argsort(self.lengths[part], kind="stable")] for part in np.split(order, range(chunk, len(order), chunk))]
                )
            batches = order.reshape(self.batches_per_epoch, self.batch_size)
            self._epoch_batches = list(batches[rng.permutation(self.batches_per_epoch)] if self.bucketed else batches)
            self._epoch = epoch
        return self._epoch_batches

    def row_indices(self, step: int) -> List[int]:
        """Row indices of the batch at `step` (0-based)."""
        epoch, index = divmod(step, self.batches_per_epoch)
        return self.epoch_batches(epoch)[index].tolist()

    def _split(self, rows: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        longest = int((rows != IGNORE_INDEX).sum(dim=1).max())
        rows = rows[:, : max(longest, 2)]
        inputs = torch.where(rows[:, :-1] <= CONTEXT_ONLY, CONTEXT_ONLY - rows[:, :-1], rows[:, :-1])
        targets = rows[:, 1:].masked_fill(rows[:, 1:] <= CONTEXT_ONLY, IGNORE_INDEX)
        return inputs.masked_fill(inputs == IGNORE_INDEX, self.pad_id), targets

    def input_tokens(self, step: int) -> int:
        """Tokens the batch at `step` feeds the model (padding excluded; context-only tokens included)."""
        return int(self.lengths[self.row_indices(step)].sum()) - self.batch_size

    def batch(self, step: int) -> Tuple[torch.Tensor, torch.Tensor]:
        """(inputs, targets); targets are IGNORE_INDEX on padding."""
        return self._split(self.rows[self.row_indices(step)])

    def sequential_batches(self, max_batches: int) -> Iterator[Tuple[torch.Tensor, torch.Tensor]]:
        """Fixed batches in data order, for validation."""
        for start in range(0, min(self.num_rows, max_batches * self.batch_size), self.batch_size):
            yield self._split(self.rows[start : start + self.batch_size])
