"""Registers the embedded models with HELM: metadata, tokenizer config and deployment.

The checkpoints ship inside the package (`helm_plugins/models/tiny_default/`, `helm_plugins/models/tiny_chat/`), so
`model=helm-plugins/tiny-default` and `model=helm-plugins/tiny-chat` work offline with no prod_env YAML.
tiny-chat is a chat model: its tokenizer config carries the chat template its corpus was rendered with, and HELM's
client applies it to prompts and chat messages alike; its context window is the checkpoint's. Registration only reads a small JSON file; torch and transformers are
imported by HELM when the first request is made.
"""

import json
from datetime import date
from pathlib import Path

from helm.benchmark.model_deployment_registry import ClientSpec, ModelDeployment, register_model_deployment
from helm.benchmark.model_metadata_registry import (
    FULL_FUNCTIONALITY_TEXT_MODEL_TAG,
    INSTRUCTION_FOLLOWING_MODEL_TAG,
    TEXT_MODEL_TAG,
    ModelMetadata,
    register_model_metadata,
)
from helm.benchmark.tokenizer_config_registry import TokenizerConfig, TokenizerSpec, register_tokenizer_config

TINY_DEFAULT = "helm-plugins/tiny-default"
TINY_DEFAULT_SPECULATIVE = "helm-plugins/tiny-default-speculative"
TINY_DEFAULT_DIR = Path(__file__).parent / "tiny_default"
TINY_CHAT = "helm-plugins/tiny-chat"
TINY_CHAT_DIR = Path(__file__).parent / "tiny_chat"
TRAINING_REPORT = "training_report.json"
END_OF_TEXT = "<|endoftext|>"


def read_training_report(checkpoint_dir: Path = TINY_DEFAULT_DIR) -> dict:
    path = checkpoint_dir / TRAINING_REPORT
    return json.loads(path.read_text()) if path.is_file() else {}


def register_tiny_default_metadata(name: str, display_name: str, description: str, report: dict,
                                   chat: bool = False) -> None:
    """Model metadata for an embedded checkpoint (described by its training report) under `name`; `chat` tags it
    instruction-following, so chat-style callers (DSPy) send it messages."""
    register_model_metadata(
        ModelMetadata(
            name=name,
            creator_organization_name="helm_plugins",
            display_name=display_name,
            description=description,
            access="open",
            release_date=date.fromisoformat(report["built"]) if "built" in report else None,
            tags=[TEXT_MODEL_TAG, FULL_FUNCTIONALITY_TEXT_MODEL_TAG] + ([INSTRUCTION_FOLLOWING_MODEL_TAG] if chat else []),
            num_parameters=report.get("num_parameters"),
        )
    )


def register_tiny_default_deployment(name: str, client_class: str, client_args: dict, report: dict,
                                     checkpoint_dir: Path = TINY_DEFAULT_DIR, tokenizer: str = TINY_DEFAULT) -> None:
    """A deployment `name` of an embedded checkpoint with its tokenizer, served by `client_class`; its context
    window is the one the checkpoint was trained with (its training report)."""
    register_model_deployment(
        ModelDeployment(
            name=name,
            model_name=name,
            tokenizer_name=tokenizer,
            max_sequence_length=report.get("context_length", 256),
            client_spec=ClientSpec(
                class_name=client_class,
                args={"pretrained_model_name_or_path": str(checkpoint_dir), **client_args, "end_of_text_token": END_OF_TEXT},
            ),
        )
    )


def register_tokenizer(name: str, checkpoint_dir: Path) -> None:
    register_tokenizer_config(
        TokenizerConfig(
            name=name,
            tokenizer_spec=TokenizerSpec(
                class_name="helm.tokenizers.huggingface_tokenizer.HuggingFaceTokenizer",
                args={"pretrained_model_name_or_path": str(checkpoint_dir)},
            ),
            end_of_text_token=END_OF_TEXT,
            prefix_token=END_OF_TEXT,
        )
    )


def register_tiny_default() -> None:
    report = read_training_report()
    register_tiny_default_metadata(
        TINY_DEFAULT,
        "tiny-default",
        "A GPT-2-architecture model trained by helm_plugins' pretraining runner on its synthetic corpus "
        f"({report.get('num_parameters') or '?'} parameters, {report.get('train_tokens', '?')} training tokens). "
        "Rebuild with `helm-plugins pretrain --recipe tiny-default`.",
        report,
    )
    register_tokenizer(TINY_DEFAULT, TINY_DEFAULT_DIR)
    register_tiny_default_deployment(
        TINY_DEFAULT,
        "helm_plugins.models.clients.LocalCheckpointClient",
        {"device": "cpu", "apply_chat_template": False},
        report,
    )


def register_tiny_default_speculative() -> None:
    """The same weights decoded with lossless suffix-tree speculation (helm_plugins.runners.speculative)."""
    report = read_training_report()
    register_tiny_default_metadata(
        TINY_DEFAULT_SPECULATIVE,
        "tiny-default (speculative decoding)",
        "tiny-default decoded with suffix-tree speculative decoding: the same outputs, fewer passes.",
        report,
    )
    register_tiny_default_deployment(
        TINY_DEFAULT_SPECULATIVE, "helm_plugins.runners.speculative.clients.SuffixSpeculativeClient", {}, report
    )


def register_tiny_chat() -> None:
    """The embedded chat model (helm_plugins.synthetic.chat_formats): HELM's, DSPy's and judges' formats; served
    through its chat template. Not registered when its checkpoint is absent (e.g. while it is being rebuilt)."""
    report = read_training_report(TINY_CHAT_DIR)
    if not report:
        return
    register_tiny_default_metadata(
        TINY_CHAT,
        "tiny-chat",
        "A GPT-2-architecture chat model trained by helm_plugins' pretraining runner on transcripts of the suite's "
        f"formats: HELM prompts, DSPy fields, judge verdicts ({report.get('num_parameters') or '?'} parameters, "
        f"{report.get('context_length')}-token context). Rebuild with `helm-plugins pretrain --recipe tiny-chat`.",
        report,
        chat=True,
    )
    register_tokenizer(TINY_CHAT, TINY_CHAT_DIR)
    register_tiny_default_deployment(
        TINY_CHAT,
        "helm_plugins.models.clients.LocalCheckpointClient",
        {"device": "cpu", "apply_chat_template": True},
        report,
        checkpoint_dir=TINY_CHAT_DIR,
        tokenizer=TINY_CHAT,
    )
