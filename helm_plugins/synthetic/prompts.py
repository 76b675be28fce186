"""The prompt formats of the synthetic tasks, written exactly as HELM's adapters render them.

The run specs give HELM the same instructions and prefixes, and a test checks that HELM's rendered prompt equals
`render_*_prompt`, so the embedded default model is trained on the very text it is evaluated on.
"""

import string
from typing import Sequence

from helm_plugins.synthetic.arithmetic import ArithmeticProblem
from helm_plugins.synthetic.fact_world import WORLD_QUIZ_INSTRUCTIONS, FactQuestion

ARITHMETIC_INSTRUCTIONS = "Solve the problem step by step. End with: The answer is N."
FACT_WORLD_INSTRUCTIONS = "Read the facts, then answer with the letter of the correct option."
CLOSED_BOOK_INSTRUCTIONS = "Answer with the letter of the correct option."
INPUT_NOUN = "Question"
OUTPUT_NOUN = "Answer"


def _join_blocks(instructions: str, example_blocks: Sequence[str], query_block: str) -> str:
    # HELM: format_instructions adds "\n"; blocks are joined by instance_prefix "\n".
    blocks = ([instructions + "\n"] if instructions else []) + list(example_blocks) + [query_block]
    return "\n".join(blocks)


def arithmetic_example_block(problem: ArithmeticProblem, with_answer: bool) -> str:
    block = f"{INPUT_NOUN}: {problem.question}\n{OUTPUT_NOUN}:"
    return block + f" {problem.solution}\n" if with_answer else block


def render_arithmetic_prompt(problem: ArithmeticProblem, examples: Sequence[ArithmeticProblem] = ()) -> str:
    return _join_blocks(
        ARITHMETIC_INSTRUCTIONS,
        [arithmetic_example_block(p, with_answer=True) for p in examples],
        arithmetic_example_block(problem, with_answer=False),
    )


def option_letter(index: int) -> str:
    return string.ascii_uppercase[index]


def fact_example_block(question: FactQuestion, with_answer: bool) -> str:
    options = "".join(f"{option_letter(i)}. {option}\n" for i, option in enumerate(question.options))
    block = f"{INPUT_NOUN}: {question.text}\n{options}{OUTPUT_NOUN}:"
    return block + f" {option_letter(question.correct_index)}\n" if with_answer else block


def render_fact_prompt(question: FactQuestion, examples: Sequence[FactQuestion] = (), closed_book: bool = False) -> str:
    """The multiple-choice (joint) prompt: HELM's `multiple_choice_joint` method."""
    return _join_blocks(
        CLOSED_BOOK_INSTRUCTIONS if closed_book else FACT_WORLD_INSTRUCTIONS,
        [fact_example_block(q, with_answer=True) for q in examples],
        fact_example_block(question, with_answer=False),
    )


def render_fact_option_prompt(question: FactQuestion, option: str) -> str:
    """One of the prompts of HELM's `multiple_choice_separate_original` method, scored by its likelihood.

    It is the short-answer format of the world quizzes, so the option's likelihood is the model's belief.
    """
    return _join_blocks(WORLD_QUIZ_INSTRUCTIONS, [], f"{INPUT_NOUN}: {question.text}\n{OUTPUT_NOUN}: {option}")


def arithmetic_document(problem: ArithmeticProblem, examples: Sequence[ArithmeticProblem] = ()) -> str:
    """A training document: the prompt followed by the gold continuation."""
    return render_arithmetic_prompt(problem, examples) + f" {problem.solution}\n"


def fact_document(question: FactQuestion, examples: Sequence[FactQuestion] = (), closed_book: bool = False) -> str:
    return render_fact_prompt(question, examples, closed_book) + f" {option_letter(question.correct_index)}\n"
