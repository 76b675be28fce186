"""The embedded model's HELM client samples from the full distribution: each sampled token's reported
log-probability is its log-probability under the whole softmax at the request's temperature, so the mean
sampled-token NLL estimates the full entropy H_t without bias. (Under transformers' default top-k of 50 the
reported log-probabilities are those of the renormalised top 50, higher than the full ones.)"""

import numpy as np
import torch
from helm.common.cache import BlackHoleCacheConfig
from helm.common.request import Request
from helm.tokenizers.huggingface_tokenizer import HuggingFaceTokenizer
from transformers import AutoModelForCausalLM, AutoTokenizer

from helm_plugins.models.clients import LocalCheckpointClient
from helm_plugins.models.registration import TINY_DEFAULT, TINY_DEFAULT_DIR


def rescore(model, tokenizer, prompt: str, completion_tokens, tau: float):
    """(reported - full-softmax log-probability, reported NLL, exact entropy) at each sampled token, while its text
    maps back to one token id."""
    by_text = {}
    for token_id in range(len(tokenizer)):
        by_text.setdefault(tokenizer.decode([token_id]), []).append(token_id)
    ids, rows = tokenizer.encode(prompt), []
    for token in completion_tokens:
        if len(by_text[token.text if hasattr(token, "text") else token["text"]]) != 1:
            break  # a decoded text shared by several ids: the rest of the sample cannot be re-scored
        text, logprob = (token.text, token.logprob) if hasattr(token, "text") else (token["text"], token["logprob"])
        with torch.no_grad():
            log_p = torch.log_softmax(model(torch.tensor([ids])).logits[0, -1] / tau, -1)
        ids.append(by_text[text][0])
        rows.append((logprob - log_p[ids[-1]].item(), -logprob, -(log_p.exp() * log_p).sum().item()))
    return rows


def test_sampled_logprobs_are_those_of_the_full_distribution():
    client = LocalCheckpointClient(
        BlackHoleCacheConfig(),
        HuggingFaceTokenizer(BlackHoleCacheConfig(), TINY_DEFAULT, pretrained_model_name_or_path=str(TINY_DEFAULT_DIR)),
        str(TINY_DEFAULT_DIR), end_of_text_token="<|endoftext|>", apply_chat_template=False, device="cpu",
    )
    model = AutoModelForCausalLM.from_pretrained(TINY_DEFAULT_DIR, local_files_only=True).eval()
    tokenizer = AutoTokenizer.from_pretrained(TINY_DEFAULT_DIR, local_files_only=True)
    prompt = "<|endoftext|>Once upon a time, the little fox"
    rows = []
    for tau in (1.0, 0.7):
        result = client.make_request(Request(model=TINY_DEFAULT, model_deployment=TINY_DEFAULT, prompt=prompt,
                                             temperature=tau, num_completions=8, max_tokens=16))
        assert result.success, result.error
        for completion in result.completions:
            rows += rescore(model, tokenizer, prompt, completion.tokens, tau)
    gaps, nll, entropy = (list(column) for column in zip(*rows))
    assert len(gaps) >= 200
    np.testing.assert_allclose(gaps, 0, atol=1e-4)
    # sampled-token NLL and exact entropy at the same positions: equal in expectation (about 250 tokens)
    assert abs(np.mean(nll) - np.mean(entropy)) < 3 * np.std(np.subtract(nll, entropy)) / np.sqrt(len(nll))
