"""Dollar cost of a run from its token usage: HAL's formula, LiteLLM's price table, a price file on top.

    cost = Σ_models [(prompt − cached_prompt) · p_in + cached_prompt · p_cached + completion · p_out]

`p_cached` defaults to `p_in` when a model has no cached-input price. A model with no known price is an error
(`UnknownPriceError`) unless the run allows unknown cost, in which case the run's cost is recorded as unknown
(None, shown as `cost_unknown=1`), never as $0. Local models are priced only if a price file says so (the
packaged file prices the embedded model and the simulated models of the scripted agents).

Price file (YAML), prices in USD per million tokens:

    models:
      openai/gpt-4.1-2025-04-14: {input: 2.0, output: 8.0, cached_input: 0.5}
      helm-plugins/tiny-default: {input: 0, output: 0}     # local compute, no API price
"""

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Mapping, Optional

import yaml

from helm_plugins.common.prices import Price, litellm_price

PACKAGED_PRICES = Path(__file__).parent / "prices.yaml"


class UnknownPriceError(ValueError):
    pass


@dataclass
class Usage:
    """Token totals of one model."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_prompt_tokens: int = 0

    def add(self, prompt: int, completion: int, cached_prompt: int = 0) -> None:
        self.calls += 1
        self.prompt_tokens += int(prompt)
        self.completion_tokens += int(completion)
        self.cached_prompt_tokens += int(cached_prompt)

    def merge(self, other: "Usage") -> None:
        self.calls += other.calls
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.cached_prompt_tokens += other.cached_prompt_tokens


def read_price_file(path: Path) -> Dict[str, Price]:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"price file {path} does not exist")
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data.get("models"), dict):
        raise ValueError(f"{path}: expected a `models:` mapping of model name -> {{input, output[, cached_input]}}")
    prices = {}
    for model, entry in data["models"].items():
        where = f"{path}: models.{model}"
        if not isinstance(entry, dict) or "input" not in entry or "output" not in entry:
            raise ValueError(f"{where}: needs `input` and `output` (USD per million tokens)")
        unknown = set(entry) - {"input", "output", "cached_input"}
        if unknown:
            raise ValueError(f"{where}: unknown fields {sorted(unknown)} (allowed: input, output, cached_input)")
        values = {}
        for key in ("input", "output", "cached_input"):
            if key in entry:
                value = entry[key]
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                    raise ValueError(f"{where}.{key}: {value!r} is not a non-negative finite number")
                values[key] = float(value) / 1e6
        prices[model] = Price(values["input"], values["output"], values.get("cached_input", values["input"]))
    return prices


@dataclass
class PriceTable:
    """Price file entries first (packaged file, then the user's), then LiteLLM's table."""

    overrides: Dict[str, Price] = field(default_factory=dict)
    use_litellm: bool = True

    @classmethod
    def load(cls, price_file: Optional[str] = None, use_litellm: bool = True) -> "PriceTable":
        prices = read_price_file(PACKAGED_PRICES)
        if price_file:
            prices.update(read_price_file(Path(price_file)))
        return cls(prices, use_litellm)

    def price(self, model: str) -> Optional[Price]:
        if model in self.overrides:
            return self.overrides[model]
        return litellm_price(model) if self.use_litellm else None


@dataclass
class CostReport:
    cost_usd: Optional[float]  # None: unknown (some model had no price and the run allowed it)
    per_model: Dict[str, Optional[float]]
    unpriced_models: list


def run_cost(usage: Mapping[str, Usage], prices: PriceTable, allow_unknown: bool = False) -> CostReport:
    """HAL's cost of a run; an unpriced model raises unless `allow_unknown` (then the total is None)."""
    per_model: Dict[str, Optional[float]] = {}
    unpriced = []
    for model, totals in sorted(usage.items()):
        price = prices.price(model)
        if price is None:
            unpriced.append(model)
            per_model[model] = None
        else:
            per_model[model] = price.cost(totals.prompt_tokens, totals.completion_tokens, totals.cached_prompt_tokens)
    if unpriced and not allow_unknown:
        raise UnknownPriceError(
            f"no price for {', '.join(unpriced)}: add it to a price file (price_file=..., USD per million tokens: "
            f"models: {{{unpriced[0]}: {{input: ..., output: ...}}}}) or pass allow_unknown_cost=true to record the "
            "cost as unknown"
        )
    total = None if unpriced else sum(v for v in per_model.values() if v is not None)
    return CostReport(total, per_model, unpriced)
