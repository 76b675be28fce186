"""Tokenized training data, built once and shared by every run of a sweep.

The tokenizer and the token rows depend only on the data and tokenizer configs, the context length and the seed,
so runs that differ in optimizer, schedule or model width read the same cache entry instead of generating and
tokenizing the corpus again. Entries are folders named by a hash of those settings:

    <cache>/<key>/tokenizer/         the trained tokenizer (transformers format)
    <cache>/<key>/rows.pt            {"train": rows, "validation": rows}

An entry is written to a temporary folder and renamed into place, so concurrent workers never read half an entry.
"""

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional, Tuple

import torch
from transformers import PreTrainedTokenizerFast

from helm_plugins.runners.pretrain.data import build_rows, encode_documents, limit_rows, load_documents, read_extra_rows
from helm_plugins.runners.pretrain.tokenizer import load_tokenizer, save_tokenizer, train_tokenizer

TOKENIZER_TRAINING_DOCUMENTS = 50_000  # enough to fit the BPE merges; later documents add nothing


@dataclass
class TokenizedData:
    tokenizer: PreTrainedTokenizerFast
    train_rows: torch.Tensor
    validation_rows: torch.Tensor


_MEMORY: Dict[str, TokenizedData] = {}  # per process: a worker running many points reads each entry once


def cache_key(config) -> str:
    """Hash of what the rows depend on (a PretrainConfig's data, tokenizer, context length and seed)."""
    settings = {
        "data": config.data.model_dump(mode="json"),
        "tokenizer": config.tokenizer.model_dump(mode="json"),
        "context_length": config.model.context_length,
        "seed": data_seed(config),
    }
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


def data_seed(config) -> int:
    """The corpus seed: data.seed when set, else the run's seed."""
    return config.seed if config.data.seed is None else config.data.seed


def tokenize(config, tokenizer_dir: Optional[Path] = None) -> TokenizedData:
    """Generate or read the documents, train (or load from `tokenizer_dir`) the tokenizer, cut the rows; keep the
    first data.train_tokens of them, then add data.extra_rows (or use those alone without data.real_rows)."""
    train_documents, validation_documents = load_documents(config.data, data_seed(config))
    if tokenizer_dir is not None and Path(tokenizer_dir).is_dir():
        tokenizer = load_tokenizer(tokenizer_dir)
    else:
        tokenizer = train_tokenizer(
            train_documents[:TOKENIZER_TRAINING_DOCUMENTS], config.tokenizer, config.model.context_length
        )
    context, packing = config.model.context_length, config.data.packing
    train_rows = limit_rows(build_rows(encode_documents(tokenizer, train_documents, config.data.loss_on), packing, context), config.data.train_tokens, context)
    if config.data.extra_rows:
        extra = read_extra_rows(config.data.extra_rows, context + 1, len(tokenizer))
        train_rows = torch.cat([train_rows, extra]) if config.data.real_rows else extra
    return TokenizedData(tokenizer, train_rows, build_rows(encode_documents(tokenizer, validation_documents, config.data.loss_on), packing, context))


def cached_tokenize(config, cache_dir: Path) -> Tuple[TokenizedData, Path]:
    """The cache entry for `config` (built if missing) and its folder."""
    key = cache_key(config)
    entry = Path(cache_dir) / key
    if key in _MEMORY and entry.is_dir():
        return _MEMORY[key], entry
    if not (entry / "rows.pt").is_file():
        data = tokenize(config)
        entry.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=entry.parent))
        save_tokenizer(data.tokenizer, staging / "tokenizer")
        torch.save({"train": data.train_rows, "validation": data.validation_rows}, staging / "rows.pt")
        try:
            os.rename(staging, entry)
        except OSError:  # another worker finished the same entry first: keep theirs
            shutil.rmtree(staging, ignore_errors=True)
    rows = torch.load(entry / "rows.pt", weights_only=True)
    _MEMORY[key] = TokenizedData(load_tokenizer(entry / "tokenizer"), rows["train"], rows["validation"])
    return _MEMORY[key], entry
