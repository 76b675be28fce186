import numpy as np
import pytest
from scipy import stats

from helm_plugins.statistics.provenance.hypothesis_tests import query_test, reshuffle_test, spearman_log10_p


def planted(n, kappa, seed):
    """Alice's positions and a suspect whose loss falls with training position (plus example difficulty)."""
    rng = np.random.default_rng(seed)
    positions = rng.permutation(n).astype(float)
    difficulty = rng.normal(0, 1, n)
    reference = difficulty + rng.normal(0, 0.1, n)
    suspect = difficulty - kappa * positions / n + rng.normal(0, 0.1, n)
    return positions, suspect, reference


def test_planted_relation_is_detected_at_2000_examples_with_the_reference():
    positions, suspect, reference = planted(2000, kappa=0.1, seed=0)
    with_reference = query_test(positions, suspect, reference, permutations=199)
    assert with_reference.spearman < 0  # later-trained examples have lower relative loss
    assert with_reference.p_value < 1e-6 and with_reference.z < -4
    assert with_reference.permutation_p == pytest.approx(2 / 200)  # two-sided floor: nothing in the null as extreme
    without = query_test(positions, suspect, None, permutations=0)
    assert without.log10_p > with_reference.log10_p  # difficulty masks the effect without the reference


def test_log10_p_agrees_with_scipy_and_does_not_underflow():
    positions, suspect, reference = planted(500, kappa=0.2, seed=1)
    result = query_test(positions, suspect, reference, permutations=0)
    scipy_p = stats.spearmanr(positions, suspect - reference).pvalue
    assert result.log10_p == pytest.approx(np.log10(scipy_p), rel=1e-6)
    assert spearman_log10_p(-0.99, 100_000) < -300  # far below float's smallest p


def test_p_values_are_uniform_under_h0():
    analytic, permutation = [], []
    for seed in range(200):
        rng = np.random.default_rng(seed)
        result = query_test(rng.permutation(200), rng.normal(size=200), rng.normal(size=200), permutations=99, seed=seed)
        analytic.append(result.p_value)
        permutation.append(result.permutation_p)
    assert stats.kstest(analytic, "uniform").pvalue > 0.01
    assert stats.kstest(permutation, "uniform").pvalue > 0.001  # discrete in steps of 1/100
    assert min(permutation) >= 1 / 100


def test_exact_permutation_p_on_few_examples():
    result = query_test([0, 1, 2, 3, 4], [5.0, 4.0, 3.0, 2.0, 1.0], permutations=999)  # 5! = 120 <= 999: exact
    assert result.spearman == pytest.approx(-1)
    assert result.permutation_p == pytest.approx(2 / 120)  # the two perfect orderings, two-sided


def test_reshuffle_rank_p_is_exact():
    assert reshuffle_test([10.0, 1, 2, 3, 4, 5, 6, 7, 8, 9]).rank_p == pytest.approx(0.1)  # the floor 1 / (K + 1)
    assert reshuffle_test([0.0, 1, 2, 3, 4, 5, 6, 7, 8, 9]).rank_p == 1.0
    rng = np.random.default_rng(0)
    ranks = [reshuffle_test(rng.normal(size=10)).rank_p for _ in range(3000)]  # H0: exchangeable scores
    counts = np.unique(np.round(ranks, 3), return_counts=True)[1]
    assert len(counts) == 10 and stats.chisquare(counts).pvalue > 0.001  # uniform on {0.1, ..., 1}


def test_bad_inputs_are_rejected():
    with pytest.raises(ValueError, match="same length"):
        query_test([1, 2, 3], [1.0, 2.0])
    with pytest.raises(ValueError, match="at least 3"):
        query_test([1, 2], [1.0, 2.0])
    with pytest.raises(ValueError, match="losses: 1 non-finite values .first at index 1"):
        query_test([1, 2, 3], [1.0, float("nan"), 2.0])
    with pytest.raises(ValueError, match="reference losses"):
        query_test([1, 2, 3], [1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="at least one reshuffle"):
        reshuffle_test([1.0])


def test_constant_relative_losses_give_no_evidence():
    result = query_test([0, 1, 2, 3], [1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0], permutations=99)
    assert result.spearman == 0 and result.log10_p == 0 and result.permutation_p == 1.0


def test_partition_test_finds_texts_copied_from_late_documents():
    from helm_plugins.statistics.provenance.hypothesis_tests import ngram_index, partition_test

    rng = np.random.default_rng(0)
    documents = [rng.integers(0, 500, 30).tolist() for _ in range(400)]  # random tokens: n-grams identify a document
    steps = rng.permutation(400).astype(float)
    index = ngram_index(documents)
    late = [documents[i][5:20] for i in np.argsort(steps)[-100:]]  # Bob reproduces the last-trained documents
    planted = partition_test(steps, documents, late, permutations=199, index=index)
    assert planted.spearman > 0.5 and planted.permutation_p == pytest.approx(1 / 200)
    p_values = []
    for seed in range(30):  # H0: texts drawn from documents regardless of when they were trained on
        texts = [documents[i][5:20] for i in np.random.default_rng(seed).choice(400, 100)]
        p_values.append(partition_test(steps, documents, texts, permutations=99, seed=seed, index=index).permutation_p)
    assert stats.kstest(p_values, "uniform").pvalue > 0.01
    with pytest.raises(ValueError, match="no n-gram of the texts occurs"):
        partition_test(steps, documents, [[900, 901, 902]], index=index)
    with pytest.raises(ValueError, match="bins must be between 3"):
        partition_test(steps, documents, late, bins=2, index=index)
