"""A depth-bounded suffix tree of token sequences with counts, for model-free speculative drafting.

Every stored sequence contributes each of its substrings of length <= max_depth as a path from the root; a
node's count is how often its string occurs. Appending a token costs O(max_depth) (the active suffixes move one
node down), removing a sequence replays its walks with decrements, so a sliding window is append + remove.
Every node keeps a suffix link: the node of its string without the first token (the next entry of the active
list when the node is incremented, so appends keep links current at no extra walk; a node's link target always
outlives it, since a string occurs at least as often as its suffix). A proposal finds the longest matching
suffix of the context in one left-to-right pass over its last max_depth tokens, following links on mismatches
(matching statistics, as in Aho-Corasick), then follows the most frequent child, which each node keeps up to
date; at the depth bound the draft continues from the node's link. Its cost is O(max_depth + draft length),
independent of how many tokens are stored. Memory is at most max_depth nodes per stored token (shared prefixes
share nodes).

This is the structure of SuffixDecoding (arXiv 2411.04975) and of DAS's per-problem drafter (arXiv 2511.13841),
re-implemented with plain (not path-compressed) nodes, twice: `PySuffixTree` in pure Python, and the same
structure compiled (`_suffix_tree.c`, built by the package's install when a C compiler is there) behind
`CompiledSuffixTree`, which gives the same counts, matches and drafts operation by operation (children keep
their insertion order, so ties resolve alike) at a fraction of the time and memory. `SuffixTree` and
`WindowedSuffixTree` are the compiled ones when the extension imports, else the pure-Python ones (set
HELM_PLUGINS_PURE_PYTHON_SUFFIX_TREE=1 to force those).
"""

import os
from collections import deque
from dataclasses import dataclass, field
from typing import Dict, Hashable, List, Optional, Sequence, Tuple


class _Node:
    __slots__ = ("token", "depth", "count", "children", "best", "link")

    def __init__(self, token: int, depth: int):
        self.token = token
        self.depth = depth
        self.count = 0
        self.children: Optional[Dict[int, "_Node"]] = None
        self.best: Optional["_Node"] = None  # the child with the highest count
        self.link: Optional["_Node"] = None  # the node of this string without its first token (root: None)

    def child(self, token: int) -> Optional["_Node"]:
        return self.children.get(token) if self.children else None


@dataclass
class Draft:
    tokens: List[int] = field(default_factory=list)
    probabilities: List[float] = field(default_factory=list)  # cumulative path probability after each token
    match_length: int = 0  # length of the context suffix the draft continues

    @property
    def score(self) -> float:
        """Expected number of accepted tokens if each draft token is right with its path probability."""
        return sum(self.probabilities)


class PySuffixTree:
    def __init__(self, max_depth: int = 32):
        if max_depth < 1:
            raise ValueError(f"max_depth must be at least 1, got {max_depth}")
        self.max_depth = max_depth
        self.root = _Node(-1, 0)
        self.sequences: Dict[Hashable, List[int]] = {}
        self._active: Dict[Hashable, List[_Node]] = {}  # per sequence: nodes of its suffixes shorter than max_depth
        self.num_tokens = 0
        self.num_nodes = 0

    # ----- updates -----

    def _decrement(self, parent: _Node, token: int) -> _Node:
        node = parent.children[token]
        node.count -= 1
        if node.count == 0:
            del parent.children[token]
            self.num_nodes -= 1
        if parent.best is node:
            parent.best = max(parent.children.values(), key=lambda n: n.count, default=None)
        return node

    def extend(self, sequence_id: Hashable, tokens: Sequence[int]) -> None:
        """Append tokens to a stored sequence (a new id starts a new sequence)."""
        stored = self.sequences.setdefault(sequence_id, [])
        active = self._active.setdefault(sequence_id, [])
        root, max_depth = self.root, self.max_depth
        created = 0
        for token in tokens:
            root.count += 1
            previous = None
            moved = []
            for node in active + [root]:  # the active suffixes, longest first, then the empty one
                children = node.children
                if children is None:
                    children = node.children = {}
                child = children.get(token)
                if child is None:
                    child = children[token] = _Node(token, node.depth + 1)
                    created += 1
                child.count += 1
                best = node.best
                if best is None or (best is not child and child.count > best.count):
                    node.best = child
                if previous is not None:
                    previous.link = child  # the longer string's suffix without its first token
                previous = child
                if child.depth < max_depth:
                    moved.append(child)
            previous.link = root
            active[:] = moved
            stored.append(token)
        self.num_nodes += created
        self.num_tokens += len(tokens)

    def remove(self, sequence_id: Hashable) -> None:
        tokens = self.sequences.pop(sequence_id)
        self._active.pop(sequence_id)
        for start in range(len(tokens)):
            node = self.root
            for token in tokens[start : start + self.max_depth]:
                node = self._decrement(node, token)
        self.root.count -= len(tokens)
        self.num_tokens -= len(tokens)

    # ----- queries -----

    def _walk(self, tokens: Sequence[int]) -> Optional[_Node]:
        node = self.root
        for token in tokens:
            node = node.child(token)
            if node is None:
                return None
        return node

    def _deepest(self, context: Sequence[int]) -> _Node:
        """The node of the longest suffix of `context` (at most max_depth - 1 tokens) stored in the tree: one pass
        over the context's last max_depth - 1 tokens, falling back along suffix links where a token does not follow."""
        root, limit = self.root, self.max_depth - 1
        node = root
        if limit == 0:
            return root
        for token in context[max(0, len(context) - limit) :]:
            if node.depth == limit:
                node = node.link
            while True:
                children = node.children
                child = children.get(token) if children else None
                if child is not None:
                    node = child
                    break
                if node is root:
                    break
                node = node.link
        return node

    def match(self, context: Sequence[int]) -> Tuple[Optional[_Node], int]:
        """The node of the longest suffix of `context` (at most max_depth - 1 tokens) that occurs in a stored
        sequence followed by at least one more token (an occurrence at the very end has nothing to propose).
        The suffixes of a stored string are stored, and one followed by a token has every suffix followed by it,
        so that suffix is on the link chain of the deepest stored suffix."""
        node = self._deepest(context)
        while node.best is None and node is not self.root:
            node = node.link
        return (None, 0) if node is self.root else (node, node.depth)

    def count(self, tokens: Sequence[int]) -> int:
        """How often `tokens` (at most max_depth long) occurs in the stored sequences."""
        if len(tokens) > self.max_depth:
            raise ValueError(f"only substrings up to max_depth={self.max_depth} are counted")
        node = self._walk(tokens)
        return node.count if node is not None else 0

    def speculate(self, context: Sequence[int], max_tokens: int, min_probability: float = 0.1) -> Draft:
        """Follow the most frequent continuation of the longest matching suffix while the path probability
        (product of child count / parent count) stays at or above `min_probability`."""
        draft = Draft()
        if max_tokens <= 0:
            return draft
        node, draft.match_length = self.match(context)
        probability = 1.0
        tokens, probabilities = draft.tokens, draft.probabilities
        root, max_depth = self.root, self.max_depth
        while node is not None and len(tokens) < max_tokens:
            best = node.best
            if best is None:
                if node.depth < max_depth:
                    break
                # the depth bound: continue from the longest stored suffix of context + draft with a continuation
                node = node.link
                while node.best is None and node is not root:
                    node = node.link
                if node is root:
                    break
                continue
            probability *= best.count / node.count
            if probability < min_probability:
                break
            node = best
            tokens.append(best.token)
            probabilities.append(probability)
        return draft


