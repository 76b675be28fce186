from collections import Counter

import pytest
from helm.benchmark.scenarios.scenario import CORRECT_TAG

from helm_plugins.audio import texts
from helm_plugins.audio.scenarios import (
    FEMALE_CODED_TAG,
    MALE_CODED_TAG,
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
