"""The speculative HELM deployment samples what the plain deployment samples (same processed distribution, same
log-probabilities), gives its greedy outputs, and needs fewer passes on reruns."""

import pytest
import torch
from helm.benchmark.model_deployment_registry import get_model_deployment
from helm.common.cache import BlackHoleCacheConfig
from helm.common.request import Request
from helm.tokenizers.huggingface_tokenizer import HuggingFaceTokenizer
from transformers import AutoModelForCausalLM, AutoTokenizer

import helm_plugins.plugin  # noqa: F401
from helm_plugins.models.clients import LocalCheckpointClient
from helm_plugins.models.registration import TINY_DEFAULT, TINY_DEFAULT_DIR, TINY_DEFAULT_SPECULATIVE
from helm_plugins.runners.speculative.clients import SuffixSpeculativeClient
from helm_plugins.runners.speculative.decoding import Sampling
from helm_plugins.synthetic.arithmetic import generate_arithmetic_problems
from helm_plugins.synthetic.prompts import render_arithmetic_prompt


@pytest.fixture(scope="module")
def client():
    return SuffixSpeculativeClient(BlackHoleCacheConfig(), tokenizer=None, pretrained_model_name_or_path=str(TINY_DEFAULT_DIR),
                                   end_of_text_token="<|endoftext|>")


@pytest.fixture(scope="module")
def plain_client():
    return LocalCheckpointClient(
        BlackHoleCacheConfig(),
        HuggingFaceTokenizer(BlackHoleCacheConfig(), TINY_DEFAULT, pretrained_model_name_or_path=str(TINY_DEFAULT_DIR)),
        str(TINY_DEFAULT_DIR), end_of_text_token="<|endoftext|>", apply_chat_template=False, device="cpu",
    )


def _request(prompt, deployment=TINY_DEFAULT_SPECULATIVE, **kwargs):
    settings = {"temperature": 0.0, "max_tokens": 80, "stop_sequences": ["\n"], **kwargs}
    return Request(model=deployment.replace("-speculative", ""), model_deployment=deployment, prompt=prompt, **settings)


def test_greedy_completions_and_logprobs_match_the_plain_client(client, plain_client):
    for problem in generate_arithmetic_problems(2, 5, "test"):
        prompt = render_arithmetic_prompt(problem)
        expected = plain_client.make_request(_request(prompt, TINY_DEFAULT)).completions[0]
        result = client.make_request(_request(prompt, num_completions=2))
        assert [c.text for c in result.completions] == [expected.text, expected.text]
        assert [t.text for t in result.completions[0].tokens] == [t.text for t in expected.tokens]
        assert [t.logprob for t in result.completions[0].tokens] == pytest.approx([t.logprob for t in expected.tokens], abs=1e-4)


def test_sampled_logprobs_are_those_of_the_plain_clients_processed_distribution(client, plain_client):
    """At temperature 0.7 and top_p 0.9 both clients report, for every sampled token, its log-probability under
    softmax(logits / 0.7) truncated to the top 0.9 of the mass; the speculative client's samples never fall outside
    that nucleus."""
    model = AutoModelForCausalLM.from_pretrained(TINY_DEFAULT_DIR, local_files_only=True).eval()
    tokenizer = AutoTokenizer.from_pretrained(TINY_DEFAULT_DIR, local_files_only=True)
    by_text = {}
    for token_id in range(len(tokenizer)):
        by_text.setdefault(tokenizer.decode([token_id]), []).append(token_id)
    sampling = Sampling(0.7, 0.9)
    prompt = render_arithmetic_prompt(generate_arithmetic_problems(1, 3, "test")[0])
    gaps = {}
    for name, each, deployment in ((" plain", plain_client, TINY_DEFAULT), ("speculative", client, TINY_DEFAULT_SPECULATIVE)):
        settings = {"temperature": 0.7, "top_p": 0.9, "max_tokens": 24, "num_completions": 4, "stop_sequences": []}
        gaps[name] = []
        for completion in each.make_request(_request(prompt, deployment, **settings)).completions:
            ids = tokenizer.encode(prompt)
            for token in completion.tokens:
                if len(by_text[token.text]) != 1:
                    break  # a text several ids decode to: the rest cannot be re-scored
                with torch.no_grad():
                    log_probs = sampling.log_probs(model(torch.tensor([ids])).logits[0, -1:])[0]
                ids.append(by_text[token.text][0])
                gaps[name].append(token.logprob - log_probs[ids[-1]].item())
    assert min(len(values) for values in gaps.values()) >= 40
    for values in gaps.values():
        assert max(abs(gap) for gap in values) < 1e-4  # a temperature-1 or untruncated log-probability is off by > 0.01


def test_repeated_prompts_need_fewer_passes(client):
    prompt = render_arithmetic_prompt(generate_arithmetic_problems(1, 9, "test")[0])
    first = client._generate(_request(prompt, num_completions=1))["completions"][0]
    again = client._generate(_request(prompt, num_completions=1))["completions"][0]
    assert again["text"] == first["text"] and again["passes"] < first["passes"] / 2


def test_deployment_is_registered_and_unsupported_requests_fail_clearly(client):
    assert get_model_deployment(TINY_DEFAULT_SPECULATIVE).client_spec.class_name.endswith("SuffixSpeculativeClient")
    with pytest.raises(Exception, match="plain completion requests only"):
        client.make_request(_request("x", echo_prompt=True))


def test_completions_are_fixed_by_the_request_not_by_what_was_drafted(client):
    prompt, settings = "<|endoftext|>Once upon a time, the little fox", {"temperature": 1.0, "stop_sequences": [], "max_tokens": 24}
    request = _request(prompt, num_completions=3, random="r1", **settings)
    first = client._generate(request)["completions"]  # the prompt's tree is empty at first
    again = client._generate(request)["completions"]  # now it drafts from the three completions above
    assert [c["text"] for c in again] == [c["text"] for c in first]
    assert sum(c["passes"] for c in again) < sum(c["passes"] for c in first)
    other = client._generate(_request(prompt, num_completions=3, random="r2", **settings))["completions"]
    assert [c["text"] for c in other] != [c["text"] for c in first]
