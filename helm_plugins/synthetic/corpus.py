"""Seeded pretraining corpora mixed from the synthetic generators.

Task documents are rendered in the exact prompt format of the synthetic HELM scenarios, some with one or two
solved examples before the question (as HELM's few-shot prompts have), so a model trained on the corpus can be
evaluated by helm-run zero- or few-shot. Arithmetic documents only use the training operand pairs, and the
closed-book fact world asks questions only about its training pairs (held-out pairs are stated in biographies
only); the scenarios evaluate on what is held out.
"""

import random
from typing import Callable, Dict, Iterator, List, Literal, Union

from helm_plugins.synthetic.arithmetic import generate_arithmetic_problems
from helm_plugins.synthetic.fact_world import (
    generate_biographies,
    generate_closed_book_questions,
    generate_fact_questions,
    generate_world_quizzes,
)
from helm_plugins.synthetic.prompts import arithmetic_document, fact_document
from helm_plugins.synthetic.stories import generate_stories

Stream = Literal["train", "validation"]
SHOT_COUNTS = (0, 1, 2)
SHOT_WEIGHTS = (0.7, 0.2, 0.1)
FEW_SHOT_KINDS = ("arithmetic", "fact_world", "fact_world_closed_book")  # the kinds that are HELM tasks


def _arithmetic(num_items: int, seed: str, shots: Iterator[int]) -> Iterator[str]:
    problems = iter(generate_arithmetic_problems(num_items, seed, split="train"))
    for k in shots:
        examples = [next(problems) for _ in range(k)]
        yield arithmetic_document(next(problems), examples)


def _fact_world(num_items: int, seed: str, shots: Iterator[int]) -> Iterator[str]:
    questions = iter(generate_fact_questions(num_items, seed, split="train"))
    for k in shots:
        examples = [next(questions) for _ in range(k)]
        yield fact_document(next(questions), examples)


def _fact_world_closed_book(num_items: int, seed: str, shots: Iterator[int]) -> Iterator[str]:
    questions = iter(generate_closed_book_questions(num_items, seed, split="train"))
    for k in shots:
        examples = [next(questions) for _ in range(k)]
        yield fact_document(next(questions), examples, closed_book=True)


def _biography(num_items: int, seed: str, shots: Iterator[int]) -> Iterator[str]:
    return iter(generate_biographies(num_items, seed))


def _world_quiz(num_items: int, seed: str, shots: Iterator[int]) -> Iterator[str]:
    return iter(generate_world_quizzes(num_items, seed))


def _stories(num_items: int, seed: str, shots: Iterator[int]) -> Iterator[str]:
    return iter(generate_stories(num_items, seed))


DOCUMENT_KINDS: Dict[str, Callable[[int, str, Iterator[int]], Iterator[str]]] = {
    "arithmetic": _arithmetic,
    "fact_world": _fact_world,
    "fact_world_closed_book": _fact_world_closed_book,
    "biography": _biography,
    "world_quiz": _world_quiz,
    "stories": _stories,
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
