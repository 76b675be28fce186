"""Multiple-choice questions about small generated fact worlds.

Each question comes with its own world: three people, each with two attributes (city, pet, job, color or
food) stated as facts, then a question about one person's attribute. The wrong options include the other
people's values of the same attribute, so answering needs binding the fact to the right person, not just
spotting a word of the passage. Chance accuracy is 1 / NUM_OPTIONS.

Example:
    text: "Omar keeps a goat. Nora lives in Dover. Omar lives in Leeds. ... Where does Omar live?"
    options: ["Riga", "Leeds", "Dover", "Lima"], correct index 1
    explanation (the chain of thought): "Omar lives in Leeds."
"""

import random
from dataclasses import dataclass
from typing import Dict, List, Literal, Tuple, Union

from helm_plugins.synthetic.lexicon import CITIES, COLORS, FOODS, JOBS, NAMES, PETS

NUM_OPTIONS = 4
QUIZ_INSTRUCTIONS = "Read the facts, then answer each question."
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
    text: str  # the facts followed by the question
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


def generate_fact_quizzes(num: int, seed: Union[int, str]) -> List[str]:
    """Training-only documents: one world, then every question about it with its short answer.

    Each answer restates the fact ("Answer: Omar lives in Leeds."): the question gives the start of the
    sentence and the facts its end, which teaches a small model to bind values to people by copying.
    """
    rng = random.Random(f"fact_quiz:{seed}")
    quizzes = []
    for _ in range(num):
        people, attributes, world, facts = _sample_world(rng)
        pairs = [(person, attribute) for person in people for attribute in attributes]
        rng.shuffle(pairs)
        lines = [QUIZ_INSTRUCTIONS, "", "Facts: " + " ".join(facts)]
        for person, attribute in pairs:
            lines.append("Question: " + ATTRIBUTES[attribute][2].format(name=person))
            lines.append("Answer: " + _state_fact(attribute, person, world[attribute][person]))
        quizzes.append("\n".join(lines) + "\n")
    return quizzes
