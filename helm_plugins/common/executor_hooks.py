"""Runs whose adapter spec is a registered subclass of HELM's AdapterSpec are executed by the plugin's own code.

HELM's Executor sends one request per request state. Methods that need more (an agent loop, a program of many
calls) register their AdapterSpec subclass with a lazy "module:function" handler; HELM's Executor.execute is
patched once to hand such scenario states to `handler(executor, scenario_state) -> ScenarioState`, where the
handler makes its calls through `executor.context` (the deployment's client, HELM's cache and retries). Other runs
are untouched. The handler module is imported only when a matching run executes.
"""

import importlib
from typing import Dict, Type

from helm.benchmark.adaptation.adapter_spec import AdapterSpec
from helm.benchmark.adaptation.scenario_state import ScenarioState
from helm.benchmark.executor import Executor

_HANDLERS: Dict[Type[AdapterSpec], str] = {}


def register_execution(spec_class: Type[AdapterSpec], handler: str) -> None:
    """`handler` is "package.module:function"; registering the same class twice with another handler is an error."""
    if _HANDLERS.get(spec_class, handler) != handler:
        raise ValueError(f"{spec_class.__name__} already has the execution handler {_HANDLERS[spec_class]}")
    _HANDLERS[spec_class] = handler
    _install()


def _install() -> None:
    original = Executor.execute
    if getattr(original, "runs_registered_executions", False):
        return

    def execute(self: Executor, scenario_state: ScenarioState) -> ScenarioState:
        handler = next((_HANDLERS[cls] for cls in type(scenario_state.adapter_spec).__mro__ if cls in _HANDLERS), None)
        if handler is None or self.execution_spec.dry_run:
            return original(self, scenario_state)
        module, _, function = handler.partition(":")
        return getattr(importlib.import_module(module), function)(self, scenario_state)

    execute.runs_registered_executions = True  # type: ignore[attr-defined]
    execute.__wrapped__ = original  # type: ignore[attr-defined]
    Executor.execute = execute  # type: ignore[method-assign]
