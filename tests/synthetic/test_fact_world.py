import re

from helm_plugins.synthetic.fact_world import (
    ATTRIBUTES,
    NUM_OPTIONS,
    fixed_world,
    generate_biographies,
    generate_closed_book_questions,
    generate_fact_questions,
    generate_world_quizzes,
    world_pairs,
)
from helm_plugins.synthetic.lexicon import NAMES


def _facts(text):
    """Parse the stated facts back into {(person, attribute): value}."""
    facts = {}
    for attribute, (_, fact_template, _) in ATTRIBUTES.items():
        pattern = re.escape(fact_template).replace(r"\{name\}", r"(\w+)").replace(r"\{value\}", r"(\w+)")
        pattern = pattern.replace(r"\{a_value\}", r"an?\ (\w+)")
        for person, value in re.findall(pattern, text):
            facts[(person, attribute)] = value
    return facts


def test_the_correct_option_is_the_stated_fact():
    for question in generate_fact_questions(300, seed=0, split="test"):
        facts = _facts(question.text)
        assert len(facts) == 6
        asked_sentence = question.text.rsplit(". ", 1)[1]
        person = next(name for name in NAMES if f" {name} " in f" {asked_sentence} ".replace("?", " "))
        assert question.options[question.correct_index] == facts[(person, question.attribute)]


def test_wrong_options_include_other_people_values():
    for question in generate_fact_questions(100, seed=0, split="train"):
        facts = _facts(question.text)
        same_attribute = {v for (p, a), v in facts.items() if a == question.attribute}
        assert len(question.options) == NUM_OPTIONS == len(set(question.options))
        assert same_attribute <= set(question.options)


def test_correct_letters_are_balanced():
    counts = [0] * NUM_OPTIONS
    for question in generate_fact_questions(2000, seed=0, split="test"):
        counts[question.correct_index] += 1
    assert min(counts) > 400


def test_splits_and_seeds_give_different_worlds():
    assert generate_fact_questions(20, 0, "train") != generate_fact_questions(20, 0, "test")
    assert generate_fact_questions(20, 0, "test") == generate_fact_questions(20, 0, "test")


def test_closed_book_world_is_fixed_and_questions_respect_the_held_out_pairs():
    world = fixed_world()
    assert world == fixed_world() and set(world) == set(NAMES)
    train, test = set(world_pairs("train")), set(world_pairs("test"))
    assert not train & test and len(test) > 20 and len(train | test) == len(NAMES) * len(ATTRIBUTES)
    for split, pairs in (("train", train), ("test", test)):
        for question in generate_closed_book_questions(300, seed=1, split=split):
            person = next(name for name in NAMES if f" {name} " in f" {question.text} ".replace("?", " "))
            assert (person, question.attribute) in pairs
            assert question.options[question.correct_index] == world[person][question.attribute]
            assert len(set(question.options)) == NUM_OPTIONS


def test_held_out_pairs_are_stated_in_biographies_but_never_asked_in_quizzes():
    world = fixed_world()
    held_out_questions = {ATTRIBUTES[a][2].format(name=p) for p, a in world_pairs("test")}
    for quiz in generate_world_quizzes(2000, seed=0):
        for line in quiz.splitlines():
            assert line.removeprefix("Question: ") not in held_out_questions
    stated = {(p, a) for biography in generate_biographies(3000, seed=0) for (p, a), v in _facts(biography).items()}
    assert set(world_pairs("test")) <= stated
    for biography in generate_biographies(200, seed=0):
        for (person, attribute), value in _facts(biography).items():
            assert world[person][attribute] == value
