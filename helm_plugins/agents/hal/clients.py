"""The client of the simulated models: they exist so that scripted agents' runs have a HELM model to be listed
under; their usage is declared by the agents, and a request to them is refused (not retried)."""

from helm.clients.client import Client
from helm.common.request import ErrorFlags, Request, RequestResult


class SimulatedModelClient(Client):
    def __init__(self, **kwargs):
        pass

    def make_request(self, request: Request) -> RequestResult:
        return RequestResult(
            success=False, cached=False, completions=[], embedding=[],
            error=f"{request.model_deployment} is a simulated model: only scripted agents use it (their token usage "
            "is declared, not generated); run the react agent on a real deployment instead",
            error_flags=ErrorFlags(is_retriable=False, is_fatal=False),
        )
