"""A scripted judge for tests: an AutoClient stand-in whose replies come from a function of the request."""

import re
from typing import Callable, List

from helm.benchmark.model_deployment_registry import ClientSpec, ModelDeployment, register_model_deployment
from helm.common.request import GeneratedOutput, Request, RequestResult

API_JUDGE = "test-judges/api-judge"  # an API-style deployment priced like gpt-4o-2024-05-13, no tokenizer


def register_api_judge() -> str:
    register_model_deployment(ModelDeployment(
        name=API_JUDGE, model_name="openai/gpt-4o-2024-05-13",
        client_spec=ClientSpec(class_name="helm.clients.openai_client.OpenAIClient", args={}),
    ))
    return API_JUDGE


class ScriptedClient:
    def __init__(self, reply: Callable[[Request], str], fail_when: Callable[[Request], bool] = lambda r: False):
        self.reply = reply
        self.fail_when = fail_when
        self.requests: List[Request] = []

    def make_request(self, request: Request) -> RequestResult:
        self.requests.append(request)
        if self.fail_when(request):
            return RequestResult(success=False, cached=False, error="HTTP 500 from the judge", completions=[], embedding=[])
        return RequestResult(success=True, cached=False, completions=[GeneratedOutput(self.reply(request), 0.0, [])],
                             embedding=[])


def request_state(instance, answer: str, deployment: str = API_JUDGE, prompt: str = "prompt"):
    """A RequestState as helm-run leaves it after generation: the model answered `answer`."""
    from helm.benchmark.adaptation.request_state import RequestState

    return RequestState(
        instance=instance, reference_index=None, request_mode=None, train_trial_index=0, output_mapping=None,
        request=Request(model="openai/gpt-4o-2024-05-13", model_deployment=deployment, prompt=prompt),
        result=RequestResult(success=True, cached=False, completions=[GeneratedOutput(answer, 0.0, [])], embedding=[]),
        num_train_instances=0, prompt_truncated=False,
    )


def stats_by_name(stats) -> dict:
    return {s.name.name: s for s in stats}


EQUATION = re.compile(r"So (\d+) ([+-]) (\d+) = (-?\d+)\.")


def arithmetic_validator(prompt: str) -> str:
    """A UQ judge that checks the stated sum of the answer under review and gives no verdict at all on
    subtraction (a malformed reply, counted as a reject). Cycle consistency always holds."""
    if "Write the question that this answer most likely responds to" in prompt:
        return "How many are there in all?"
    if "reconstructed only from an answer" in prompt:
        return "Same problem. [[Y]]"
    a, op, b, c = EQUATION.search(prompt.split("Answer under review:")[-1]).groups()
    if op == "-":
        return "Hard to say."
    return "Checked. [[Y]]" if int(a) + int(b) == int(c) else "The sum is wrong. [[N]]"
