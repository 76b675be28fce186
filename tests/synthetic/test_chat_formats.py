import re

import pytest

from helm_plugins.synthetic.arithmetic import ADDITION_TEMPLATES, SUBTRACTION_TEMPLATES, generate_arithmetic_problems, is_held_out
from helm_plugins.synthetic.chat_formats import (
    CHAT_KINDS,
    MAX_DOCUMENT_CHARACTERS,
    UQ_TITLE,
    check_text,
    render_chat,
    wrong_solution,
)
from helm_plugins.synthetic.corpus import generate_documents
from helm_plugins.synthetic.fact_world import ATTRIBUTES, generate_fact_questions, is_held_out_pair
from helm_plugins.synthetic.lexicon import NAMES

MIXTURE = {kind: 1.0 for kind in CHAT_KINDS}


def _template_pattern(template: str) -> str:
    pattern = re.escape(template)
    for field in ("a", "b"):
        pattern = pattern.replace(re.escape("{" + field + "}"), r"(\d+)", 1)
        pattern = pattern.replace(re.escape("{" + field + "}"), r"\d+")
    return re.sub(r"\\\{[a-z_A-Z0-9]+\\\}", r"[A-Za-z]+", pattern)


QUESTION_PATTERNS = [(re.compile(_template_pattern(t)), "+") for t in ADDITION_TEMPLATES] + [
    (re.compile(_template_pattern(t)), "-") for t in SUBTRACTION_TEMPLATES
]
STATED_OPERANDS = re.compile(r"(?<![\d:] )\b(\d+) ([+-]) (\d+)(?=\. Ones|\?|\. \[\[|, the other| = \d+\. The)")
CLOSED_BOOK_QUESTIONS = {
    template.format(name=name): (name, attribute)
    for attribute, (_, _, template) in ATTRIBUTES.items()
    for name in NAMES
}


@pytest.fixture(scope="module")
def documents():
    return generate_documents(MIXTURE, 1400, 0, "train") + generate_documents(MIXTURE, 300, 0, "validation")


def test_every_kind_is_generated_and_fits_the_context(documents):
    assert all(doc.startswith("<|") and "<|assistant|>\n" in doc for doc in documents)
    assert max(len(doc) for doc in documents) <= MAX_DOCUMENT_CHARACTERS + 400  # a demo-less prompt is never cut
    joined = "\n".join(documents)
    for marker in ("[[ ## output ## ]]", "[[ ## reasoning ## ]]", '"reasoning":', "[[Y]]", "[[N]]",
                   "Not supplied for this particular example.", "Answer with the letter of the correct option."):
        assert marker in joined, marker


def test_corpus_asks_no_evaluation_operand_pair(documents):
    seen = 0
    for doc in documents:
        for pattern, op in QUESTION_PATTERNS:
            for match in pattern.finditer(doc):
                a, b = int(match.group(1)), int(match.group(2))
                assert not is_held_out(a, b, op), f"held-out pair {a} {op} {b} in a training document"
                seen += 1
        # operands as worked solutions, checks and reconstructed questions state them (not the digit steps)
        for a, op, b in STATED_OPERANDS.findall(doc):
            assert not is_held_out(int(a), int(b), op), f"held-out pair {a} {op} {b} in a training document"
    assert seen > 2000  # the check saw the questions (Predict replies state no operands)


def test_corpus_shares_no_question_with_evaluation_splits(documents):
    joined = "\n".join(documents)
    for seed in range(3):
        for problem in generate_arithmetic_problems(200, seed, "test"):
            assert problem.question not in joined
        for question in generate_fact_questions(200, seed, "test"):
            assert question.text not in joined
    asked = re.findall(r"Question: ([^\n]*)\n", joined)
    closed_book = [CLOSED_BOOK_QUESTIONS[q] for q in asked if q in CLOSED_BOOK_QUESTIONS]
    assert len(closed_book) > 50
    assert not any(is_held_out_pair(person, attribute) for person, attribute in closed_book)


