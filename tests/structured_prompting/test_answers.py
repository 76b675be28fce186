"""How option letters are read from a model's output: explicit answer statements beat capitals that start a word."""

import pytest

from helm_plugins.structured_prompting.benchmarks import extract_answer

LETTERS = "ABCDE"


@pytest.mark.parametrize(
    "output, letter",
    [
        ("B", "B"),
        ("(B)", "B"),
        ("B.", "B"),
        ("  D  ", "D"),
        ("B. Leeds", "B"),
        ("(C) Paris", "C"),
        ("I think the answer is (C)", "C"),
        ("I think the answer is C.", "C"),
        ("E. coli is a gram-negative bacterium, so the answer is B", "B"),
        ("Answer: D", "D"),
        ("The correct answer is: (A) Paris", "A"),
        ("The correct option is C.", "C"),
        ("Answer: The answer is B", "B"),
        ("The answer is **C**", "C"),
        ("The answer is B, since option A is wrong", "B"),
        ("Option A is wrong. Answer: (B)", "B"),
        ("A. Paris. On reflection the answer is (D)", "D"),
        ("the final answer is \\boxed{C}", "C"),
        ("The answer is (F)", None),  # not one of the options
        ("the answer is a bit unclear", None),
        ("The answer is Bacteria", None),
        ("I am not sure", None),
        ("A patient presents with fever", None),
        ("", None),
        (None, None),
    ],
)
def test_letter_table(output, letter):
    assert extract_answer("letter", output, LETTERS) == letter


def test_numbers_and_text():
    assert extract_answer("number", "It is 1,234.", []) == "It is 1,234."
    assert extract_answer("number", "no idea", []) is None
    assert extract_answer("text", "  CORRECT ", []) == "CORRECT"
