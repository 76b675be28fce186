import re

from helm_plugins.synthetic.fact_world import ATTRIBUTES, NUM_OPTIONS, generate_fact_questions
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
