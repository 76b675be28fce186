"""Model-free drafters: no speculation, n-gram prompt lookup (vLLM), suffix trees of several scopes.

A drafter sees each rollout through a `DraftRequest` (problem id, prompt and the tokens generated so far),
proposes up to `max_tokens` tokens, and learns from finished rollouts when the epoch ends: rollouts generated
together (one RL step's batch) do not see each other, as in a real batched engine.

Suffix-tree scopes (combined by the highest draft score, as SuffixDecoding does):
- request: the rollout's own prompt and output so far;
- problem: the problem's rollouts of the last `window_epochs` epochs (DAS);
- global: the last `global_window` rollouts of all problems (SuffixDecoding's global tree).
"""

from dataclasses import dataclass, field
from typing import Dict, Hashable, List, Protocol, Sequence, Tuple

from helm_plugins.runners.speculative.suffix_tree import Draft, SuffixTree, WindowedSuffixTree


@dataclass
class DraftRequest:
    problem_id: Hashable
    prompt: List[int]
    output: List[int] = field(default_factory=list)
    request_tree: SuffixTree = None  # set by drafters that use the request scope

    @property
    def context(self) -> List[int]:
        return self.prompt + self.output


class Drafter(Protocol):
    name: str

    def start(self, request: DraftRequest) -> None: ...

    def propose(self, request: DraftRequest, max_tokens: int) -> Draft: ...

    def accept(self, request: DraftRequest, tokens: Sequence[int]) -> None: ...

    def finish_epoch(self, rollouts: Sequence[Tuple[Hashable, List[int]]]) -> None: ...


class NoDrafter:
    name = "none"

    def start(self, request: DraftRequest) -> None:
        pass

    def propose(self, request: DraftRequest, max_tokens: int) -> Draft:
        return Draft()

    def accept(self, request: DraftRequest, tokens: Sequence[int]) -> None:
        request.output.extend(tokens)

    def finish_epoch(self, rollouts: Sequence[Tuple[Hashable, List[int]]]) -> None:
        pass


class NGramDrafter(NoDrafter):
    """vLLM's prompt lookup: the longest n-gram (max_n down to min_n) ending the context that occurred earlier
    in the same request; the tokens that followed its latest occurrence are the draft."""

    name = "ngram"

    def __init__(self, min_n: int = 2, max_n: int = 5):
        if not 1 <= min_n <= max_n:
            raise ValueError(f"need 1 <= min_n <= max_n, got {min_n}, {max_n}")
        self.min_n = min_n
        self.max_n = max_n

    def propose(self, request: DraftRequest, max_tokens: int) -> Draft:
        context = request.context
        for n in range(min(self.max_n, len(context) - 1), self.min_n - 1, -1):
            suffix = context[-n:]
            for start in range(len(context) - n - 1, -1, -1):  # latest earlier occurrence first
                if context[start : start + n] == suffix:
                    tokens = context[start + n : start + n + max_tokens]
                    return Draft(tokens, [1.0] * len(tokens), n)
        return Draft()


class SuffixDrafter(NoDrafter):
    SCOPES = ("request", "problem", "global")

    def __init__(
        self,
        name: str,
        scopes: Sequence[str],
        max_depth: int = 32,
        min_probability: float = 0.1,
        window_epochs: int = 4,
        rollouts_per_epoch: int = 16,
        global_window: int = 10_000,
    ):
        unknown = sorted(set(scopes) - set(self.SCOPES))
        if unknown or not scopes:
            raise ValueError(f"suffix drafter scopes must be a non-empty subset of {self.SCOPES}, got {list(scopes)}")
        if window_epochs < 1:
            raise ValueError(f"window_epochs must be at least 1, got {window_epochs}")
        self.name = name
        self.scopes = tuple(scopes)
        self.max_depth = max_depth
        self.min_probability = min_probability
        self.problem_window = window_epochs * rollouts_per_epoch
        self.problem_trees: Dict[Hashable, WindowedSuffixTree] = {}
        self.global_tree = WindowedSuffixTree(max_depth, global_window)
        self._rollouts_added = 0

    def start(self, request: DraftRequest) -> None:
        if "request" in self.scopes:
            request.request_tree = SuffixTree(self.max_depth)
            request.request_tree.extend("self", request.prompt)

    def _trees(self, request: DraftRequest) -> List[SuffixTree]:
        trees = []
        if "request" in self.scopes:
            trees.append(request.request_tree)
        if "problem" in self.scopes and request.problem_id in self.problem_trees:
            trees.append(self.problem_trees[request.problem_id])
        if "global" in self.scopes:
            trees.append(self.global_tree)
        return trees

    def propose(self, request: DraftRequest, max_tokens: int) -> Draft:
        if max_tokens <= 0:
            return Draft()
        context = request.context
        drafts = [tree.speculate(context, max_tokens, self.min_probability) for tree in self._trees(request)]
        return max(drafts, key=lambda draft: draft.score, default=Draft())

    def accept(self, request: DraftRequest, tokens: Sequence[int]) -> None:
        request.output.extend(tokens)
        if request.request_tree is not None:
            request.request_tree.extend("self", tokens)

    def finish_epoch(self, rollouts: Sequence[Tuple[Hashable, List[int]]]) -> None:
        for problem_id, tokens in rollouts:
            self._rollouts_added += 1
            if "problem" in self.scopes:
                tree = self.problem_trees.get(problem_id)
                if tree is None:
                    tree = self.problem_trees[problem_id] = WindowedSuffixTree(self.max_depth, self.problem_window)
                tree.add(self._rollouts_added, tokens)
            if "global" in self.scopes:
                self.global_tree.add(self._rollouts_added, tokens)


DRAFTER_KINDS = ("none", "ngram", "suffix")
