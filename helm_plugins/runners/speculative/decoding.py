"""Lossless speculative decoding of a Hugging Face causal LM with a KV cache, one sequence or a lockstep batch.

Sampling is seeded per position: the token at output position t of a rollout with seed s is
argmax_v (log p_t(v) + g_v), the Gumbel-max trick with noise g drawn from a generator seeded by (s, t) only.
That is an exact sample of p_t, and it does not depend on how many forward passes produced p_t, so a rollout
is the same token sequence with any drafter, with no drafter, alone or in a batch.

Each step runs ONE forward pass over [last emitted token] + draft and verifies the draft left to right: at
each draft position the token is drawn as above (the argmax at temperature 0); a draft token is accepted iff
it equals the drawn token, and the first mismatch emits the drawn token instead; if every draft token is
accepted, a bonus token is drawn from the next distribution. A model-free draft token x is so accepted with
probability p(x) and on rejection the emitted token follows p restricted to tokens other than x, renormalised:
the acceptance rule of vLLM's model-free speculation (draft probability 1), with shared randomness.
Rejected draft positions are cropped from the cache (masked out in a batch). Every step emits accepted + 1
tokens for one pass.

The distribution sampled is the one HELM's Hugging Face client samples through `generate` with no top-k:
logits / temperature (HELM sends 1e-7 for temperature 0), then top-p truncation by transformers'
`TopPLogitsWarper`; output log-probabilities are those of that processed distribution, as that client returns.
"""

import inspect
import time
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

import torch
from transformers import DynamicCache, PreTrainedModel, TopPLogitsWarper

from helm_plugins.runners.speculative.budget import Budget, BudgetRequest, UniformBudget
from helm_plugins.runners.speculative.drafters import Drafter, DraftRequest, NoDrafter

HELM_GREEDY_TEMPERATURE = 1e-7  # what HELM's Hugging Face client sends to `generate` for temperature 0
_MASK64 = (1 << 64) - 1


def cache_argument(model: PreTrainedModel) -> str:
    """The keyword that passes a KV cache to `model`'s forward: `cache` in transformers releases that renamed it,
    `past_key_values` (deprecated there) in earlier ones."""
    return "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"


def position_seed(seed: int, position: int) -> int:
    """A 63-bit seed for output position `position` of the rollout seeded `seed` (splitmix64 of both)."""
    z = (int(seed) * 0x9E3779B97F4A7C15 + int(position) * 0xD1B54A32D192ED03 + 1) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return (z ^ (z >> 31)) >> 1


