"""A local OpenAI-compatible chat endpoint (127.0.0.1) with planted skills, for offline tests and benchmarks.

It answers DSPy ChatAdapter prompts field by field (`[[ ## field ## ]]` markers for the output fields that the
system message lists) and plain HELM prompts with the bare answer. Which questions it gets right is planted:
`answers` maps a question text to its correct answer; a question is answered correctly when a seeded hash of
(question, mode) falls below `accuracy[mode]`, where mode is "cot" when the prompt asks for a `reasoning` field,
"predict" for other DSPy prompts and "helm" for plain prompts. Questions in `malformed` get a reply without
field markers. Every request body is recorded (`bodies`).
"""

import hashlib
import re
from typing import Dict, List, Optional

from tests.fake_openai import FakeOpenAIServer

FIELD = re.compile(r"^\d+\. `(\w+)`", re.MULTILINE)


def planted(question: str, mode: str, accuracy: float) -> bool:
    digest = hashlib.sha256(f"{mode}|{question}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < accuracy


class FakeOpenAI(FakeOpenAIServer):
    def __init__(self, answers: Dict[str, str], wrong: Dict[str, str], accuracy: Dict[str, float],
                 malformed=(), latency: float = 0.0, fail_status: Optional[int] = None):
        super().__init__(latency=latency, fail_status=fail_status)
        self.answers, self.wrong, self.accuracy = answers, wrong, accuracy
        self.malformed = set(malformed)

    def replies(self, body: dict) -> List[str]:
        return [self.reply_to(body["messages"]) for _ in range(body.get("n") or 1)]

    def question_of(self, text: str) -> Optional[str]:
        """The question asked: the known question that appears last (in-context examples come before it)."""
        found = [(text.rfind(q), len(q), q) for q in self.answers if q in text]
        return max(found)[2] if found else None

    def answer(self, question: Optional[str], mode: str) -> str:
        if question is None:
            return "unknown"
        right = planted(question, mode, self.accuracy.get(mode, 0.0))
        return self.answers[question] if right else self.wrong[question]

    def reply_to(self, messages: List[dict]) -> str:
        system = next((m["content"] for m in messages if m["role"] == "system"), "")
        last = messages[-1]["content"]
        question = self.question_of(last)
        if "Your output fields are:" not in system:
            if "```" in last or "instruction" in last.lower():  # GEPA's reflection prompt
                return "```\nRead the question carefully and answer with the final answer only.\n```"
            return self.answer(question, "helm")
        if question in self.malformed:
            return "I am not sure what you want me to do here."
        outputs = system.split("Your output fields are:")[1].split("All interactions")[0]
        fields = FIELD.findall(outputs)
        mode = "cot" if "reasoning" in fields else "predict"
        parts = []
        for name in fields:
            if name == "output":
                value = self.answer(question, mode)
            elif name == "reasoning":
                value = "Work through the question step by step."
            else:  # instruction proposals and other helper signatures of the optimisers
                value = "Answer the question; give only the final answer in the output field."
            parts.append(f"[[ ## {name} ## ]]\n{value}")
        return "\n\n".join(parts) + "\n\n[[ ## completed ## ]]"


def write_prod_env(root, base_url: str, name: str = "fakeorg/fake-chat") -> str:
    """prod_env/ with a deployment of `name` served by HELM's OpenAIClient at base_url."""
    prod_env = root / "prod_env"
    prod_env.mkdir(parents=True, exist_ok=True)
    (prod_env / "model_deployments.yaml").write_text(
        f"""model_deployments:
  - name: {name}
    model_name: {name}
    tokenizer_name: simple/tokenizer1
    max_sequence_length: 100000
    client_spec:
      class_name: helm.clients.openai_client.OpenAIClient
      args:
        base_url: {base_url}
        api_key: not-a-secret
        openai_model_name: fake-chat
"""
    )
    (prod_env / "model_metadata.yaml").write_text(
        f"""models:
  - name: {name}
    display_name: Fake chat
    description: local OpenAI-compatible test endpoint
    creator_organization_name: fakeorg
    access: open
    release_date: 2025-01-01
    tags: [TEXT_MODEL_TAG, FULL_FUNCTIONALITY_TEXT_MODEL_TAG, INSTRUCTION_FOLLOWING_MODEL_TAG]
"""
    )
    return name


def synthetic_answer_key(num_instances: int = 200, seed: int = 0):
    """Correct and wrong answers of both synthetic benchmarks (all splits), keyed by question text."""
    from helm_plugins.synthetic.arithmetic import generate_arithmetic_problems
    from helm_plugins.synthetic.fact_world import generate_fact_questions
    from helm_plugins.synthetic.scenarios import NUM_TRAIN_INSTANCES

    answers, wrong = {}, {}
    for split, num in (("train", NUM_TRAIN_INSTANCES), ("test", num_instances)):
        for problem in generate_arithmetic_problems(num, seed, split):
            answers[problem.question], wrong[problem.question] = str(problem.answer), str(problem.answer + 1)
        for question in generate_fact_questions(num, seed, split):
            letter = "ABCD"[question.correct_index]
            answers[question.text], wrong[question.text] = letter, "ABCD"[(question.correct_index + 1) % 4]
    return answers, wrong
