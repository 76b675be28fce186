"""The training transcript of a pretraining run: each document with the last step that trained on it.

A run's batch order is a pure function of its config (seed, data, batch size), so the transcript is rebuilt
from the config and the run's tokenizer, without the checkpoint. It is checked against the run's recorded
training-token count. Document packing only (one document per row): with packed windows a document spans rows.

    python -m helm_plugins.runners.pretrain.transcript --preset tiny-default --tokenizer helm_plugins/models/tiny_default \\
        --sample 2000 --expected-tokens 29102610 --output helm_plugins/models/tiny_default/transcript.jsonl
"""

import argparse
import json
import sys
from pathlib import Path
from typing import List, Optional

import numpy as np

from helm_plugins.runners.pretrain.config import PretrainConfig, load_config
from helm_plugins.runners.pretrain.data import IGNORE_INDEX, Batches, build_rows, encode_documents, load_documents
from helm_plugins.runners.pretrain.tokenizer import load_tokenizer


def training_transcript(
    config: PretrainConfig, tokenizer_dir: Path, sample: Optional[int] = None, seed: int = 0,
    expected_tokens: Optional[int] = None,
) -> List[dict]:
    """[{"id", "text", "position"}] for the documents the run trained on (a seeded sample of them)."""
    if config.data.packing != "document":
        raise ValueError("a transcript needs data.packing=document (with packed windows a document spans rows)")
    tokenizer = load_tokenizer(tokenizer_dir)
    documents, _ = load_documents(config.data, config.seed)
    rows = build_rows(encode_documents(tokenizer, documents), "document", config.model.context_length)
    batches = Batches(rows, config.batch_size, config.seed, tokenizer.eos_token_id, bucketed=True)
    last_step = np.full(len(rows), -1)
    tokens = 0
    for step in range(config.max_steps):
        indices = batches.row_indices(step)
        last_step[indices] = step
        if expected_tokens is not None:
            tokens += int((rows[indices, 1:] != IGNORE_INDEX).sum())
    if expected_tokens is not None and tokens != expected_tokens:
        raise ValueError(
            f"the rebuilt order trains on {tokens:,} tokens, the run recorded {expected_tokens:,}: the config or "
            "tokenizer is not the run's"
        )
    trained = np.flatnonzero(last_step >= 0)
    if sample is not None and sample < len(trained):
        trained = np.sort(np.random.default_rng(seed).choice(trained, size=sample, replace=False))
    return [{"id": f"doc{i}", "text": documents[i], "position": int(last_step[i])} for i in trained]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", required=True)
    parser.add_argument("--tokenizer", type=Path, required=True, help="the run's tokenizer folder")
    parser.add_argument("--sample", type=int, help="keep a seeded sample of this many documents")
    parser.add_argument("--expected-tokens", type=int, help="the run's recorded training tokens (a check)")
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args(argv)
    rows = training_transcript(load_config(args.preset), args.tokenizer, args.sample, expected_tokens=args.expected_tokens)
    args.output.write_text("".join(json.dumps(row) + "\n" for row in rows))
    print(f"{len(rows)} documents -> {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
