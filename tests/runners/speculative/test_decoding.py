import itertools
from collections import Counter

import pytest
import torch
from scipy.stats import chisquare
from transformers import GPT2Config, GPT2LMHeadModel

from helm_plugins.runners.speculative.budget import UniformBudget
from helm_plugins.runners.speculative.decoding import SpeculativeDecoder
from helm_plugins.runners.speculative.drafters import NoDrafter, SuffixDrafter
from helm_plugins.runners.speculative.suffix_tree import Draft

VOCAB = 6


@pytest.fixture(scope="module")
def small_model():
    torch.manual_seed(0)
    config = GPT2Config(vocab_size=VOCAB, n_positions=24, n_embd=16, n_layer=1, n_head=2, bos_token_id=0, eos_token_id=0)
    model = GPT2LMHeadModel(config).eval()
    with torch.no_grad():  # sharper than the random init (top token ~0.5): accepts and rejects both happen
        model.lm_head.weight.mul_(5)
    return model


class FixedDrafter(NoDrafter):
    """Always proposes the same tokens, right or wrong."""

    name = "fixed"

    def __init__(self, tokens):
        self.tokens = tokens

    def propose(self, request, max_tokens):
        return Draft(self.tokens[:max_tokens], [1.0] * min(max_tokens, len(self.tokens)), 1)


def test_sampled_outputs_follow_the_model_distribution(small_model):
    decoder = SpeculativeDecoder(small_model, temperature=1.0, max_new_tokens=2)
    with torch.no_grad():  # exact probabilities of every two-token continuation of [3]
        first = torch.softmax(small_model(torch.tensor([[3]])).logits[0, -1], -1)
        exact = {}
        for a in range(VOCAB):
            second = torch.softmax(small_model(torch.tensor([[3, a]])).logits[0, -1], -1)
            for b in range(VOCAB):
                exact[(a, b)] = float(first[a] * second[b])
    generator = torch.Generator().manual_seed(1)
    samples = 6000
    drafter = FixedDrafter([int(first.argmax()), 2])
    observed = Counter(
        tuple(decoder.generate("p", [3], drafter, UniformBudget(1), generator).tokens) for _ in range(samples)
    )
    cells = sorted(exact, key=exact.get, reverse=True)
    big = [c for c in cells if exact[c] * samples >= 5]
    expected = [exact[c] * samples for c in big] + [samples * (1 - sum(exact[c] for c in big))]
    counts = [observed[c] for c in big] + [samples - sum(observed[c] for c in big)]
    assert chisquare(counts, expected).pvalue > 1e-3


def test_greedy_outputs_are_identical_with_and_without_speculation(small_model):
    decoder = SpeculativeDecoder(small_model, temperature=0.0, max_new_tokens=12)
    prompts = [[1, 2, 3], [4], [5, 5, 1, 0]]
    plain = [decoder.generate(i, p).tokens for i, p in enumerate(prompts)]
    for tokens in ([1, 2, 3, 4], [0, 0, 0], [5]):
        assert [decoder.generate(i, p, FixedDrafter(tokens), UniformBudget(3)).tokens for i, p in enumerate(prompts)] == plain
    drafter = SuffixDrafter("das", ["request", "problem"], max_depth=6, min_probability=0.0, rollouts_per_epoch=1)
    drafter.finish_epoch([(i, tokens) for i, tokens in enumerate(plain)])
    replayed = [decoder.generate(i, p, drafter, UniformBudget(8)) for i, p in enumerate(prompts)]
    assert [r.tokens for r in replayed] == plain
    assert sum(r.passes for r in replayed) < sum(map(len, plain))  # the history was drafted and accepted


def test_drafts_never_exceed_the_length_or_context_budget(small_model):
    decoder = SpeculativeDecoder(small_model, temperature=0.0, max_new_tokens=5)
    rollout = decoder.generate("p", [1, 2], FixedDrafter([4] * 50), UniformBudget(50))
    assert len(rollout.tokens) == 5 and rollout.finished_by == "length"
    assert rollout.drafted <= 4 + 3 + 2 + 1
    near_end = decoder.generate("p", list(range(6)) * 3 + [1, 2, 3, 4], FixedDrafter([4] * 50), UniformBudget(50))
    assert len(near_end.tokens) <= 24 - 22 + 1 and near_end.finished_by in ("context", "length")


def test_metrics_are_consistent(small_model):
    decoder = SpeculativeDecoder(small_model, temperature=1.0, max_new_tokens=10, stop_tokens=[0])
    generator = torch.Generator().manual_seed(0)
    for draft in ([1, 2], [3, 3, 3], []):
        rollout = decoder.generate("p", [2, 4], FixedDrafter(draft), UniformBudget(len(draft)), generator)
        # each pass emits its accepted draft tokens and one more, except that the last may stop early
        assert rollout.passes + rollout.accepted - 1 <= len(rollout.tokens) <= rollout.passes + rollout.accepted
        assert rollout.accepted <= rollout.drafted and rollout.drafter_seconds <= rollout.seconds


def test_bad_prompts_and_settings_are_rejected(small_model):
    decoder = SpeculativeDecoder(small_model, temperature=0.0, max_new_tokens=3)
    with pytest.raises(ValueError, match="the prompt is empty"):
        decoder.generate("p", [])
    with pytest.raises(ValueError, match="the model's context holds 24"):
        decoder.generate("p", [1] * 24)
    with pytest.raises(ValueError, match="temperature must be >= 0"):
        SpeculativeDecoder(small_model, temperature=-1)
