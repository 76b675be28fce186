"""Judge plumbing: strict verdict parsing, templates, seeded samples, usage and cost, failed requests recorded."""

import pytest
from pydantic import BaseModel

from helm_plugins.common.judges import GARBLED, MISSING, OK, Judge, JudgeUsage, Templates, parse_json_verdict, parse_tag_verdict
from tests.judges.scripted import ScriptedClient, register_api_judge


@pytest.mark.parametrize(
    "text, status, value",
    [
        ("The answer is right. [[Y]]", OK, True),
        ("Wrong final step. [[N]]", OK, False),
        ("verdict: [[ y ]]", OK, True),
        ("[[N]] ... on reflection still [[N]]", OK, False),
        ("I think it is correct.", MISSING, None),
        ("", MISSING, None),
        ("[[Y]] no wait [[N]]", GARBLED, None),
        ("[[maybe]]", GARBLED, None),
        ("final: [[Y", GARBLED, None),
    ],
)
def test_tag_verdicts(text, status, value):
    verdict = parse_tag_verdict(text)
    assert (verdict.status, verdict.value) == (status, value)
    assert verdict.ok == (status == OK) and (verdict.error == "") == (status == OK)


class Rating(BaseModel):
    rating: int
    explanation: str = ""


def test_json_verdicts():
    assert parse_json_verdict('```json\n{"rating": 4, "explanation": "ok"}\n```', Rating).value.rating == 4
    assert parse_json_verdict('noise {not json} then {"rating": 2}', Rating).value.rating == 2
    assert parse_json_verdict("no object", Rating).status == MISSING
    wrong_type = parse_json_verdict('{"rating": "high"}', Rating)
    assert wrong_type.status == GARBLED and "rating" in wrong_type.error
    assert parse_json_verdict('{"rating": 4', Rating).status == GARBLED


def test_templates_are_strict(tmp_path):
    (tmp_path / "ask.jinja").write_text("Q: {{ question }}\nA: {{ answer }}\n")
    templates = Templates(tmp_path)
    assert templates.render("ask", question="1+1?", answer="2") == "Q: 1+1?\nA: 2"
    with pytest.raises(Exception, match="answer"):
        templates.render("ask", question="1+1?")
    with pytest.raises(ValueError, match="no prompt template 'missing'.*templates: ask"):
        templates.render("missing")


def test_samples_have_distinct_seeds_and_usage_is_recorded():
    client = ScriptedClient(lambda request: "[[Y]]", fail_when=lambda request: request.random.endswith("sample2"))
    judge = Judge(client, register_api_judge(), temperature=0.7, max_tokens=64)
    usage = JudgeUsage()
    replies = judge.sample("Is 2 + 2 = 4? Answer [[Y]] or [[N]].", 3, "s0", usage)
    assert [r.random for r in client.requests] == ["s0/sample0", "s0/sample1", "s0/sample2"]
    assert all(r.model == "openai/gpt-4o-2024-05-13" and r.temperature == 0.7 for r in client.requests)
    assert [r.success for r in replies] == [True, True, False] and replies[2].error == "HTTP 500 from the judge"
    assert usage.requests == 3 and usage.failed_requests == 1
    assert usage.prompt_tokens == 2 * ((len(client.requests[0].prompt) + 3) // 4)  # no tokenizer: estimated
    assert usage.cost_usd > 0 and usage.cost_unknown_requests == 1  # the failed request has no cost


def test_unknown_judge_deployment_is_a_clear_error():
    with pytest.raises(ValueError, match="judge 'nobody/none'"):
        Judge(ScriptedClient(lambda r: ""), "nobody/none")
