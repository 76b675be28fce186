"""A depth-bounded suffix tree of token sequences with counts, for model-free speculative drafting.

Every stored sequence contributes each of its substrings of length <= max_depth as a path from the root; a
node's count is how often its string occurs. Appending a token costs O(max_depth) (the active suffixes move one
node down), removing a sequence replays its walks with decrements, so a sliding window is append + remove.
A proposal walks at most max_depth nodes per candidate match length and then follows the most frequent child,
which each node keeps up to date, so its cost does not depend on how many tokens are stored. Memory is at most
max_depth nodes per stored token (shared prefixes share nodes).

This is the structure of SuffixDecoding (arXiv 2411.04975) and of DAS's per-problem drafter (arXiv 2511.13841),
re-implemented with plain (not path-compressed) nodes.
"""

from collections import deque
from dataclasses import dataclass, field
from typing import Dict, Hashable, List, Optional, Sequence, Tuple


class _Node:
    __slots__ = ("token", "depth", "count", "children", "best")

    def __init__(self, token: int, depth: int):
        self.token = token
        self.depth = depth
        self.count = 0
        self.children: Optional[Dict[int, "_Node"]] = None
        self.best: Optional["_Node"] = None  # the child with the highest count

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


class SuffixTree:
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

    def _increment(self, parent: _Node, token: int) -> _Node:
        if parent.children is None:
            parent.children = {}
        node = parent.children.get(token)
        if node is None:
            node = parent.children[token] = _Node(token, parent.depth + 1)
            self.num_nodes += 1
        node.count += 1
        if parent.best is None or (parent.best is not node and node.count > parent.best.count):
            parent.best = node
        return node

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
        for token in tokens:
            self.root.count += 1
            moved = [self._increment(node, token) for node in active]
            moved.append(self._increment(self.root, token))
            active[:] = [node for node in moved if node.depth < self.max_depth]
            stored.append(token)
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

    def match(self, context: Sequence[int]) -> Tuple[Optional[_Node], int]:
        """The node of the longest suffix of `context` (at most max_depth - 1 tokens) that occurs in a stored
        sequence followed by at least one more token (an occurrence at the very end has nothing to propose)."""
        for length in range(min(len(context), self.max_depth - 1), 0, -1):
            node = self._walk(context[len(context) - length :])
            if node is not None and node.best is not None:
                return node, length
        return None, 0

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
        while node is not None and len(draft.tokens) < max_tokens:
            if node.best is None:
                if node.depth < self.max_depth:
                    break
                # the depth bound: continue from the longest stored suffix of context + draft
                node, _ = self.match(list(context[-self.max_depth :]) + draft.tokens)
                continue
            probability *= node.best.count / node.count
            if probability < min_probability:
                break
            node = node.best
            draft.tokens.append(node.token)
            draft.probabilities.append(probability)
        return draft


class WindowedSuffixTree(SuffixTree):
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
