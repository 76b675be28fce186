"""Model prices from LiteLLM's price table (its offline copy when LITELLM_LOCAL_MODEL_COST_MAP=True).

One lookup for every capability that reports dollars (judges, structured prompting, agents): a HELM model name is
tried as is and without its organisation (`openai/gpt-4o` -> `gpt-4o`). Models the table does not price (local
models, simulated models) get None, never $0: callers decide whether an unknown price is an error or a gap.
"""

from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class Price:
    input: float  # USD per token
    output: float
    cached_input: float

    def cost(self, prompt: int, completion: int, cached_prompt: int = 0) -> float:
        cached_prompt = min(cached_prompt, prompt)
        return (prompt - cached_prompt) * self.input + cached_prompt * self.cached_input + completion * self.output


def litellm_price(model: str) -> Optional[Price]:
    """LiteLLM's per-token price of a HELM model name; None when the table has no input and output price for it."""
    import litellm

    for name in (model, model.split("/", 1)[-1]):
        entry = litellm.model_cost.get(name)
        if entry and entry.get("input_cost_per_token") is not None and entry.get("output_cost_per_token") is not None:
            cached = entry.get("cache_read_input_token_cost")
            return Price(float(entry["input_cost_per_token"]), float(entry["output_cost_per_token"]),
                         float(cached) if cached is not None else float(entry["input_cost_per_token"]))
    return None


def litellm_cost(model: str, prompt_tokens: Optional[int], completion_tokens: Optional[int]) -> Optional[float]:
    """Dollars of one call; None when the token counts or the model's price are unknown."""
    if prompt_tokens is None or completion_tokens is None:
        return None
    price = litellm_price(model)
    return None if price is None else price.cost(int(prompt_tokens), int(completion_tokens))