def gumbel_noise(seed: int, position: int, size: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(position_seed(seed, position))
    uniform = torch.rand(size, generator=generator, dtype=torch.float64)
    return -torch.log(-torch.log(uniform))  # uniform == 0 gives -inf: that token is never drawn


@dataclass(frozen=True)
class Sampling:
    """The decoding distribution: temperature (0: greedy) and top-p, processed as HELM's Hugging Face client does."""

    temperature: float = 1.0
    top_p: float = 1.0

    def __post_init__(self):
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")

    def log_probs(self, logits: torch.Tensor) -> torch.Tensor:
        """Log-probabilities of the processed distribution, rows of `logits` ([n, vocab]) independently."""
        scores = logits.float() / (self.temperature or HELM_GREEDY_TEMPERATURE)
        if self.top_p < 1:
            scores = TopPLogitsWarper(self.top_p)(None, scores)
        return torch.log_softmax(scores, dim=-1)

    def draw(self, logits: torch.Tensor, log_probs: torch.Tensor, seed: int, position: int) -> int:
        """The token at `position` of the rollout seeded `seed`, given that position's logits ([vocab])."""
        if self.temperature == 0:
            return int(logits.argmax())
        return int((log_probs.double() + gumbel_noise(seed, position, log_probs.shape[-1])).argmax())


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
    seed: int = 0  # seeds the sampling noise of each output position
    tokens: List[int] = field(default_factory=list)
    passes: int = 0  # decoding forward passes (the prompt's prefill pass excluded)
    drafted: int = 0
    accepted: int = 0  # accepted draft tokens kept in the output (none past a stop token)
    logprobs: List[float] = field(default_factory=list)  # of each output token under the processed distribution
    drafter_seconds: float = 0.0
    seconds: float = 0.0  # wall time of its own decoding (sequential decoding only)
    finished_by: str = ""  # "stop", "length" or "context"


@dataclass
class BatchResult:
    rollouts: List[Rollout]
    seconds: float  # wall time of the whole lockstep batch, prefill, drafting and verification included
    passes: int  # batched forward passes after the prefill: the makespan in passes


class SpeculativeDecoder:
    def __init__(
        self,
        model: PreTrainedModel,
        temperature: float = 1.0,
        max_new_tokens: int = 100,
        stop_tokens: Sequence[int] = (),
        top_p: float = 1.0,
    ):
        self.sampling = Sampling(temperature, top_p)
        self.model = model.eval()
        self.temperature = temperature
        self.max_new_tokens = max_new_tokens
        self.stop_tokens = set(stop_tokens)
        self.context_length = model.config.max_position_embeddings
        self._cache_argument = cache_argument(model)

    def _forward(self, tokens: List[int], cache: DynamicCache) -> torch.Tensor:
        ids = torch.tensor([tokens])
        mask = torch.ones(1, cache.get_seq_length() + len(tokens), dtype=torch.long)
        return self.model(input_ids=ids, attention_mask=mask, use_cache=True, **{self._cache_argument: cache}).logits[0]

    def _verify(self, draft: List[int], logits: torch.Tensor, seed: int, position: int) -> Tuple[List[int], torch.Tensor]:
        """The emitted tokens (the accepted draft prefix, then the drawn token at the first mismatch or the bonus
        token) for a draft starting at output `position`, and the processed log-probabilities of the rows."""
        log_probs = self.sampling.log_probs(logits[: len(draft) + 1])
        emitted = []
        for index, token in enumerate(draft):
            drawn = self.sampling.draw(logits[index], log_probs[index], seed, position + index)
            if drawn != token:
                return emitted + [drawn], log_probs
            emitted.append(token)
        return emitted + [self.sampling.draw(logits[len(draft)], log_probs[len(draft)], seed, position + len(draft))], log_probs

    def _room(self, rollout: Rollout, cached: int) -> Optional[int]:
        """How many draft tokens fit (None: the rollout is finished by length or context). `cached` counts the
        positions in the cache before the pending token."""
        new_room = self.max_new_tokens - len(rollout.tokens)
        context_room = self.context_length - cached - 1  # positions left after the pending token
        if new_room <= 0 or context_room < 0:
            rollout.finished_by = "length" if new_room <= 0 else "context"
            return None
        return min(new_room - 1, context_room)

    def _emit(self, rollout: Rollout, request: DraftRequest, drafter: Drafter, draft: List[int],
              emitted: List[int], log_probs: torch.Tensor) -> int:
        """Books one pass's emitted tokens (cut at a stop token or the length limit); returns accepted drafts."""
        accepted = len(emitted) - 1
        rollout.passes += 1
        rollout.drafted += len(draft)
        kept = len(emitted)
        for index, token in enumerate(emitted):
            if token in self.stop_tokens:
                kept = index + 1
                rollout.finished_by = "stop"
                break
        kept = min(kept, self.max_new_tokens - len(rollout.tokens))
        rollout.accepted += min(accepted, kept)
        emitted = emitted[:kept]
        rollout.logprobs.extend(log_probs[range(len(emitted)), emitted].tolist())
        rollout.tokens.extend(emitted)
        drafter.accept(request, emitted)
        return accepted

    def _check_prompt(self, prompt: Sequence[int]) -> None:
        if not prompt:
            raise ValueError("the prompt is empty: a rollout needs at least one prompt token")
        if len(prompt) >= self.context_length:
            raise ValueError(f"the prompt has {len(prompt)} tokens; the model's context holds {self.context_length}")

    @torch.no_grad()
    def generate(
        self,
        problem_id: object,
        prompt: List[int],
        drafter: Drafter = None,
        budget: Budget = None,
        seed: int = 0,
    ) -> Rollout:
        """One rollout decoded alone; `seed` fixes its tokens (the same with any drafter)."""
        drafter = drafter or NoDrafter()
        budget = budget or UniformBudget(0)
        self._check_prompt(prompt)
        rollout = Rollout(problem_id, list(prompt), seed)
        request = DraftRequest(problem_id, list(prompt))
        drafter.start(request)
        start = time.perf_counter()
        cache = DynamicCache()
        if len(prompt) > 1:
            self._forward(prompt[:-1], cache)
        pending = prompt[-1]  # the last token, not yet in the cache
        while True:
            room = self._room(rollout, cache.get_seq_length())
            if room is None:
                break
            draft_start = time.perf_counter()
            draft = propose_draft(drafter, budget, request, room, rollout.passes)
            rollout.drafter_seconds += time.perf_counter() - draft_start
            logits = self._forward([pending] + draft, cache)
            emitted, log_probs = self._verify(draft, logits, seed, len(rollout.tokens))
            accepted = self._emit(rollout, request, drafter, draft, emitted, log_probs)
            if accepted < len(draft):
                cache.crop(-(len(draft) - accepted))  # negative: drop that many positions
            pending = rollout.tokens[-1]
            if rollout.finished_by:
                break
        rollout.seconds = time.perf_counter() - start
        budget.observe(problem_id, len(rollout.tokens), rollout.passes, rollout.drafted)
        return rollout

    @torch.no_grad()
    def generate_batch(
        self,
        jobs: Sequence[Tuple[object, List[int], int]],
        drafter: Drafter = None,
        budget: Budget = None,
    ) -> BatchResult:
        """The rollouts of `jobs` ((problem_id, prompt, seed) each) decoded as one lockstep batch, as a batched
        engine runs an RL step: prompts left-padded in one prefill, then every pass verifies every unfinished
        sequence's draft (ragged, right-padded to the longest) in one forward pass; finished sequences leave the
        batch. Rejected draft positions stay in the cache, masked out (compacted when they pile up). Tokens
        equal `generate`'s for the same seeds (up to floating-point ties between batched and single passes)."""
        drafter = drafter or NoDrafter()
        budget = budget or UniformBudget(0)
        for _, prompt, _ in jobs:
            self._check_prompt(prompt)
        start = time.perf_counter()
        rollouts = [Rollout(problem_id, list(prompt), seed) for problem_id, prompt, seed in jobs]
        requests = [DraftRequest(problem_id, list(prompt)) for problem_id, prompt, _ in jobs]
        for request in requests:
            drafter.start(request)
        cache = DynamicCache()
        width = max(len(prompt) for _, prompt, _ in jobs) - 1
        mask = torch.zeros(len(jobs), width, dtype=torch.long)
        if width > 0:
            ids = torch.zeros(len(jobs), width, dtype=torch.long)
            for row, (_, prompt, _) in enumerate(jobs):
                if len(prompt) > 1:
                    ids[row, width - len(prompt) + 1 :] = torch.tensor(prompt[:-1])
                    mask[row, width - len(prompt) + 1 :] = 1
            positions = (mask.cumsum(1) - 1).clamp(min=0)
            self.model(
                input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True, **{self._cache_argument: cache}
            )
        used = [len(prompt) - 1 for _, prompt, _ in jobs]  # valid cache positions per sequence
        active = list(range(len(jobs)))  # batch row -> rollout index
        passes = 0
        while True:
            drafts, keep = {}, []
            for row, index in enumerate(active):
                room = self._room(rollouts[index], used[index])
                if room is None:
                    continue
                keep.append(row)
                draft_start = time.perf_counter()
                drafts[index] = propose_draft(drafter, budget, requests[index], room, rollouts[index].passes)
                rollouts[index].drafter_seconds += time.perf_counter() - draft_start
            if len(keep) < len(active):
                active, mask = self._select(cache, mask, active, keep)
            if not active:
                break
            width = 1 + max(len(drafts[index]) for index in active)
            ids = torch.zeros(len(active), width, dtype=torch.long)
            new_mask = torch.zeros(len(active), width, dtype=torch.long)
            positions = torch.zeros(len(active), width, dtype=torch.long)
            for row, index in enumerate(active):
                tokens = [rollouts[index].tokens[-1] if rollouts[index].tokens else jobs[index][1][-1]] + drafts[index]
                ids[row, : len(tokens)] = torch.tensor(tokens)
                new_mask[row, : len(tokens)] = 1
                positions[row] = (used[index] + torch.arange(width)).clamp(max=self.context_length - 1)
            logits = self.model(
                input_ids=ids,
                attention_mask=torch.cat([mask, new_mask], dim=1),
                position_ids=positions,
                use_cache=True,
                **{self._cache_argument: cache},
            ).logits
            passes += 1
            finished = []
            for row, index in enumerate(active):
                draft = drafts[index]
                emitted, log_probs = self._verify(draft, logits[row], rollouts[index].seed, len(rollouts[index].tokens))
                accepted = self._emit(rollouts[index], requests[index], drafter, draft, emitted, log_probs)
                new_mask[row, 1 + accepted :] = 0  # rejected drafts and padding
                used[index] += 1 + accepted
                if rollouts[index].finished_by:
                    finished.append(row)
            mask = torch.cat([mask, new_mask], dim=1)
            if finished:
                active, mask = self._select(cache, mask, active, [r for r in range(len(active)) if r not in finished])
            if active and mask.shape[1] > 2 * int(mask.sum(1).max()) + 32:
                mask = self._compact(cache, mask)
            if not active:
                break
        seconds = time.perf_counter() - start
        for rollout in rollouts:
            budget.observe(rollout.problem_id, len(rollout.tokens), rollout.passes, rollout.drafted)
        return BatchResult(rollouts, seconds, passes)

    @staticmethod
    def _select(cache: DynamicCache, mask: torch.Tensor, active: List[int], keep: List[int]):
        rows = torch.tensor(keep, dtype=torch.long)
        if keep and cache.get_seq_length() > 0:
            cache.batch_select_indices(rows)
        return [active[row] for row in keep], mask[rows]

    @staticmethod
    def _compact(cache: DynamicCache, mask: torch.Tensor) -> torch.Tensor:
        """Drops masked cache positions, keeping each sequence's valid positions in order (left-padded)."""
        counts = mask.sum(1)
        width = int(counts.max())
        index = torch.zeros(mask.shape[0], width, dtype=torch.long)
        new_mask = torch.zeros(mask.shape[0], width, dtype=torch.long)
        for row in range(mask.shape[0]):
            valid = mask[row].nonzero()[:, 0]
            index[row, width - len(valid) :] = valid
            new_mask[row, width - len(valid) :] = 1
        for layer in cache.layers:
            gather = index[:, None, :, None].expand(-1, layer.keys.shape[1], -1, layer.keys.shape[3])
            layer.keys = layer.keys.gather(2, gather)
            layer.values = layer.values.gather(2, gather)
        return new_mask


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
    passes_cache = {cache_argument(model): cache}
    model(input_ids=torch.randint(0, vocab, (1, context)), use_cache=True, **passes_cache)
    medians = []
    for n in sizes:
        ids = torch.randint(0, vocab, (1, n))
        mask = torch.ones(1, context + n, dtype=torch.long)
        timings = []
        for repeat in range(repeats + 3):  # the first three warm up
            start = time.perf_counter()
            model(input_ids=ids, attention_mask=mask, use_cache=True, **passes_cache)
            timings.append(time.perf_counter() - start)
            cache.crop(-n)
        medians.append(float(np.median(timings[3:])))
    c_tok, c_base = np.polyfit(np.array(sizes, dtype=float), np.array(medians), 1)
    return float(c_base), float(max(c_tok, 0.0))
