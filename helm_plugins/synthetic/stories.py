"""Short stories from a small template grammar: the general-language part of the synthetic corpus.

Example: "Once upon a time, there was a shy frog named Milo. Milo lived near the pond. One day, Milo
found a red key under a stone. ..."
"""

import random
from typing import List, Union

from helm_plugins.synthetic.lexicon import ADJECTIVES, ANIMALS, COLORS, FEELINGS, NAMES, PLACES, THINGS

OPENINGS = (
    "Once upon a time, there was a {adj} {animal} named {name}.",
    "{name} was a {adj} {animal} who lived near the {place}.",
    "In a small {place}, there lived a {adj} {animal} called {name}.",
)
SETTINGS = (
    "{name} lived near the {place}.",
    "Every morning, {name} walked to the {place}.",
    "{name} liked to play by the {place}.",
)
EVENTS = (
    "One day, {name} found a {color} {thing} under a stone.",
    "One day, {name} lost {poss} {color} {thing} near the {place2}.",
    "One day, a {animal2} asked {name} for help.",
    "One morning, {name} saw a {color} {thing} in the {place2}.",
)
MIDDLES = (
    "{Pron} looked at it for a long time.",
    "{Pron} did not know what to do.",
    "{Pron} asked {poss} friend the {animal2} for advice.",
    "{Pron} walked all the way to the {place2}.",
    "The {animal2} said, \"Let us go together.\"",
    "It started to rain, but {name} kept going.",
)
ENDINGS = (
    "In the end, {name} felt {feeling}.",
    "After that day, {name} and the {animal2} were good friends.",
    "{name} took the {thing} home and smiled.",
    "From then on, {name} always visited the {place2}.",
)


def generate_stories(num: int, seed: Union[int, str]) -> List[str]:
    rng = random.Random(f"stories:{seed}")
    stories = []
    for _ in range(num):
        name = rng.choice(NAMES)
        pronoun = rng.choice(("he", "she"))
        animal, animal2 = rng.sample(ANIMALS, 2)
        place, place2 = rng.sample(PLACES, 2)
        slots = dict(
            name=name,
            Pron=pronoun.capitalize(),
            poss="his" if pronoun == "he" else "her",
            adj=rng.choice(ADJECTIVES),
            animal=animal,
            animal2=animal2,
            place=place,
            place2=place2,
            thing=rng.choice(THINGS),
            color=rng.choice(COLORS),
            feeling=rng.choice(FEELINGS),
        )
        sentences = [rng.choice(OPENINGS), rng.choice(SETTINGS), rng.choice(EVENTS)]
        sentences += rng.sample(MIDDLES, rng.randint(1, 3))
        sentences.append(rng.choice(ENDINGS))
        stories.append(" ".join(sentence.format(**slots) for sentence in sentences))
    return stories
