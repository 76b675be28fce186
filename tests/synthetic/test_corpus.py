import re

import pytest

from helm_plugins.synthetic.arithmetic import is_held_out
from helm_plugins.synthetic.corpus import generate_documents
from helm_plugins.synthetic.fact_world import ATTRIBUTES, WORLD_QUIZ_INSTRUCTIONS, world_pairs
from helm_plugins.synthetic.prompts import ARITHMETIC_INSTRUCTIONS, CLOSED_BOOK_INSTRUCTIONS, FACT_WORLD_INSTRUCTIONS

MIXTURE = {"arithmetic": 0.5, "fact_world": 0.3, "stories": 0.2}
CLOSED_BOOK = {"biography": 0.3, "world_quiz": 0.3, "fact_world_closed_book": 0.4}


def test_mixture_weights_and_determinism():
    documents = generate_documents(MIXTURE, 3000, seed=0, stream="train")
    assert documents == generate_documents(MIXTURE, 3000, seed=0, stream="train")
    arithmetic = sum(d.startswith(ARITHMETIC_INSTRUCTIONS) for d in documents) / len(documents)
    facts = sum(d.startswith(FACT_WORLD_INSTRUCTIONS) for d in documents) / len(documents)
    assert abs(arithmetic - 0.5) < 0.04 and abs(facts - 0.3) < 0.04


def test_arithmetic_documents_never_contain_held_out_pairs():
    for document in generate_documents({"arithmetic": 1.0}, 2000, seed=0, stream="train"):
        for a, op, b in re.findall(r"Answer: (\d+) ([+-]) (\d+)\.", document):
            assert not is_held_out(int(a), int(b), op)


def test_some_documents_are_few_shot():
    documents = generate_documents({"arithmetic": 1.0}, 500, seed=0, stream="train")
    shots = [d.count("\nAnswer:") - 1 for d in documents]
    assert set(shots) == {0, 1, 2}


def test_validation_stream_differs_from_training():
    train = set(generate_documents(MIXTURE, 500, seed=0, stream="train"))
    validation = generate_documents(MIXTURE, 200, seed=0, stream="validation")
    assert len(train.intersection(validation)) < 5


def test_unknown_kind_is_rejected():
    with pytest.raises(ValueError, match="unknown document kinds \\['poems'\\]"):
        generate_documents({"poems": 1.0}, 10, seed=0, stream="train")


def test_closed_book_documents_ask_only_training_pairs():
    held_out = {ATTRIBUTES[a][2].format(name=p) for p, a in world_pairs("test")}
    documents = generate_documents(CLOSED_BOOK, 3000, seed=0, stream="train")
    kinds = {d.split("\n")[0] for d in documents}
    assert CLOSED_BOOK_INSTRUCTIONS in kinds and WORLD_QUIZ_INSTRUCTIONS in kinds
    for document in documents:
        for question in re.findall(r"Question: ([^\n]*\?)", document):
            assert question not in held_out
