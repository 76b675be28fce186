"""Lossless speculative decoding of a Hugging Face causal LM with a KV cache.

Each step runs ONE forward pass over [last emitted token] + draft and verifies the draft left to right:
- greedy (temperature 0): a draft token is accepted iff it is the argmax;
- sampling: a model-free draft token x is accepted with probability p(x); at the first rejection the token is
  drawn from the residual p with x removed and renormalised; if every draft token is accepted, a bonus token
  is drawn from the next distribution. Then P(emit y) = p(x) 1[y = x] + (1 - p(x)) p(y) 1[y != x] / (1 - p(x))
  = p(y): outputs are distributed exactly as without speculation.
Rejected draft positions are cropped from the cache. Every step emits accepted + 1 tokens for one pass.
"""

import time
from dataclasses import dataclass, field
from typing import List, Optional, Sequence

import torch
from transformers import DynamicCache, PreTrainedModel

from helm_plugins.runners.speculative.budget import Budget, BudgetRequest, UniformBudget
from helm_plugins.runners.speculative.drafters import Drafter, DraftRequest, NoDrafter


def propose_draft(drafter: Drafter, budget: Budget, request: DraftRequest, room: int, passes: int) -> List[int]:
    """The draft for the next step: the budget caps the proposal (no proposal at all when it is zero), then
    caps it again knowing how long a context suffix the drafter matched; `room` is what length and context
    allow, `passes` how many decoding passes the request has run."""
    generated = len(request.output)
    cap = min(budget.max_draft(BudgetRequest(request.problem_id, generated, None, passes)), room)
    if cap <= 0:
        return []
    proposal = drafter.propose(request, cap)
    matched = BudgetRequest(request.problem_id, generated, proposal.match_length, passes)
    return proposal.tokens[: budget.max_draft(matched)]


@dataclass
class Rollout:
    problem_id: object
    prompt: List[int]
    tokens: List[int] = field(default_factory=list)
    passes: int = 0  # decoding forward passes (the prompt's prefill pass excluded)
    drafted: int = 0
    accepted: int = 0  # accepted draft tokens kept in the output (none past a stop token)
    logprobs: List[float] = field(default_factory=list)  # of each output token under the model (temperature 1)
    drafter_seconds: float = 0.0
    seconds: float = 0.0
    finished_by: str = ""  # "stop", "length" or "context"


