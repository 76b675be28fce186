"""The speculative HELM deployment gives the embedded model's greedy outputs, in fewer passes on reruns."""

import pytest
from helm.benchmark.model_deployment_registry import get_model_deployment
from helm.common.cache import BlackHoleCacheConfig
from helm.common.request import Request
from transformers import AutoModelForCausalLM, AutoTokenizer

import helm_plugins.plugin  # noqa: F401
from helm_plugins.models.registration import TINY_DEFAULT_DIR, TINY_DEFAULT_SPECULATIVE
from helm_plugins.runners.speculative.clients import SuffixSpeculativeClient
from helm_plugins.synthetic.arithmetic import generate_arithmetic_problems
from helm_plugins.synthetic.prompts import render_arithmetic_prompt


@pytest.fixture(scope="module")
def client():
    return SuffixSpeculativeClient(BlackHoleCacheConfig(), tokenizer=None, pretrained_model_name_or_path=str(TINY_DEFAULT_DIR),
                                   end_of_text_token="<|endoftext|>")


def _request(prompt, **kwargs):
    return Request(model=TINY_DEFAULT_SPECULATIVE, model_deployment=TINY_DEFAULT_SPECULATIVE, prompt=prompt,
                   temperature=0.0, max_tokens=80, stop_sequences=["\n"], **kwargs)


def test_greedy_completions_match_the_plain_model(client):
    model = AutoModelForCausalLM.from_pretrained(TINY_DEFAULT_DIR, local_files_only=True).eval()
    tokenizer = AutoTokenizer.from_pretrained(TINY_DEFAULT_DIR, local_files_only=True)
    for problem in generate_arithmetic_problems(3, 5, "test"):
        prompt = render_arithmetic_prompt(problem)
        ids = tokenizer(prompt, return_tensors="pt").input_ids
        plain = model.generate(ids, max_new_tokens=80, do_sample=False, pad_token_id=tokenizer.eos_token_id,
                               eos_token_id=[tokenizer.eos_token_id, tokenizer.encode("\n")[0]])
        expected = tokenizer.decode(plain[0, ids.shape[1]:]).split("\n")[0]
        result = client.make_request(_request(prompt, num_completions=2))
        assert [c.text for c in result.completions] == [expected, expected]
        assert result.completions[0].tokens and result.completions[0].logprob < 0


def test_repeated_prompts_need_fewer_passes(client):
    prompt = render_arithmetic_prompt(generate_arithmetic_problems(1, 9, "test")[0])
    first = client._generate(_request(prompt, num_completions=1))["completions"][0]
    again = client._generate(_request(prompt, num_completions=1))["completions"][0]
    assert again["text"] == first["text"] and again["passes"] < first["passes"] / 2


def test_deployment_is_registered_and_unsupported_requests_fail_clearly(client):
    assert get_model_deployment(TINY_DEFAULT_SPECULATIVE).client_spec.class_name.endswith("SuffixSpeculativeClient")
    with pytest.raises(Exception, match="plain completion requests only"):
        client.make_request(_request("x", echo_prompt=True))
