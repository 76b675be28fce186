"""An optimiser's choices reach the evaluation and raise the score: a fake model that answers right when it is shown
a demo or the instruction its proposer wrote, and never otherwise."""

import json
import threading

import pytest

from helm_plugins.structured_prompting.executor import ANNOTATION
from tests.structured_prompting.fake_openai import FakeOpenAI
from tests.structured_prompting.test_executor import NUM, Endpoint, fake_deployment, key, run  # noqa: F401

TAUGHT_BY = "give only the final answer"  # in every instruction the fake proposes (FakeOpenAI.reply_to)


class TeachableFake(FakeOpenAI):
    local = threading.local()

    def reply_to(self, messages):
        system = next((m["content"] for m in messages if m["role"] == "system"), "")
        self.local.taught = "[[ ## output ## ]]" in system and (len(messages) > 2 or TAUGHT_BY in system)
        return super().reply_to(messages)

    def answer(self, question, mode):
        if question is not None and getattr(self.local, "taught", False):
            return self.answers[question]
        return super().answer(question, mode)


class TeachableEndpoint(Endpoint):
    def __init__(self, key):
        super().__init__(key)
        self.fake = TeachableFake(*key, {"helm": 0.0, "predict": 0.0, "cot": 0.0})
        self.fake.httpd.server_close()


def correct(states):
    golds = [s.instance.references[0].output.text.split()[-1].rstrip(".") for s in states]
    return sum(s.result.completions[0].text == g for s, g in zip(states, golds))


def saved_program(tmp_path, method):
    [path] = [p for p in tmp_path.glob(f"*/*/{method}/seed0/*.json") if not p.name.endswith(".meta.json")]
    return json.loads(path.read_text())["predict"]


@pytest.mark.parametrize("method", ["bfrs", "miprov2"])
def test_chosen_demos_and_instructions_reach_the_evaluation_and_raise_the_score(key, tmp_path, method):
    zero_shot = correct(run("cot", TeachableEndpoint(key)))
    assert zero_shot == 0

    endpoint = TeachableEndpoint(key)
    states = run(method, endpoint, programs_dir=str(tmp_path), candidates=2)
    program = saved_program(tmp_path, method)
    assert program["demos"] or TAUGHT_BY in program["signature"]["instructions"]
    evaluation = [state.annotations[ANNOTATION]["calls"][0]["messages"] for state in states]
    for messages in evaluation:
        system = messages[0]["content"]
        assert program["signature"]["instructions"] in system  # the chosen instruction is what the model read
        shown = " ".join(m["content"] for m in messages[1:-1])
        assert all(demo["inputs"] in shown for demo in program["demos"])  # and the chosen demos, in full
        assert len(messages) == 2 + 2 * len(program["demos"])
    assert correct(states) == NUM > zero_shot