def test_judge_replies_check_the_stated_result():
    import random

    problem = generate_arithmetic_problems(1, 0, "train")[0]
    wrong_text, wrong = wrong_solution(problem, random.Random(0))
    assert wrong != problem.answer and f"The answer is {wrong}." in wrong_text
    assert check_text(problem, wrong).endswith(f"gives {wrong}, which is wrong.")
    assert check_text(problem, problem.answer).endswith("which is correct.")
    judged = generate_documents({"judge": 1.0}, 40, 0, "train")
    assert sum(UQ_TITLE in doc for doc in judged) > 20
    assert all(doc.rstrip().endswith(("[[Y]]", "[[N]]")) for doc in judged if "End with" in doc and "reconstructed" not in doc)


def test_chat_rendering_matches_the_template_form():
    messages = [{"role": "system", "content": "S"}, {"role": "user", "content": "U"}]
    assert render_chat(messages, add_generation_prompt=True) == (
        "<|system|>\nS<|endoftext|><|user|>\nU<|endoftext|><|assistant|>\n")


def test_corpus_is_seeded():
    assert generate_documents(MIXTURE, 50, 3, "train") == generate_documents(MIXTURE, 50, 3, "train")
    assert generate_documents(MIXTURE, 50, 3, "train") != generate_documents(MIXTURE, 50, 4, "train")


def test_the_leak_check_finds_a_planted_evaluation_question():
    problem = generate_arithmetic_problems(1, 0, "test")[0]
    found = [(int(m.group(1)), int(m.group(2)), op) for pattern, op in QUESTION_PATTERNS
             for m in pattern.finditer(f"Question: {problem.question}\nAnswer:")]
    assert found == [(problem.a, problem.b, problem.op)] and is_held_out(problem.a, problem.b, problem.op)
    assert STATED_OPERANDS.findall(problem.solution) == [(str(problem.a), problem.op, str(problem.b))] * 2


def test_compare_checks_quote_recompute_compare_digits_and_conclude():
    import random

    from helm_plugins.synthetic.chat_formats import compare_text

    problem = next(p for p in generate_arithmetic_problems(50, 0, "train") if 10 <= p.answer <= 89)
    text = compare_text(problem, problem.answer + 10)
    tens, ones = divmod(problem.answer, 10)
    assert text.startswith(f"The answer under review says {problem.answer + 10}. Check: {problem.a} {problem.op} {problem.b}.")
    assert text.endswith(f"So {problem.a} {problem.op} {problem.b} = {problem.answer}. Compare {problem.answer} with "
                         f"{problem.answer + 10}: ones {ones} and {ones} same, tens {tens} and {tens + 1} differ. "
                         "So the answer is wrong.")
    assert compare_text(problem, problem.answer).endswith(f"tens {tens} and {tens} same. So the answer is correct.")
    assert compare_text(problem, 100 + problem.answer).endswith("hundreds 0 and 1 differ. So the answer is wrong.")
    assert compare_text(problem, -problem.answer).endswith("signs differ. So the answer is wrong.")
    judged = generate_documents({"judge_compare": 1.0}, 200, 0, "train")
    compared = [doc for doc in judged if "The answer under review says" in doc]
    assert len(compared) > 60
    for doc in compared:  # every comparison is right, and the verdict follows from it, on right and wrong answers
        reply = doc.rsplit("<|assistant|>\n", 1)[1].removesuffix("<|endoftext|>")
        computed, stated, places = re.search(r"Compare (\d+) with (-?\d+): ([^.]*)\.", reply).groups()
        width = max(len(computed), len(stated.lstrip("-")))
        for i, (place, mine, theirs, relation) in enumerate(re.findall(r"(\w+) (\d) and (\d) (same|differ)", places)):
            assert (mine, theirs) == (computed.zfill(width)[-1 - i], stated.lstrip("-").zfill(width)[-1 - i]), place
            assert (relation == "same") == (mine == theirs)
        right = computed == stated
        assert right == ("differ" not in places)
        assert reply.endswith("So the answer is correct. [[Y]]" if right else "So the answer is wrong. [[N]]")
    assert {"[[Y]]" in doc.rsplit("<|assistant|>", 1)[1] for doc in compared} == {True, False}
