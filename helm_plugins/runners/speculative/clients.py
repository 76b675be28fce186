"""A HELM client that decodes a local Hugging Face causal LM with lossless suffix-tree speculation.

Drafts come from the request's own prompt and output and from the earlier completions of the same prompt (a
per-prompt tree, DAS's per-problem scope), so repeated prompts (num_outputs > 1, reruns without cache) decode
in fewer forward passes. Deployed as `helm-plugins/tiny-default-speculative` for the embedded model.

It samples the distribution the plain deployment (helm_plugins.models.clients.LocalCheckpointClient, HELM's
Hugging Face client without transformers' default top-k) samples: logits / temperature (1e-7 for temperature
0, as HELM sends), then the request's top_p; token log-probabilities are those of that processed distribution,
as the plain client returns them. Greedy outputs equal the plain client's. Each completion's tokens are fixed
by a seed derived from the prompt, the decoding parameters, the request's `random` field and the completion's
index (per-position Gumbel-max sampling, see decoding.py), so they do not depend on what was drafted.
"""

import hashlib
import threading
from pathlib import Path
from typing import Dict, List, Optional

from helm.clients.client import CachingClient, truncate_sequence
from helm.common.cache import CacheConfig
from helm.common.request import GeneratedOutput, Request, RequestResult, Token, wrap_request_time
from helm.proxy.retry import NonRetriableException
from helm.tokenizers.tokenizer import Tokenizer

from helm_plugins.models.checkpoints import validate_checkpoint
from helm_plugins.models.clients import SAMPLING_RULE, cache_config_for_weights, weights_fingerprint
from helm_plugins.runners.speculative.budget import UniformBudget
from helm_plugins.runners.speculative.decoding import SpeculativeDecoder
from helm_plugins.runners.speculative.drafters import SuffixDrafter


class SuffixSpeculativeClient(CachingClient):
    def __init__(
        self,
        cache_config: CacheConfig,
        tokenizer: Tokenizer,
        pretrained_model_name_or_path: str,
        end_of_text_token: Optional[str] = None,
        max_depth: int = 32,
        draft_tokens: int = 8,
        completions_kept: int = 64,
    ):
        fingerprint = weights_fingerprint(Path(pretrained_model_name_or_path))
        validate_checkpoint(Path(pretrained_model_name_or_path))  # a broken checkpoint fails here, naming the file
        super().__init__(cache_config=cache_config_for_weights(cache_config, f"{fingerprint}-speculative-{SAMPLING_RULE}-seeded"))
        self.path = pretrained_model_name_or_path
        self.end_of_text_token = end_of_text_token
        self.budget = UniformBudget(draft_tokens)
        self.drafter = SuffixDrafter(
            "das", ["request", "problem"], max_depth=max_depth, window_epochs=1, rollouts_per_epoch=completions_kept
        )
        self._lock = threading.Lock()
        self._model = None
        self._tokenizer = None

    def _load(self):
        if self._model is None:
            from transformers import AutoModelForCausalLM, AutoTokenizer

            self._model = AutoModelForCausalLM.from_pretrained(self.path, local_files_only=True).eval()
            self._tokenizer = AutoTokenizer.from_pretrained(self.path, local_files_only=True)

    def _generate(self, request: Request) -> Dict:
        self._load()
        tokenizer = self._tokenizer
        prompt = tokenizer.encode(request.prompt)
        stops = [tokenizer.eos_token_id] + [
            ids[0] for ids in (tokenizer.encode(stop) for stop in request.stop_sequences) if len(ids) == 1
        ]
        decoder = SpeculativeDecoder(self._model, request.temperature, request.max_tokens, stops, request.top_p)
        key = hashlib.sha256(request.prompt.encode()).hexdigest()
        parameters = f"{key}:{request.temperature}:{request.top_p}:{request.max_tokens}:{request.random}"
        completions: List[Dict] = []
        for index in range(request.num_completions):
            seed = int(hashlib.sha256(f"{parameters}:{index}".encode()).hexdigest()[:15], 16)
            rollout = decoder.generate(key, prompt, self.drafter, self.budget, seed)
            self.drafter.finish_epoch([(key, rollout.tokens)])  # later completions of this prompt draft from it
            completions.append(
                {
                    "text": tokenizer.decode(rollout.tokens),
                    "tokens": [tokenizer.decode([t]) for t in rollout.tokens],
                    "logprobs": rollout.logprobs,
                    "passes": rollout.passes,
                }
            )
        return {"completions": completions}

    def make_request(self, request: Request) -> RequestResult:
        if request.embedding or request.echo_prompt or request.messages:
            raise NonRetriableException(
                "the speculative client supports plain completion requests only (no echo_prompt, messages or "
                "embeddings)"
            )
        raw_request = {
            "engine": request.model_engine,
            "prompt": request.prompt,
            "temperature": request.temperature,
            "top_p": request.top_p,
            "num_completions": request.num_completions,
            "max_tokens": request.max_tokens,
            "stop_sequences": request.stop_sequences,
        }

        def do_it() -> Dict:
            with self._lock:  # the drafter's trees are shared across requests
                return self._generate(request)

        response, cached = self.cache.get(CachingClient.make_cache_key(raw_request, request), wrap_request_time(do_it))
        completions = []
        for completion in response["completions"]:
            tokens = [Token(text, logprob) for text, logprob in zip(completion["tokens"], completion["logprobs"])]
            output = GeneratedOutput(text=completion["text"], logprob=sum(completion["logprobs"]), tokens=tokens)
            completions.append(truncate_sequence(output, request, end_of_text_token=self.end_of_text_token))
        return RequestResult(
            success=True,
            cached=cached,
            request_time=response["request_time"],
            request_datetime=response.get("request_datetime"),
            completions=completions,
            embedding=[],
        )