class SpeculativeDecoder:
    def __init__(
        self,
        model: PreTrainedModel,
        temperature: float = 1.0,
        max_new_tokens: int = 100,
        stop_tokens: Sequence[int] = (),
    ):
        if temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {temperature}")
        self.model = model.eval()
        self.temperature = temperature
        self.max_new_tokens = max_new_tokens
        self.stop_tokens = set(stop_tokens)
        self.context_length = model.config.max_position_embeddings

    def _distribution(self, logits: torch.Tensor) -> torch.Tensor:
        if self.temperature == 0:
            return logits
        return torch.softmax(logits.float() / self.temperature, dim=-1)

    def _forward(self, tokens: List[int], cache: DynamicCache) -> torch.Tensor:
        ids = torch.tensor([tokens])
        mask = torch.ones(1, cache.get_seq_length() + len(tokens), dtype=torch.long)
        return self.model(input_ids=ids, attention_mask=mask, past_key_values=cache, use_cache=True).logits[0]

    def _draw(self, distribution: torch.Tensor, generator: Optional[torch.Generator]) -> int:
        if self.temperature == 0:
            return int(distribution.argmax())
        return int(torch.multinomial(distribution, 1, generator=generator))

    def _verify(self, draft: List[int], distributions: torch.Tensor, generator) -> List[int]:
        """The emitted tokens: the accepted draft prefix, then a corrected or bonus token."""
        emitted = []
        for position, token in enumerate(draft):
            distribution = distributions[position]
            if self.temperature == 0:
                if int(distribution.argmax()) != token:
                    return emitted + [int(distribution.argmax())]
            elif torch.rand((), generator=generator).item() >= distribution[token].item():
                residual = distribution.clone()
                residual[token] = 0.0
                if residual.sum() <= 0:  # p(token) was 1 up to rounding: nothing else can be drawn
                    return emitted + [token]
                return emitted + [self._draw(residual / residual.sum(), generator)]
            emitted.append(token)
        return emitted + [self._draw(distributions[len(draft)], generator)]

    @torch.no_grad()
    def generate(
        self,
        problem_id: object,
        prompt: List[int],
        drafter: Drafter = None,
        budget: Budget = None,
        generator: Optional[torch.Generator] = None,
    ) -> Rollout:
        drafter = drafter or NoDrafter()
        budget = budget or UniformBudget(0)
        if not prompt:
            raise ValueError("the prompt is empty: a rollout needs at least one prompt token")
        if len(prompt) >= self.context_length:
            raise ValueError(f"the prompt has {len(prompt)} tokens; the model's context holds {self.context_length}")
        rollout = Rollout(problem_id, list(prompt))
        request = DraftRequest(problem_id, list(prompt))
        drafter.start(request)
        start = time.perf_counter()
        cache = DynamicCache()
        if len(prompt) > 1:
            self._forward(prompt[:-1], cache)
        pending = prompt[-1]  # the last token, not yet in the cache
        while True:
            new_room = self.max_new_tokens - len(rollout.tokens)
            context_room = self.context_length - cache.get_seq_length() - 1  # positions left after `pending`
            if new_room <= 0 or context_room < 0:
                rollout.finished_by = "length" if new_room <= 0 else "context"
                break
            draft_start = time.perf_counter()
            draft = propose_draft(drafter, budget, request, min(new_room - 1, context_room), rollout.passes)
            rollout.drafter_seconds += time.perf_counter() - draft_start
            logits = self._forward([pending] + draft, cache)
            rollout.passes += 1
            emitted = self._verify(draft, self._distribution(logits), generator)
            accepted = len(emitted) - 1
            rollout.drafted += len(draft)
            if accepted < len(draft):
                cache.crop(-(len(draft) - accepted))  # negative: drop that many positions
            kept = len(emitted)
            for index, token in enumerate(emitted):
                if token in self.stop_tokens:
                    kept = index + 1
                    rollout.finished_by = "stop"
                    break
            kept = min(kept, self.max_new_tokens - len(rollout.tokens))
            rollout.accepted += min(accepted, kept)
            emitted = emitted[:kept]
            logprobs = torch.log_softmax(logits[: len(emitted)].float(), dim=-1)
            rollout.logprobs.extend(logprobs[range(len(emitted)), emitted].tolist())
            rollout.tokens.extend(emitted)
            drafter.accept(request, emitted)
            pending = emitted[-1]
            if rollout.finished_by:
                break
        rollout.seconds = time.perf_counter() - start
        budget.observe(problem_id, len(rollout.tokens), rollout.passes, rollout.drafted)
        return rollout


@torch.no_grad()
def fit_pass_cost(
    model: PreTrainedModel, context: int = 64, sizes: Sequence[int] = (1, 2, 4, 8, 16, 32, 64), repeats: int = 31
):
    """(c_base, c_tok) in seconds: a forward pass over n new tokens after `context` cached ones costs about
    c_base + c_tok * n (least squares over `sizes` of the median of `repeats` timed passes, after a warm-up),
    the cost model DAS uses to weigh makespan against drafting."""
    import numpy as np

    vocab = model.config.vocab_size
    cache = DynamicCache()
    model(input_ids=torch.randint(0, vocab, (1, context)), past_key_values=cache, use_cache=True)
    medians = []
    for n in sizes:
        ids = torch.randint(0, vocab, (1, n))
        mask = torch.ones(1, context + n, dtype=torch.long)
        timings = []
        for repeat in range(repeats + 3):  # the first three warm up
            start = time.perf_counter()
            model(input_ids=ids, attention_mask=mask, past_key_values=cache, use_cache=True)
            timings.append(time.perf_counter() - start)
            cache.crop(-n)
        medians.append(float(np.median(timings[3:])))
    c_tok, c_base = np.polyfit(np.array(sizes, dtype=float), np.array(medians), 1)
    return float(c_base), float(max(c_tok, 0.0))
