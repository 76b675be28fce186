"""The palimpsestic provenance tests (arXiv 2510.19796): is Bob's model derived from Alice's training run?

Alice trains on a uniformly random shuffle of her data. Under H0 (Bob is independent of that shuffle) her
order is a uniform random permutation with respect to anything Bob produces, so any statistic of (order, Bob)
has an exactly known permutation null, whatever the data. Models remember their latest training examples best
(palimpsestic memorisation), so under H1 examples Alice saw later have lower loss under Bob.

- Query test: T = Spearman rho(training position t_i, loss_Bob(x_i) - loss_ref(x_i)); the reference model's
  loss removes how hard each example is. Expected sign: negative. p-values: the t approximation of scipy's
  spearmanr (computed in log space, so p = 1e-184 does not underflow), a permutation p from scipy's
  permutation_test (exact when n! <= R, else R random permutations with p = (1 + #{T_pi as extreme}) / (R + 1)
  per side, doubled for two sides), and z = (T - mean T_pi) / sd T_pi.
- Reshuffle test: Alice's last phase retrained K times from a checkpoint on reshuffled orders gives models
  mu_1..mu_K next to the real mu_0; S_k = total log-likelihood of Bob's texts under mu_k. Under H0 mu_0 is
  exchangeable with the others, so the rank p = (1 + #{k >= 1: S_k >= S_0}) / (K + 1) is exact.
"""

import math
from dataclasses import asdict, dataclass
from typing import Optional, Sequence

import numpy as np
from scipy import stats


@dataclass
class QueryTestResult:
    n: int
    spearman: float
    log10_p: float  # two-sided, t approximation
    z: float  # against the permutation null (rho sqrt(n - 1) without permutations)
    permutation_p: Optional[float]  # two-sided; at least 2 / (R + 1) with R random permutations
    permutations: int
    with_reference: bool

    @property
    def p_value(self) -> float:
        return 10.0**self.log10_p

    def as_dict(self) -> dict:
        return {**asdict(self), "p_value": self.p_value}


@dataclass
class ReshuffleTestResult:
    k: int
    s0: float
    rank_p: float  # exact under H0, at least 1 / (K + 1)
    z: float
    normal_p: float

    def as_dict(self) -> dict:
        return asdict(self)


def _finite(name: str, values: np.ndarray) -> None:
    bad = np.flatnonzero(~np.isfinite(values))
    if len(bad):
        raise ValueError(f"{name}: {len(bad)} non-finite values (first at index {bad[0]}: {values[bad[0]]})")


def spearman_log10_p(rho: float, n: int) -> float:
    """log10 of the two-sided p of Spearman's rho under the t approximation t = rho sqrt((n-2)/(1-rho^2))."""
    if n < 3:
        return 0.0
    rho = float(np.clip(rho, -1.0, 1.0))
    if abs(rho) == 1.0:
        return -math.inf
    t = abs(rho) * math.sqrt((n - 2) / (1 - rho * rho))
    return float((math.log(2) + stats.t.logsf(t, n - 2)) / math.log(10))


def query_test(
    positions: Sequence[float],
    losses: Sequence[float],
    reference_losses: Optional[Sequence[float]] = None,
    permutations: int = 999,
    seed: int = 0,
) -> QueryTestResult:
    """Spearman correlation of training positions with (reference-corrected) per-example losses."""
    positions = np.asarray(positions, dtype=float)
    losses = np.asarray(losses, dtype=float)
    if positions.shape != losses.shape or positions.ndim != 1:
        raise ValueError(f"positions and losses must be 1-D of the same length, got {positions.shape} and {losses.shape}")
    if len(positions) < 3:
        raise ValueError(f"the query test needs at least 3 examples, got {len(positions)}")
    _finite("positions", positions)
    _finite("losses", losses)
    relative = losses
    if reference_losses is not None:
        reference = np.asarray(reference_losses, dtype=float)
        if reference.shape != losses.shape:
            raise ValueError(f"reference losses: {reference.shape} values for {losses.shape} examples")
        _finite("reference losses", reference)
        relative = losses - reference
    position_ranks, loss_ranks = stats.rankdata(positions), stats.rankdata(relative)
    rho = float(np.corrcoef(position_ranks, loss_ranks)[0, 1]) if np.std(loss_ranks) > 0 else 0.0
    n = len(positions)
    z, permutation_p = rho * math.sqrt(n - 1), None
    if np.std(loss_ranks) == 0:  # constant losses: no evidence either way
        permutation_p = 1.0 if permutations > 0 else None
    elif permutations > 0:
        other = loss_ranks - loss_ranks.mean()  # fixed across permutations: only the positions are permuted
        other_norm = (other**2).sum()

        def statistic(ranks, axis=-1):
            centred = ranks - ranks.mean(axis=axis, keepdims=True)
            return (centred * other).sum(axis=axis) / np.sqrt((centred**2).sum(axis=axis) * other_norm)

        result = stats.permutation_test(
            (position_ranks,), statistic, permutation_type="pairings", n_resamples=permutations,
            vectorized=True, alternative="two-sided", random_state=np.random.default_rng(seed),
        )
        permutation_p = float(result.pvalue)
        null = result.null_distribution
        if np.std(null) > 0:
            z = float((rho - np.mean(null)) / np.std(null))
    return QueryTestResult(
        n=n,
        spearman=rho,
        log10_p=spearman_log10_p(rho, n),
        z=z,
        permutation_p=permutation_p,
        permutations=permutations,
        with_reference=reference_losses is not None,
    )


