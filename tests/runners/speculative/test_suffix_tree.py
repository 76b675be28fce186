import random
from collections import Counter

import pytest

from helm_plugins.runners.speculative import suffix_tree
from helm_plugins.runners.speculative.suffix_tree import (
    CompiledSuffixTree,
    CompiledWindowedSuffixTree,
    PySuffixTree,
    PyWindowedSuffixTree,
)

needs_compiled = pytest.mark.skipif(suffix_tree._compiled is None, reason="the compiled suffix tree is not built")
IMPLEMENTATIONS = [
    pytest.param((PySuffixTree, PyWindowedSuffixTree), id="python"),
    pytest.param((CompiledSuffixTree, CompiledWindowedSuffixTree), id="compiled", marks=needs_compiled),
]


def brute_counts(sequences, max_depth):
    counts = Counter()
    for tokens in sequences:
        for start in range(len(tokens)):
            for end in range(start + 1, min(len(tokens), start + max_depth) + 1):
                counts[tuple(tokens[start:end])] += 1
    return counts


def brute_match(sequences, context, max_depth):
    """Longest suffix (< max_depth tokens) of context that occurs followed by another token."""
    for length in range(min(len(context), max_depth - 1), 0, -1):
        suffix = list(context[-length:])
        if any(tokens[i : i + length] == suffix and i + length < len(tokens) for tokens in sequences for i in range(len(tokens))):
            return length
    return 0


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("seed", range(5))
def test_counts_and_matches_agree_with_brute_force_after_appends_and_evictions(seed, implementation):
    SuffixTree, WindowedSuffixTree = implementation
    rng = random.Random(seed)
    depth = 4
    tree = WindowedSuffixTree(max_depth=depth, window=3)
    history = []
    for i in range(7):
        tokens = [rng.randrange(4) for _ in range(rng.randint(1, 12))]
        if i % 2:  # grow the sequence in pieces, as a running rollout does
            tree.extend(("piece", i), tokens[:5])
            tree.extend(("piece", i), tokens[5:])
            tree._order.append(("piece", i))
            while len(tree._order) > tree.window:
                tree.remove(tree._order.popleft())
        else:
            tree.add(i, tokens)
        history.append(tokens)
        stored = history[-3:]
        expected = brute_counts(stored, depth)
        for substring, count in expected.items():
            assert tree.count(substring) == count
        for _ in range(20):
            substring = tuple(rng.randrange(4) for _ in range(rng.randint(1, depth)))
            assert tree.count(substring) == expected.get(substring, 0)
        assert tree.num_tokens == sum(map(len, stored))
        for _ in range(20):
            context = [rng.randrange(4) for _ in range(rng.randint(1, 8))]
            node, length = tree.match(context)
            assert length == brute_match(stored, context, depth)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_speculation_follows_the_most_frequent_continuation(implementation):
    SuffixTree, WindowedSuffixTree = implementation
    tree = SuffixTree(max_depth=8)
    for i, tokens in enumerate([[1, 2, 3, 4], [1, 2, 3, 5], [1, 2, 3, 4], [9, 2, 3, 6]]):
        tree.extend(i, tokens)
    draft = tree.speculate([7, 1, 2], max_tokens=5, min_probability=0.0)
    assert draft.match_length == 2 and draft.tokens == [3, 4]
    assert draft.probabilities == pytest.approx([1.0, 2 / 3])
    assert tree.speculate([7, 1, 2], max_tokens=5, min_probability=0.7).tokens == [3]
    assert tree.speculate([7, 1, 2], max_tokens=1).tokens == [3]
    assert tree.speculate([8, 8], max_tokens=5).tokens == []


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_depth_bound_continues_from_a_shorter_suffix(implementation):
    SuffixTree, WindowedSuffixTree = implementation
    tree = SuffixTree(max_depth=3)
    tree.extend(0, [1, 2, 3, 4, 5, 6])
    assert tree.speculate([1, 2], max_tokens=10, min_probability=0.0).tokens == [3, 4, 5, 6]


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_bad_sizes_are_rejected(implementation):
    SuffixTree, WindowedSuffixTree = implementation
    with pytest.raises(ValueError, match="max_depth must be at least 1"):
        SuffixTree(max_depth=0)
    with pytest.raises(ValueError, match="window must hold at least one sequence"):
        WindowedSuffixTree(window=0)
    tree = WindowedSuffixTree(window=2)
    tree.add("a", [1, 2])
    with pytest.raises(ValueError, match="already stored"):
        tree.add("a", [3])
    with pytest.raises(ValueError, match="only substrings up to max_depth"):
        SuffixTree(max_depth=2).count([1, 2, 3])


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_removing_everything_frees_every_node(implementation):
    SuffixTree, WindowedSuffixTree = implementation
    tree = WindowedSuffixTree(max_depth=5, window=1)
    tree.add(0, list(range(50)))
    tree.add(1, [1, 2, 3])
    assert tree.num_nodes == 6 and tree.num_tokens == 3  # 3 + 2 + 1 substrings


