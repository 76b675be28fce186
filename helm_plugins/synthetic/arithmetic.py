"""Templated arithmetic word problems with worked, digit-by-digit solutions.

A problem adds or subtracts two numbers below 100. Which operand pairs are held out for evaluation is a
fixed function of the pair (`is_held_out`), so a model trained on the "train" pairs is tested on pairs it has
never seen, whatever the seeds.

Example (split "train"):
    question: "Nora has 47 shells. She finds 38 more. How many shells does Nora have now?"
    solution: "47 + 38. Ones: 7 + 8 = 15, write 5 carry 1. Tens: 4 + 3 + 1 = 8. So 47 + 38 = 85. The answer is 85."
"""

import hashlib
import random
from dataclasses import dataclass
from typing import List, Literal, Union

from helm_plugins.synthetic.lexicon import COUNTABLE_OBJECTS, NAMES, PRONOUNS

Split = Literal["train", "test"]
HELD_OUT_FRACTION_DENOMINATOR = 5  # one pair in five is held out for evaluation
MAX_OPERAND = 99

ADDITION_TEMPLATES = (
    "{name} has {a} {obj}. {Pron} finds {b} more. How many {obj} does {name} have now?",
    "There are {a} {obj} in a box and {b} {obj} on a shelf. How many {obj} are there in all?",
    "A shop sold {a} {obj} on Monday and {b} {obj} on Tuesday. How many {obj} did it sell in total?",
    "{name} collected {a} {obj} and {name2} gave {obj_pron} {b} more. How many {obj} does {name} have?",
)
SUBTRACTION_TEMPLATES = (
    "{name} had {a} {obj} and gave {b} to {name2}. How many {obj} does {name} have left?",
    "There were {a} {obj} in a jar. {name} took {b} of them. How many {obj} are still in the jar?",
    "{name} needs {a} {obj} and already has {b}. How many more {obj} does {name} need?",
    "A basket held {a} {obj}. {b} of them were sold. How many {obj} were not sold?",
)


@dataclass(frozen=True)
class ArithmeticProblem:
    question: str
    solution: str
    answer: int
    a: int
    b: int
    op: str  # "+" or "-"


def is_held_out(a: int, b: int, op: str) -> bool:
    """Whether the pair (a op b) belongs to the evaluation split; stable across runs and machines."""
    digest = hashlib.blake2b(f"{op}:{a}:{b}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") % HELD_OUT_FRACTION_DENOMINATOR == 0


def worked_solution(a: int, b: int, op: str) -> str:
    a_tens, a_ones = divmod(a, 10)
    b_tens, b_ones = divmod(b, 10)
    if op == "+":
        ones = a_ones + b_ones
        if ones >= 10:
            ones_text = f"Ones: {a_ones} + {b_ones} = {ones}, write {ones - 10} carry 1."
            tens_text = f"Tens: {a_tens} + {b_tens} + 1 = {a_tens + b_tens + 1}."
        else:
            ones_text = f"Ones: {a_ones} + {b_ones} = {ones}."
            tens_text = f"Tens: {a_tens} + {b_tens} = {a_tens + b_tens}."
        result = a + b
    elif op == "-":
        if a < b:
            raise ValueError(f"subtraction problems need a >= b, got {a} - {b}")
        if a_ones < b_ones:
            ones_text = f"Ones: {a_ones} - {b_ones} needs a borrow, {a_ones + 10} - {b_ones} = {a_ones + 10 - b_ones}."
            tens_text = f"Tens: {a_tens} - 1 - {b_tens} = {a_tens - 1 - b_tens}."
        else:
            ones_text = f"Ones: {a_ones} - {b_ones} = {a_ones - b_ones}."
            tens_text = f"Tens: {a_tens} - {b_tens} = {a_tens - b_tens}."
        result = a - b
    else:
        raise ValueError(f"unknown operation {op!r}; expected '+' or '-'")
    return f"{a} {op} {b}. {ones_text} {tens_text} So {a} {op} {b} = {result}. The answer is {result}."


def _sample_pair(rng: random.Random, split: Split) -> tuple:
    while True:
        op = rng.choice("+-")
        a, b = rng.randint(2, MAX_OPERAND), rng.randint(1, MAX_OPERAND)
        if op == "-" and a < b:
            a, b = b, a
        if is_held_out(a, b, op) == (split == "test"):
            return a, b, op


def generate_arithmetic_problems(num: int, seed: Union[int, str], split: Split) -> List[ArithmeticProblem]:
    """`num` problems whose operand pairs all belong to `split`; the same seed gives the same problems."""
    rng = random.Random(f"arithmetic:{split}:{seed}")
    problems = []
    for _ in range(num):
        a, b, op = _sample_pair(rng, split)
        name, name2 = rng.sample(NAMES, 2)
        pronoun = PRONOUNS[name]
        template = rng.choice(ADDITION_TEMPLATES if op == "+" else SUBTRACTION_TEMPLATES)
        question = template.format(
            name=name,
            name2=name2,
            Pron=pronoun.capitalize(),
            obj_pron="her" if pronoun == "she" else "him",
            obj=rng.choice(COUNTABLE_OBJECTS),
            a=a,
            b=b,
        )
        answer = a + b if op == "+" else a - b
        problems.append(ArithmeticProblem(question, worked_solution(a, b, op), answer, a, b, op))
    return problems
