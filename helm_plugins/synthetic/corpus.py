"""Seeded pretraining corpora mixed from the synthetic generators.

Task documents are rendered in the exact prompt format of the synthetic HELM scenarios, some with one or two
solved examples before the question (as HELM's few-shot prompts have), so a model trained on the corpus can be
evaluated by helm-run zero- or few-shot. Arithmetic documents only use the training operand pairs, and the
closed-book fact world asks questions only about its training pairs (held-out pairs are stated in biographies
only); the scenarios evaluate on what is held out.
"""

import random
from typing import Callable, Dict, Iterator, List, Literal, TypeVar, Union

from helm_plugins.synthetic.arithmetic import generate_arithmetic_problems
from helm_plugins.synthetic.chat_formats import CHAT_KINDS
from helm_plugins.synthetic.fact_world import (
    generate_biographies,
    generate_closed_book_questions,
    generate_fact_questions,
    generate_world_quizzes,
)
from helm_plugins.synthetic.prompts import arithmetic_document, fact_document
from helm_plugins.synthetic.stories import generate_stories

Stream = Literal["train", "validation"]
T = TypeVar("T")
SHOT_COUNTS = (0, 1, 2)
SHOT_WEIGHTS = (0.7, 0.2, 0.1)
FEW_SHOT_KINDS = ("arithmetic", "fact_world", "fact_world_closed_book")  # the kinds that are HELM tasks


def _few_shot(items: List[T], shots: Iterator[int], render: Callable[[T, List[T]], str]) -> Iterator[str]:
    """Documents of k solved examples then one question, k drawn per document from `shots`."""
    pool = iter(items)
    for k in shots:
        examples = [next(pool) for _ in range(k)]
        yield render(next(pool), examples)


DocumentKind = Callable[[int, str, Iterator[int]], Iterator[str]]
DOCUMENT_KINDS: Dict[str, DocumentKind] = {
    "arithmetic": lambda n, seed, shots: _few_shot(
        generate_arithmetic_problems(n, seed, split="train"), shots, arithmetic_document
    ),
    "fact_world": lambda n, seed, shots: _few_shot(generate_fact_questions(n, seed, split="train"), shots, fact_document),
    "fact_world_closed_book": lambda n, seed, shots: _few_shot(
        generate_closed_book_questions(n, seed, split="train"),
        shots,
        lambda question, examples: fact_document(question, examples, closed_book=True),
    ),
    "biography": lambda n, seed, shots: iter(generate_biographies(n, seed)),
    "world_quiz": lambda n, seed, shots: iter(generate_world_quizzes(n, seed)),
    "stories": lambda n, seed, shots: iter(generate_stories(n, seed)),
    # chat transcripts in the formats the suite sends (helm-plugins/tiny-chat): see chat_formats.py
    **{kind: (lambda n, seed, shots, kind=kind: CHAT_KINDS[kind](n, seed)) for kind in CHAT_KINDS},
}


def generate_documents(mixture: Dict[str, float], num_documents: int, seed: Union[int, str], stream: Stream) -> List[str]:
    """`num_documents` documents drawn from `mixture` (kind -> weight); streams never share a random stream."""
    unknown = sorted(set(mixture) - set(DOCUMENT_KINDS))
    if unknown:
        raise ValueError(f"unknown document kinds {unknown}; choose from {sorted(DOCUMENT_KINDS)}")
    rng = random.Random(f"corpus:{stream}:{seed}")
    kinds = rng.choices(list(mixture), weights=list(mixture.values()), k=num_documents)
    shots = rng.choices(SHOT_COUNTS, weights=SHOT_WEIGHTS, k=num_documents)
    shots_by_kind: Dict[str, List[int]] = {kind: [] for kind in mixture}
    for kind, k in zip(kinds, shots):
        shots_by_kind[kind].append(k if kind in FEW_SHOT_KINDS else 0)
    generators = {
        kind: DOCUMENT_KINDS[kind](len(ks) + sum(ks), f"{stream}:{seed}", iter(ks)) for kind, ks in shots_by_kind.items()
    }
    return [next(generators[kind]) for kind in kinds]