class CompiledSuffixTree:
    """`PySuffixTree`'s interface over the compiled tree; `match` returns a node number instead of a node."""

    def __init__(self, max_depth: int = 32):
        if _compiled is None:
            raise ImportError("the compiled suffix tree (helm_plugins.runners.speculative._suffix_tree_c) is not built")
        self._tree = _compiled.Tree(max_depth)
        self.max_depth = max_depth
        self.sequences: Dict[Hashable, int] = {}  # sequence id -> its handle in the compiled tree

    @property
    def num_tokens(self) -> int:
        return self._tree.num_tokens

    @property
    def num_nodes(self) -> int:
        return self._tree.num_nodes

    def memory_bytes(self) -> int:
        """Bytes the compiled tree has allocated (nodes, hash table, stored sequences)."""
        return self._tree.memory_bytes()

    def extend(self, sequence_id: Hashable, tokens: Sequence[int]) -> None:
        """Append tokens to a stored sequence (a new id starts a new sequence)."""
        handle = self.sequences.get(sequence_id)
        if handle is None:
            handle = self.sequences[sequence_id] = self._tree.new_sequence()
        self._tree.extend(handle, tokens)

    def remove(self, sequence_id: Hashable) -> None:
        self._tree.remove(self.sequences.pop(sequence_id))

    def match(self, context: Sequence[int]) -> Tuple[Optional[int], int]:
        return self._tree.match(context)

    def count(self, tokens: Sequence[int]) -> int:
        return self._tree.count(tokens)

    def speculate(self, context: Sequence[int], max_tokens: int, min_probability: float = 0.1) -> Draft:
        tokens, probabilities, match_length = self._tree.speculate(context, max_tokens, min_probability)
        return Draft(tokens, probabilities, match_length)


class _Window:
    """A suffix tree of the most recent `window` sequences: adding one more evicts the oldest."""

    def __init__(self, max_depth: int = 32, window: int = 1000):
        super().__init__(max_depth)
        if window < 1:
            raise ValueError(f"window must hold at least one sequence, got {window}")
        self.window = window
        self._order: deque = deque()

    def add(self, sequence_id: Hashable, tokens: Sequence[int]) -> None:
        if sequence_id in self.sequences:
            raise ValueError(f"sequence {sequence_id!r} is already stored")
        self.extend(sequence_id, tokens)
        self._order.append(sequence_id)
        while len(self._order) > self.window:
            self.remove(self._order.popleft())


class PyWindowedSuffixTree(_Window, PySuffixTree):
    pass


class CompiledWindowedSuffixTree(_Window, CompiledSuffixTree):
    pass


try:
    from helm_plugins.runners.speculative import _suffix_tree_c as _compiled
except ImportError:  # no C compiler at install time: the pure-Python tree
    _compiled = None

COMPILED = _compiled is not None and not os.environ.get("HELM_PLUGINS_PURE_PYTHON_SUFFIX_TREE")
SuffixTree = CompiledSuffixTree if COMPILED else PySuffixTree
WindowedSuffixTree = CompiledWindowedSuffixTree if COMPILED else PyWindowedSuffixTree
