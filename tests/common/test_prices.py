"""One LiteLLM price lookup for every capability: known prices, organisation stripping, unknown models."""

import litellm
import pytest

from helm_plugins.common.prices import Price, litellm_cost, litellm_price


def test_a_priced_model_costs_what_litellm_says_with_or_without_its_organisation():
    expected = sum(litellm.cost_per_token(model="gpt-4o", prompt_tokens=1000, completion_tokens=200))
    assert litellm_cost("openai/gpt-4o", 1000, 200) == pytest.approx(expected, rel=1e-12)
    assert litellm_cost("gpt-4o", 1000, 200) == pytest.approx(expected, rel=1e-12)
    assert litellm_price("openai/gpt-4o").input == litellm.model_cost["gpt-4o"]["input_cost_per_token"]


def test_unknown_models_and_unknown_token_counts_have_no_cost():
    assert litellm_price("helm-plugins/tiny-default") is None
    assert litellm_cost("helm-plugins/tiny-default", 10, 10) is None
    assert litellm_cost("openai/gpt-4o", None, 10) is None


def test_cached_prompt_tokens_are_priced_at_the_cached_rate():
    price = Price(input=2e-6, output=8e-6, cached_input=0.5e-6)
    # 1000 prompt tokens of which 400 cached, 100 completion: 600*2e-6 + 400*0.5e-6 + 100*8e-6
    assert price.cost(1000, 100, cached_prompt=400) == pytest.approx(1.2e-3 + 0.2e-3 + 0.8e-3)
    assert price.cost(10, 0, cached_prompt=50) == pytest.approx(10 * 0.5e-6)  # never more cached than prompt