def reshuffle_test(scores: Sequence[float]) -> ReshuffleTestResult:
    """`scores[0]` = S_0 under Alice's real model, `scores[1:]` = S_k under the K reshuffled retrainings."""
    scores = np.asarray(scores, dtype=float)
    if scores.ndim != 1 or len(scores) < 2:
        raise ValueError(f"the reshuffle test needs the real model's score and at least one reshuffle, got {scores.shape}")
    _finite("reshuffle scores", scores)
    s0, others = scores[0], scores[1:]
    k = len(others)
    z = float((s0 - others.mean()) / (others.std(ddof=1) + 1e-6)) if k > 1 else 0.0
    return ReshuffleTestResult(
        k=k, s0=float(s0), rank_p=float((1 + np.sum(others >= s0)) / (k + 1)), z=z, normal_p=float(stats.norm.sf(z))
    )


@dataclass
class PartitionTestResult:
    positions: int  # text positions with a matched n-gram
    spearman: float  # of step bin against matched count (positive: later documents matched more)
    permutation_p: float  # one-sided, documents' steps relabelled at random
    bins: int

    def as_dict(self) -> dict:
        return asdict(self)


def ngram_index(documents: Sequence[Sequence[int]], max_n: int = 8, min_n: int = 2) -> dict:
    """n-gram (tuple) -> indices of the documents containing it, for min_n <= n <= max_n."""
    index: dict = {}
    for doc_id, tokens in enumerate(documents):
        for n in range(min_n, max_n + 1):
            for start in range(len(tokens) - n + 1):
                index.setdefault(tuple(tokens[start : start + n]), set()).add(doc_id)
    return index


def matched_counts(num_documents: int, texts: Sequence[Sequence[int]], index: dict, max_n: int = 8, min_n: int = 2):
    """(matches per document, matched positions): at each position of the texts, the longest n-gram ending there
    that occurs in the documents; every document containing it counts once."""
    counts = np.zeros(num_documents)
    matched_positions = 0
    for text in texts:
        for end in range(min_n, len(text) + 1):
            for n in range(min(max_n, end), min_n - 1, -1):
                matches = index.get(tuple(text[end - n : end]))
                if matches:
                    counts[list(matches)] += 1
                    matched_positions += 1
                    break
    return counts, matched_positions


def partition_test(
    document_steps: Sequence[float],
    documents: Sequence[Sequence[int]],
    texts: Sequence[Sequence[int]],
    max_n: int = 8,
    min_n: int = 2,
    bins: int = 20,
    permutations: int = 999,
    seed: int = 0,
    index: Optional[dict] = None,
) -> PartitionTestResult:
    """The observational n-gram test: at each position of Bob's texts, the longest n-gram ending there that occurs
    in Alice's documents; every matching document counts once. Under H0 which documents match is independent of
    when Alice trained on them, so relabelling the documents' steps at random gives the null of
    T = Spearman(step bin, matched count)."""
    steps = np.asarray(document_steps, dtype=float)
    if len(steps) != len(documents):
        raise ValueError(f"{len(steps)} steps for {len(documents)} documents")
    if bins < 3 or bins > len(steps):
        raise ValueError(f"bins must be between 3 and the number of documents, got {bins}")
    index = index if index is not None else ngram_index(documents, max_n, min_n)
    counts, matched_positions = matched_counts(len(documents), texts, index, max_n, min_n)
    if matched_positions == 0:
        raise ValueError("no n-gram of the texts occurs in the documents")
    edges = np.quantile(steps, np.linspace(0, 1, bins + 1)[1:-1])
    centres = np.arange(bins)

    def statistic(step_values: np.ndarray) -> float:
        per_bin = np.bincount(np.searchsorted(edges, step_values, side="right"), weights=counts, minlength=bins)
        return float(stats.spearmanr(centres, per_bin).statistic) if np.std(per_bin) > 0 else 0.0

    observed = statistic(steps)
    rng = np.random.default_rng(seed)
    null = np.array([statistic(rng.permutation(steps)) for _ in range(permutations)])
    p = float((1 + np.sum(null >= observed)) / (permutations + 1))
    return PartitionTestResult(positions=matched_positions, spearman=observed, permutation_p=p, bins=bins)


def encode_words(document_texts: Sequence[str], texts: Sequence[str]):
    """(documents, texts) as lists of word ids (split on whitespace), one vocabulary for both."""
    vocabulary: dict = {}

    def encode(text: str) -> list:
        return [vocabulary.setdefault(word, len(vocabulary)) for word in text.split()]

    return [encode(text) for text in document_texts], [encode(text) for text in texts]


def word_ngram_test(
    document_steps: Sequence[float],
    document_texts: Sequence[str],
    texts: Sequence[str],
    bins: int = 20,
    permutations: int = 999,
    seed: int = 0,
) -> PartitionTestResult:
    """The n-gram test on words: Alice's documents and the suspect's texts split on whitespace, so that the
    suspect's own tokenizer does not matter (n-grams of 2 to 8 words)."""
    documents, encoded = encode_words(document_texts, texts)
    return partition_test(document_steps, documents, encoded, bins=min(bins, len(documents)),
                          permutations=permutations, seed=seed)