def walked_speculation(tree, context, max_tokens, min_probability):
    """The proposal by definition, without suffix links: walk every suffix from the root, longest first, for the
    match and again at every depth bound (O(depth^2) per match)."""

    def longest(context):
        for length in range(min(len(context), tree.max_depth - 1), 0, -1):
            node = tree.root
            for token in context[len(context) - length :]:
                node = (node.children or {}).get(token)
                if node is None:
                    break
            if node is not None and node.best is not None:
                return node, length
        return None, 0

    node, matched = longest(list(context))
    tokens, probability = [], 1.0
    while node is not None and len(tokens) < max_tokens:
        if node.best is None:
            if node.depth < tree.max_depth:
                break
            node, _ = longest(list(context[-tree.max_depth :]) + tokens)
            continue
        probability *= node.best.count / node.count
        if probability < min_probability:
            break
        node = node.best
        tokens.append(node.token)
    return tokens, matched


@pytest.mark.parametrize("seed", range(4))
def test_suffix_link_proposals_equal_the_walked_definition_after_evictions(seed):
    rng = random.Random(seed)
    tree = PyWindowedSuffixTree(max_depth=5, window=4)
    for i in range(12):  # evictions remove nodes: links must stay valid
        tree.add(i, [rng.randrange(3) for _ in range(rng.randint(1, 30))])
        for _ in range(25):
            context = [rng.randrange(3) for _ in range(rng.randint(1, 12))]
            draft = tree.speculate(context, max_tokens=12, min_probability=0.05)
            assert (draft.tokens, draft.match_length) == walked_speculation(tree, context, 12, 0.05)


@needs_compiled
@pytest.mark.parametrize("seed", range(6))
def test_the_compiled_tree_gives_the_pure_python_results_operation_by_operation(seed):
    """Same counts, matches, drafts (tokens, path probabilities, match lengths) and node counts after every
    append and eviction, including ties between equally frequent children and node slots freed and reused."""
    rng = random.Random(seed)
    depth = rng.choice([2, 3, 6, 32])
    vocabulary = rng.choice([2, 3, 50])
    python, compiled = PyWindowedSuffixTree(depth, window=5), CompiledWindowedSuffixTree(depth, window=5)
    for i in range(40):
        tokens = [rng.randrange(vocabulary) for _ in range(rng.randint(0, 40))]
        if rng.random() < 0.3:  # a running sequence, extended in pieces
            for tree in (python, compiled):
                tree.extend(("piece", i), tokens[:7])
                tree.extend(("piece", i), tokens[7:])
                tree.remove(("piece", i))
        for tree in (python, compiled):
            tree.add(i, tokens)
        assert (compiled.num_nodes, compiled.num_tokens) == (python.num_nodes, python.num_tokens)
        for _ in range(15):
            context = [rng.randrange(vocabulary) for _ in range(rng.randint(0, 45))]
            budget, threshold = rng.randint(0, 20), rng.choice([0.0, 0.05, 0.3])
            expected, got = python.speculate(context, budget, threshold), compiled.speculate(context, budget, threshold)
            assert (got.tokens, got.probabilities, got.match_length) == (expected.tokens, expected.probabilities, expected.match_length)
            assert compiled.match(context)[1] == python.match(context)[1]
            substring = context[: rng.randint(1, depth)]
            assert compiled.count(substring) == python.count(substring)
    assert compiled.memory_bytes() > 0


@needs_compiled
def test_the_compiled_tree_rejects_bad_tokens_and_is_the_default():
    tree = CompiledSuffixTree(4)
    with pytest.raises(TypeError):
        tree.extend(0, [1, "two"])
    with pytest.raises(OverflowError, match="32 bits"):
        tree.extend(0, [2**40])
    with pytest.raises(KeyError):
        tree.remove("never stored")
    assert suffix_tree.SuffixTree is (PySuffixTree if suffix_tree.os.environ.get("HELM_PLUGINS_PURE_PYTHON_SUFFIX_TREE") else CompiledSuffixTree)
