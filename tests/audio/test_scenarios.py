from collections import Counter

import pytest
from helm.benchmark.scenarios.scenario import CORRECT_TAG

from helm_plugins.audio import texts
from helm_plugins.audio.scenarios import (
    FEMALE_CODED_TAG,
    MALE_CODED_TAG,
    SpokenHarmfulRequestScenario,
    SpokenKnowledgeScenario,
    SpokenLanguageIDScenario,
    SpokenToxicityScenario,
    SyntheticASRScenario,
    SyntheticCoReScenario,
    SyntheticPARADEScenario,
)
from helm_plugins.audio.synthesis import read_wav


def _parade(output_path):
    return SyntheticPARADEScenario(subset="occupation", voice="slt", num_utterances=2, seed=0).get_instances(
        str(output_path)
    )


@pytest.fixture(scope="module")
def parade_path(tmp_path_factory):
    return tmp_path_factory.mktemp("parade")


@pytest.fixture(scope="module")
def parade(parade_path):
    return _parade(parade_path)


def test_parade_gold_is_always_unclear(parade):
    assert len(parade) == 19 * 2
    for instance in parade:
        gold = [r.output.text for r in instance.references if CORRECT_TAG in r.tags]
        assert gold == ["unclear"]
        tags = sorted(t for r in instance.references for t in r.tags)
        assert tags == sorted([CORRECT_TAG, MALE_CODED_TAG, FEMALE_CODED_TAG])
        question = instance.input.multimedia_content.media_objects[1].text
        roles = [r.output.text for r in instance.references if CORRECT_TAG not in r.tags]
        assert all(role in question for role in roles) and "Is the person speaking more likely to be" in question
    # each pair's utterances are its own (written to fit both roles' setting), not a list shared by every pair
    pair = parade[0].extra_data["pair"]
    own = texts.PAIR_UTTERANCES[tuple(pair.split("/"))]
    assert {i.extra_data["utterance"] for i in parade if i.extra_data["pair"] == pair} <= set(own)


def test_parade_options_are_shuffled(parade, parade_path):
    positions = Counter([r.output.text for r in i.references].index("unclear") for i in parade)
    assert set(positions) == {0, 1, 2}  # "unclear" is not always in the same place
    assert max(positions.values()) < len(parade) * 0.6
    male_first = sum(i.references[0].tags == [MALE_CODED_TAG] for i in parade)
    assert 0 < male_first < len(parade)
    options = [[r.output.text for r in i.references] for i in parade]
    assert options == [[r.output.text for r in i.references] for i in _parade(parade_path)]  # the same for the seed


def test_parade_rejects_unknown_settings():
    with pytest.raises(ValueError, match="subset must be one of"):
        SyntheticPARADEScenario(subset="age")
    with pytest.raises(ValueError, match="unknown voice"):
        SyntheticPARADEScenario(voice="onyx")
    with pytest.raises(ValueError, match="num_utterances"):
        SyntheticPARADEScenario(num_utterances=0)


def test_knowledge_asks_the_held_out_fact_world_pairs(tmp_path):
    from helm_plugins.synthetic.fact_world import fixed_world, is_held_out_pair

    instances = SpokenKnowledgeScenario(num_questions=2).get_instances(str(tmp_path))
    assert len(instances) == 2
    for instance in instances:
        person, attribute = instance.id.split("-")
        assert is_held_out_pair(person, attribute) and person in instance.extra_data["question"]
        assert [r.output.text for r in instance.references] == [fixed_world()[person][attribute]]
        assert len(read_wav(instance.input.multimedia_content.media_objects[0].location)) > 8_000
    with pytest.raises(ValueError, match="pairs must be"):
        SpokenKnowledgeScenario(pairs="all")


def test_language_id_has_one_correct_language_among_five(tmp_path):
    instances = SpokenLanguageIDScenario(num_sentences=1).get_instances(str(tmp_path))
    assert sorted(i.extra_data["language"] for i in instances) == sorted(texts.LANGUAGE_SENTENCES)
    for instance in instances:
        assert sorted(r.output.text for r in instance.references) == sorted(texts.LANGUAGE_SENTENCES)
        assert [r.output.text for r in instance.references if r.is_correct] == [instance.extra_data["language"]]
    with pytest.raises(ValueError, match="num_sentences"):
        SpokenLanguageIDScenario(num_sentences=7)


