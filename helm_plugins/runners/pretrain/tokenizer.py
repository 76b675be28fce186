"""Byte-level BPE tokenizer trained with Hugging Face `tokenizers`, one token per digit.

Splitting numbers into digits keeps arithmetic learnable for small models; byte-level BPE means every string
round-trips. The tokenizer is saved in the `transformers` format so HELM's HuggingFaceTokenizer loads it.
"""

import json
from pathlib import Path
from typing import Iterable

from pydantic import BaseModel, ConfigDict, Field
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

END_OF_TEXT = "<|endoftext|>"


class TokenizerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    vocab_size: int = Field(1024, ge=260, description="BPE vocabulary size, including the 256 byte symbols")
    individual_digits: bool = Field(True, description="split numbers into single digits before BPE")


def train_tokenizer(texts: Iterable[str], config: TokenizerConfig, context_length: int) -> PreTrainedTokenizerFast:
    tokenizer = Tokenizer(models.BPE())
    byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.pre_tokenizer = (
        pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True), byte_level])
        if config.individual_digits
        else byte_level
    )
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=config.vocab_size,
        special_tokens=[END_OF_TEXT],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token=END_OF_TEXT,
        eos_token=END_OF_TEXT,
        pad_token=END_OF_TEXT,
        model_max_length=context_length,
        clean_up_tokenization_spaces=False,
    )


def save_tokenizer(tokenizer: PreTrainedTokenizerFast, directory: Path) -> None:
    """Save in the transformers format, loadable by transformers 4 and 5 alike (both know the fast class name)."""
    tokenizer.save_pretrained(str(directory))
    config_path = Path(directory) / "tokenizer_config.json"
    config = json.loads(config_path.read_text())
    config["tokenizer_class"] = "PreTrainedTokenizerFast"
    for loading_option in ("is_local", "local_files_only"):  # how a loaded tokenizer was read, not part of it
        config.pop(loading_option, None)
    config_path.write_text(json.dumps(config, indent=2) + "\n")


def load_tokenizer(directory: Path) -> PreTrainedTokenizerFast:
    return PreTrainedTokenizerFast.from_pretrained(str(directory), local_files_only=True)
