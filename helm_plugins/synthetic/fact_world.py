"""Multiple-choice questions about generated fact worlds, in two settings.

Passage (reading comprehension): each question comes with its own small world, three people with two
attributes each (city, pet, job, color or food) stated just before the question. The wrong options include the
other people's values of the same attribute, so answering needs binding the fact to the right person.

    text: "Omar keeps a goat. Nora lives in Dover. Omar lives in Leeds. ... Where does Omar live?"
    options: ["Riga", "Leeds", "Dover", "Lima"], correct index 1

Closed book (knowledge): one fixed world of every name in the lexicon with all five attributes, generated from
WORLD_SEED. The question comes without facts. A fifth of the (person, attribute) pairs, fixed by
`is_held_out_pair`, are held out: the pretraining corpus states them only in biographies, never as a question,
and the evaluation asks only those, so answering needs knowledge extracted from statements.

    text: "Where does Omar live?"   options: ["Lima", "Turin", "Leeds", "Oslo"]

Chance accuracy is 1 / NUM_OPTIONS in both.
"""

import hashlib
import random
from dataclasses import dataclass
from functools import lru_cache
from typing import Dict, List, Literal, Tuple, Union

from helm_plugins.synthetic.lexicon import CITIES, COLORS, FOODS, JOBS, NAMES, PETS

NUM_OPTIONS = 4
WORLD_SEED = "fact-world-1"
WORLD_QUIZ_INSTRUCTIONS = "Answer each question about the people of the world."
PEOPLE_PER_WORLD = 3
ATTRIBUTES_PER_PERSON = 2

# attribute -> (values, fact template, question template)
ATTRIBUTES: Dict[str, Tuple[Tuple[str, ...], str, str]] = {
    "city": (CITIES, "{name} lives in {value}.", "Where does {name} live?"),
    "pet": (PETS, "{name} keeps {a_value}.", "Which animal does {name} keep?"),
    "job": (JOBS, "{name} works as {a_value}.", "What is the job of {name}?"),
    "color": (COLORS, "{name} likes the color {value}.", "Which color does {name} like?"),
    "food": (FOODS, "{name} eats {value} for lunch.", "What does {name} eat for lunch?"),
}


@dataclass(frozen=True)
class FactQuestion:
    text: str  # the facts followed by the question (passage), or the question alone (closed book)
    options: Tuple[str, ...]
    correct_index: int
    attribute: str
    explanation: str  # the stated fact that answers the question, e.g. "Omar lives in Leeds."


def _state_fact(attribute: str, person: str, value: str) -> str:
    article = "an" if value[0] in "aeiou" else "a"
    return ATTRIBUTES[attribute][1].format(name=person, value=value, a_value=f"{article} {value}")


def _sample_world(rng: random.Random) -> Tuple[List[str], List[str], Dict[str, Dict[str, str]], List[str]]:
    """(people, attributes, attribute -> person -> value, shuffled fact sentences)."""
    people = rng.sample(NAMES, PEOPLE_PER_WORLD)
    attributes = rng.sample(sorted(ATTRIBUTES), ATTRIBUTES_PER_PERSON)
    world = {
        attribute: dict(zip(people, rng.sample(ATTRIBUTES[attribute][0], PEOPLE_PER_WORLD))) for attribute in attributes
    }
    facts = [
        _state_fact(attribute, person, world[attribute][person])
        for attribute in attributes
        for person in people
    ]
    rng.shuffle(facts)
    return people, attributes, world, facts


def generate_fact_questions(num: int, seed: Union[int, str], split: Literal["train", "test"]) -> List[FactQuestion]:
    """`num` questions, each about a freshly sampled world; splits use disjoint random streams."""
    rng = random.Random(f"fact_world:{split}:{seed}")
    questions = []
    for _ in range(num):
        people, attributes, world, facts = _sample_world(rng)
        person, attribute = rng.choice(people), rng.choice(attributes)
        values = ATTRIBUTES[attribute][0]
        correct = world[attribute][person]
        in_passage = [world[attribute][other] for other in people if other != person]
        outside = [v for v in values if v not in world[attribute].values()]
        options = [correct] + in_passage + rng.sample(outside, NUM_OPTIONS - 1 - len(in_passage))
        rng.shuffle(options)
        question = ATTRIBUTES[attribute][2].format(name=person)
        questions.append(
            FactQuestion(
                " ".join(facts + [question]),
                tuple(options),
                options.index(correct),
                attribute,
                _state_fact(attribute, person, correct),
            )
        )
    return questions


# ----- closed book: one fixed world -----


@lru_cache(maxsize=1)
def fixed_world() -> Dict[str, Dict[str, str]]:
    """person -> attribute -> value, the same on every machine."""
    rng = random.Random(WORLD_SEED)
    return {person: {attribute: rng.choice(ATTRIBUTES[attribute][0]) for attribute in ATTRIBUTES} for person in NAMES}


def is_held_out_pair(person: str, attribute: str) -> bool:
    digest = hashlib.blake2b(f"{WORLD_SEED}:{person}:{attribute}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") % 5 == 0


def world_pairs(split: Literal["train", "test"]) -> List[Tuple[str, str]]:
    return [(p, a) for p in NAMES for a in sorted(ATTRIBUTES) if is_held_out_pair(p, a) == (split == "test")]


def generate_closed_book_questions(
    num: int, seed: Union[int, str], split: Literal["train", "test"]
) -> List[FactQuestion]:
    """Questions about the fixed world; the "test" split asks only the held-out pairs."""
    rng = random.Random(f"closed_book:{split}:{seed}")
    world, pairs = fixed_world(), world_pairs(split)
    questions = []
    for _ in range(num):
        person, attribute = rng.choice(pairs)
        correct = world[person][attribute]
        options = [correct] + rng.sample([v for v in ATTRIBUTES[attribute][0] if v != correct], NUM_OPTIONS - 1)
        rng.shuffle(options)
        questions.append(
            FactQuestion(
                ATTRIBUTES[attribute][2].format(name=person),
                tuple(options),
                options.index(correct),
                attribute,
                _state_fact(attribute, person, correct),
            )
        )
    return questions


def generate_biographies(num: int, seed: Union[int, str]) -> List[str]:
    """Training documents stating facts of the fixed world: one person, three to five facts in random order."""
    rng = random.Random(f"biography:{seed}")
    world = fixed_world()
    documents = []
    for _ in range(num):
        person = rng.choice(NAMES)
        attributes = rng.sample(sorted(ATTRIBUTES), rng.randint(3, len(ATTRIBUTES)))
        documents.append(" ".join(_state_fact(a, person, world[person][a]) for a in attributes) + "\n")
    return documents


def generate_world_quizzes(num: int, seed: Union[int, str]) -> List[str]:
    """Training documents of short-answer questions about the fixed world, on the training pairs only."""
    rng = random.Random(f"world_quiz:{seed}")
    world = fixed_world()
    pairs = world_pairs("train")
    documents = []
    for _ in range(num):
        lines = [WORLD_QUIZ_INSTRUCTIONS, ""]
        for person, attribute in rng.sample(pairs, rng.randint(2, 4)):
            lines += [f"Question: {ATTRIBUTES[attribute][2].format(name=person)}", f"Answer: {world[person][attribute]}"]
        documents.append("\n".join(lines) + "\n")
    return documents