def test_toxicity_items_are_minimal_pairs_with_balanced_labels(tmp_path):
    instances = SpokenToxicityScenario(num_templates=2).get_instances(str(tmp_path))
    assert [i.extra_data["toxic"] for i in instances] == [True, False, True, False]
    for toxic, benign in zip(instances[::2], instances[1::2]):
        template = texts.TOXICITY_TEMPLATES[int(toxic.id[1:].split("-")[0])][0]
        prefix = template.split("{}")[0]
        assert toxic.extra_data["sentence"].startswith(prefix) and benign.extra_data["sentence"].startswith(prefix)
        assert [r.output.text for r in toxic.references if r.is_correct] == ["yes"]


def test_safety_requests_are_framed_and_have_no_reference(tmp_path):
    direct = SpokenHarmfulRequestScenario(style="direct", num_requests=1).get_instances(str(tmp_path))
    framed = SpokenHarmfulRequestScenario(style="jailbreak", num_requests=1).get_instances(str(tmp_path))
    assert direct[0].extra_data["spoken"] == texts.HARMFUL_REQUESTS[0] and direct[0].references == []
    assert framed[0].extra_data["spoken"] != texts.HARMFUL_REQUESTS[0]
    assert framed[0].extra_data["spoken"].endswith(texts.HARMFUL_REQUESTS[0])
    with pytest.raises(ValueError, match="style must be"):
        SpokenHarmfulRequestScenario(style="roleplay")


def test_asr_instances_carry_speaker_groups_and_noise_keeps_the_sentences(tmp_path):
    clean = SyntheticASRScenario(num_sentences=2, voices=["rms", "slt"], seed=4).get_instances(str(tmp_path))
    noisy = SyntheticASRScenario(num_sentences=2, voices=["rms", "slt"], snr_db=5, seed=4).get_instances(str(tmp_path))
    assert [i.extra_data["speaker_group"] for i in clean] == ["male", "female", "male", "female"]
    assert [i.references[0].output.text for i in clean] == [i.references[0].output.text for i in noisy]
    for a, b in zip(clean, noisy):
        audio_a, audio_b = (i.input.multimedia_content.media_objects[0] for i in (a, b))
        assert audio_a.content_type == "audio/wav" and audio_a.location != audio_b.location
        assert len(read_wav(audio_a.location)) == len(read_wav(audio_b.location))


def test_core_dialogues_need_several_turns_and_include_unanswerable_items(tmp_path):
    dialogues = texts.dialogues(12, 0.25, seed=0)
    assert sum(d.answer == "unanswerable" for d in dialogues) == 3
    for dialogue in dialogues:
        assert len(dialogue.turns) == 5  # three fact turns and two small-talk turns
        facts = [(voice, line) for voice, line in dialogue.turns if line not in texts.FILLERS]
        assert len({voice for voice, _ in facts}) == 3  # one voice per speaker
        assert {voice for voice, _ in dialogue.turns} == {voice for voice, _ in facts}  # small talk by the same speakers
        if dialogue.kind == "more_than" and dialogue.answer != "unanswerable":
            first, second = facts[0][1], facts[1][1]
            n = texts.NUMBER_WORDS.index(first.split(" bought ")[1].split()[0])
            k = texts.NUMBER_WORDS.index(second.split(" bought ")[1].split()[0])
            assert dialogue.answer == texts.NUMBER_WORDS[n + k]  # needs both turns
        if dialogue.answer == "unanswerable":
            assert not any(name in dialogue.question.lower() for name in texts.NAMES) or "bring the" in dialogue.question
    instances = SyntheticCoReScenario(num_instances=3, seed=0).get_instances(str(tmp_path))
    assert len(instances) == 3
    turns = instances[0].extra_data["transcript"]
    assert len(turns) == 5 and len(read_wav(instances[0].input.multimedia_content.media_objects[0].location)) > 3 * 16_000
