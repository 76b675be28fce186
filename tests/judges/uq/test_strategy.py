"""The strategy grammar (round trips, errors that point at the column) and the voting logic with call counts."""

import pytest

from helm_plugins.judges.uq.strategy import (
    DEFAULT_STRATEGY,
    Combination,
    StrategyError,
    Validator,
    compact,
    evaluate,
    parse_strategy,
)


@pytest.mark.parametrize(
    "text",
    [
        DEFAULT_STRATEGY,
        "correct*1|unanimous",
        "vanilla*5~2|majority",
        "majority[correct*3|majority, unanimous[cycle*1|unanimous, relevance*2~1|unanimous]]",
        "pipeline[final_answer*3|majority]",
    ],
)
def test_canonical_strings_round_trip(text):
    strategy = parse_strategy(text)
    assert str(strategy) == text
    assert parse_strategy(compact(strategy)) == strategy and "," not in compact(strategy)


def test_short_forms_and_defaults():
    assert parse_strategy("pipeline[cc*3|U;flc*3|U;c*3|U]") == parse_strategy(DEFAULT_STRATEGY)
    assert parse_strategy("c") == Validator("correct", 1, 0, "unanimous")
    assert parse_strategy("v*4~2|M") == Validator("vanilla", 4, 2, "majority")
    assert parse_strategy("pipeline[cc, c]") == Combination("pipeline", (Validator("cycle"), Validator("correct")))


@pytest.mark.parametrize(
    "text, column, expected",
    [
        ("pipeline[cycle*3|unanimous, factlogic*|unanimous]", 39, "a whole number"),
        ("pipeline[cycle*3 correct]", 18, "']'"),
        ("pipeline[]", 10, "a validator or a combiner"),
        ("correct*3|sometimes", 11, "majority or unanimous"),
    ],
)
def test_syntax_errors_show_where(text, column, expected):
    with pytest.raises(StrategyError) as error:
        parse_strategy(text)
    message = str(error.value)
    assert f"column {column}" in message and expected in message
    assert message.splitlines()[2].index("^") == column + 1  # the caret sits under the column (2-space indent)


def test_unknown_validator_lists_the_valid_ones():
    with pytest.raises(StrategyError, match="unknown validator 'corect'.*correct, relevance"):
        parse_strategy("pipeline[corect*3]")


def scripted(votes):
    """A sample function answering from per-validator vote lists; records the calls made."""
    calls = []

    def sample(validator, index):
        calls.append((validator.name, index))
        return votes[validator.name][index]

    return sample, calls


def test_majority_and_unanimous_within_a_validator():
    sample, calls = scripted({"correct": [True, False, True]})
    assert evaluate(parse_strategy("correct*3|majority"), sample).accepted
    assert not evaluate(parse_strategy("correct*3|unanimous"), sample).accepted
    assert len(calls) == 6  # every sample is drawn in both cases
    sample, _ = scripted({"correct": [True, False, False, True]})
    assert not evaluate(parse_strategy("correct*4|majority"), sample).accepted  # 2 of 4 is not more than 4 // 2


def test_pipeline_stops_at_the_first_reject():
    votes = {"cycle": [True] * 3, "factlogic": [True, False, True], "correct": [True] * 3}
    sample, calls = scripted(votes)
    outcome = evaluate(parse_strategy(DEFAULT_STRATEGY), sample)
    assert not outcome.accepted and outcome.stage_results == [True, False, False] and outcome.stages_evaluated == 2
    assert [name for name, _ in calls] == ["cycle"] * 3 + ["factlogic"] * 3  # correct is never asked

    sample, calls = scripted({**votes, "factlogic": [True] * 3})
    outcome = evaluate(parse_strategy(DEFAULT_STRATEGY), sample)
    assert outcome.accepted and outcome.stage_results == [True, True, True] and len(calls) == 9


def test_combiners_over_stages_evaluate_every_stage():
    votes = {"cycle": [False], "factlogic": [True], "correct": [True]}
    sample, calls = scripted(votes)
    assert evaluate(parse_strategy("majority[cycle, factlogic, correct]"), sample).accepted
    assert len(calls) == 3
    sample, calls = scripted(votes)
    outcome = evaluate(parse_strategy("unanimous[cycle, factlogic, correct]"), sample)
    assert not outcome.accepted and outcome.stage_results == [False, True, True] and len(calls) == 3
