import itertools
from collections import Counter

import pytest
import torch
from scipy.stats import chisquare
from transformers import GPT2Config, GPT2LMHeadModel

from helm_plugins.runners.speculative.budget import UniformBudget
from helm_plugins.runners.speculative.decoding import HELM_GREEDY_TEMPERATURE, Sampling, SpeculativeDecoder
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


@pytest.mark.parametrize("temperature, top_p", [(0.7, 0.9)])
def test_sampled_outputs_follow_the_processed_distribution_with_multi_token_drafts(small_model, temperature, top_p):
    decoder = SpeculativeDecoder(small_model, temperature=temperature, max_new_tokens=3, top_p=top_p)
    sampling = Sampling(temperature, top_p)
    with torch.no_grad():  # exact probabilities of every two-token continuation of [3]
        first = sampling.log_probs(small_model(torch.tensor([[3]])).logits[0, -1:])[0].exp()
        exact = {}
        for a in range(VOCAB):
            second = sampling.log_probs(small_model(torch.tensor([[3, a]])).logits[0, -1:])[0].exp()
            for b in range(VOCAB):
                exact[(a, b)] = float(first[a] * second[b])
    samples = 1500
    drafter = FixedDrafter([int(first.argmax()), 2, 4])  # three-token drafts: accepts, partial accepts, rejects
    observed = Counter(
        tuple(decoder.generate("p", [3], drafter, UniformBudget(3), seed).tokens[:2]) for seed in range(samples)
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
    for seed, draft in enumerate(([1, 2], [3, 3, 3], [])):
        rollout = decoder.generate("p", [2, 4], FixedDrafter(draft), UniformBudget(len(draft)), seed)
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
    with pytest.raises(ValueError, match=r"top_p must be in \(0, 1\]"):
        SpeculativeDecoder(small_model, top_p=0)


def test_the_gumbel_sampler_draws_the_processed_distribution():
    logits = torch.tensor([[2.0, 1.0, 0.5, -1.0, 0.0, 1.5]])
    for sampling in (Sampling(0.7), Sampling(1.0, top_p=0.7)):
        log_probs = sampling.log_probs(logits)
        probabilities = log_probs[0].exp()
        draws = Counter(sampling.draw(logits[0], log_probs[0], seed, 5) for seed in range(6000))
        assert all(draws[v] == 0 for v in range(VOCAB) if probabilities[v] == 0)  # top-p truncation respected
        kept = [v for v in range(VOCAB) if probabilities[v] > 0]
        expected = [float(probabilities[v]) for v in kept]
        assert chisquare([draws[v] for v in kept], [6000 * e / sum(expected) for e in expected]).pvalue > 1e-3
    assert torch.allclose(Sampling(0.7).log_probs(logits), torch.log_softmax(logits / 0.7, -1))  # no top-k
    assert Sampling(0.0).draw(logits[0], Sampling(0.0).log_probs(logits)[0], 0, 0) == 0  # greedy: the argmax
    greedy = Sampling(0.0).log_probs(logits)[0]  # HELM's client samples at 1e-7 for temperature 0
    assert torch.allclose(greedy, torch.log_softmax(logits[0] / HELM_GREEDY_TEMPERATURE, -1))


@pytest.mark.parametrize("temperature, top_p", [(0.0, 1.0), (0.7, 1.0), (1.0, 1.0), (1.5, 0.9)])
def test_every_drafter_gives_the_same_token_sequences_for_the_same_seeds(small_model, temperature, top_p):
    """Per-position seeded sampling: speculation (right, wrong and history drafts of several tokens) changes the
    passes, never the tokens; the lockstep batch decodes the same tokens as one-at-a-time decoding."""
    decoder = SpeculativeDecoder(small_model, temperature, max_new_tokens=12, stop_tokens=[0], top_p=top_p)
    jobs = [(i % 3, prompt, 100 + i) for i, prompt in enumerate([[1, 2, 3], [4], [5, 5, 1, 3], [2], [3, 4], [1, 1, 1, 1, 2]])]
    plain = [decoder.generate(problem, prompt, seed=seed) for problem, prompt, seed in jobs]
    assert temperature == 0 or len({tuple(r.tokens) for r in plain}) > 3  # distinct seeds, distinct rollouts
    history = SuffixDrafter("das", ["request", "problem"], max_depth=6, min_probability=0.0, rollouts_per_epoch=2)
    history.finish_epoch([(problem, r.tokens) for (problem, _, _), r in zip(jobs, plain)])
    drafted = 0
    for drafter, budget in ((FixedDrafter([1, 2, 3, 4]), UniformBudget(4)), (FixedDrafter([5, 5]), UniformBudget(2)),
                            (history, UniformBudget(8))):
        speculative = [decoder.generate(problem, prompt, drafter, budget, seed) for problem, prompt, seed in jobs]
        assert [r.tokens for r in speculative] == [r.tokens for r in plain]
        flat = [value for r in speculative for value in r.logprobs]
        assert flat == pytest.approx([value for r in plain for value in r.logprobs], abs=1e-4)
        batch = decoder.generate_batch(jobs, drafter, budget)
        assert [r.tokens for r in batch.rollouts] == [r.tokens for r in plain]
        assert [r.passes for r in batch.rollouts] == [r.passes for r in speculative]
        assert batch.passes == max(r.passes for r in speculative) and batch.seconds > 0
        drafted += sum(r.drafted for r in speculative)
    assert drafted > 0
    assert sum(r.passes for r in decoder.generate_batch(jobs, history, UniformBudget(8)).rollouts) < sum(r.passes for r in plain)


def test_batch_decoding_compacts_rejected_positions_and_finishes_ragged_sequences(small_model):
    decoder = SpeculativeDecoder(small_model, 1.0, max_new_tokens=20)  # no stop token: every rollout runs to 20
    jobs = [(0, [1] * n, n) for n in (1, 2, 7, 15)]
    wrong = FixedDrafter([VOCAB - 1] * 8)  # mostly rejected: holes pile up in the batch cache and get compacted
    batch = decoder.generate_batch(jobs, wrong, UniformBudget(8))
    alone = [decoder.generate(problem, prompt, seed=seed) for problem, prompt, seed in jobs]
    assert [r.tokens for r in batch.rollouts] == [r.tokens for r in alone]
    assert {r.finished_by for r in batch.rollouts} == {"length", "context"}  # the 15-token prompt hits the context



def test_decoding_passes_the_cache_by_the_supported_keyword(small_model):
    """No deprecated keyword reaches the model (transformers warns with a FutureWarning), and a model whose
    forward still takes `past_key_values` gets its cache under that name."""
    import warnings

    from helm_plugins.runners.speculative.decoding import cache_argument

    decoder = SpeculativeDecoder(small_model, 1.0, max_new_tokens=6)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        decoder.generate(0, [1, 2], FixedDrafter([3, 4]), UniformBudget(2), seed=1)
        decoder.generate_batch([(0, [1, 2], 1), (1, [3], 2)], FixedDrafter([3, 4]), UniformBudget(2))

    class Older(torch.nn.Module):
        def forward(self, input_ids=None, attention_mask=None, past_key_values=None, use_cache=None):
            raise NotImplementedError

    assert cache_argument(Older()) == "past_key_values"
    assert cache_argument(small_model) in ("cache", "past_key_values")
