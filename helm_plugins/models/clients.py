"""HELM's Hugging Face client for a checkpoint on local disk, with its cache keyed to the checkpoint's weights.

HELM's request cache is keyed on the request alone, so after a local checkpoint is retrained under the same
model name, cached answers of the old weights would be served. This client keeps one cache per weights file
(SQLite: `<host>-<sha of weights>.sqlite`), so rebuilding `helm-plugins/tiny-default` never mixes answers.

Sampling is from the model's full distribution at the request's temperature and top_p: transformers' `generate`
would otherwise truncate to its default top-k of 50 tokens (HELM's request has no top-k), which makes sampled
outputs and their log-probabilities those of a truncated distribution (the sampled-token estimate of the
entropy then runs low). The cache file name carries the sampling rule, so answers sampled under another rule
are never served.

Sampling is reproducible: each request seeds torch from its own contents (prompt, decoding parameters and the
request's `random` field), under a lock so that HELM's parallel threads cannot interleave the random stream.

The checkpoint is validated when the client is created (helm_plugins.models.checkpoints): a truncated or
garbled weights file, shapes that disagree with config.json or non-finite weights fail the run at once, naming
the file, instead of failing every request through HELM's retries.
"""

import hashlib
import json
import threading
from dataclasses import asdict, replace
from pathlib import Path
from typing import Optional

from helm.clients.huggingface_client import HuggingFaceClient, HuggingFaceServerFactory
from helm.common.cache import CacheConfig, MongoCacheConfig, SqliteCacheConfig
from helm.common.request import Request, RequestResult
from helm.tokenizers.tokenizer import Tokenizer

from helm_plugins.models.checkpoints import PYTORCH_BIN, SAFETENSORS, validate_checkpoint

WEIGHT_FILES = (SAFETENSORS, PYTORCH_BIN)
SAMPLING_RULE = "fulldist"  # in the cache name: no implicit top-k


def weights_fingerprint(checkpoint_dir: Path) -> str:
    for name in WEIGHT_FILES:
        path = Path(checkpoint_dir) / name
        if path.is_file():
            return hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    raise FileNotFoundError(
        f"no weights ({' or '.join(WEIGHT_FILES)}) in {checkpoint_dir}; "
        "rebuild the embedded model with `helm-plugins pretrain --recipe tiny-default`"
    )


def cache_config_for_weights(cache_config: CacheConfig, fingerprint: str) -> CacheConfig:
    if isinstance(cache_config, SqliteCacheConfig):
        path = Path(cache_config.path)
        return replace(cache_config, path=str(path.with_name(f"{path.stem}-{fingerprint}{path.suffix}")))
    if isinstance(cache_config, MongoCacheConfig):
        return replace(cache_config, collection_name=f"{cache_config.collection_name}-{fingerprint}")
    return cache_config  # disabled cache: nothing to separate


class LocalCheckpointClient(HuggingFaceClient):
    _sampling_lock = threading.Lock()
    # transformers' loading sets process-wide state (e.g. weight tying and initialisation switches), so a load in
    # one of HELM's threads must not overlap the validation of a client created in another
    _loading_lock = threading.Lock()

    def __init__(
        self,
        cache_config: CacheConfig,
        tokenizer: Tokenizer,
        pretrained_model_name_or_path: str,
        end_of_text_token: Optional[str] = None,
        apply_chat_template: Optional[bool] = None,
        **kwargs,
    ):
        fingerprint = weights_fingerprint(Path(pretrained_model_name_or_path))
        with self._loading_lock:
            validate_checkpoint(Path(pretrained_model_name_or_path))  # at creation: HELM does not retry that
        super().__init__(
            cache_config=cache_config_for_weights(cache_config, f"{fingerprint}-{SAMPLING_RULE}"),
            tokenizer=tokenizer,
            pretrained_model_name_or_path=pretrained_model_name_or_path,
            end_of_text_token=end_of_text_token,
            apply_chat_template=apply_chat_template,
            **kwargs,
        )

    def make_request(self, request: Request) -> RequestResult:
        import torch

        key = json.dumps({k: v for k, v in asdict(request).items() if k != "multimodal_prompt"}, sort_keys=True, default=str)
        with self._loading_lock:  # loads the model once (HELM's factory keeps it), before any cache lookup
            server = HuggingFaceServerFactory.get_server(
                helm_model_name=request.model,
                pretrained_model_name_or_path=self._pretrained_model_name_or_path,
                wrapped_tokenizer=self._wrapped_tokenizer,
                **self._kwargs,
            )
            server.model.generation_config.top_k = 0  # 0 disables transformers' default top-k warper
        with self._sampling_lock:
            torch.manual_seed(int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "little"))
            return super().make_request(request)
