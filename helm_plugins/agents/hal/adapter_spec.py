"""The light half of HAL inside helm-run, imported at plugin load: the run's adapter spec, its registration with the
executor hook, and the simulated models whose usage the scripted agents declare. The harness loads when a HAL run
executes (executor.py)."""

from dataclasses import dataclass

from helm.benchmark.adaptation.adapter_spec import AdapterSpec
from helm.benchmark.model_deployment_registry import ClientSpec, ModelDeployment, register_model_deployment
from helm.benchmark.model_metadata_registry import TEXT_MODEL_TAG, ModelMetadata, register_model_metadata

from helm_plugins.common.executor_hooks import register_execution

SIMULATED_MODELS = {  # stand-ins priced in prices.yaml; scripted agents declare their token usage under these names
    "simulated/scripted": "scripted agent",
    "simulated/flash": "simulated flash-class model (cheap)",
    "simulated/mini": "simulated mini-class model",
    "simulated/frontier": "simulated frontier model",
    "simulated/opus": "simulated top-priced model",
}


@dataclass(frozen=True)
class AgentAdapterSpec(AdapterSpec):
    """HELM's generation adapter spec (it renders each task for the run page) plus the agent run's settings."""

    hal_benchmark: str = ""
    """airline, fileqa or usaco."""

    hal_agent: str = "oracle"
    """A shipped agent (oracle, random, shortcut, skilled, react) or <folder>:<module>.<function>."""

    hal_agent_kwargs: str = "{}"
    """JSON of the keyword arguments given to the agent's run(tasks, **kwargs) (HAL's -A k=v)."""

    hal_timeout_s: float = 120.0
    """Wall-clock limit per task."""

    hal_memory_mb: int = 1024
    """Memory (address space) limit per process of the agent."""

    hal_sandbox: str = "auto"
    """auto/bwrap (confined), unshare (network and PID only) or none (explicit opt-out, trusted agents only)."""

    hal_max_concurrent: int = 4
    """Tasks run at once."""

    hal_backend: str = "local"
    """local (threads, a sandboxed process per task) or ray."""

    hal_price_file: str = ""
    """YAML of prices (USD per million tokens) applied before LiteLLM's table."""

    hal_allow_unknown_cost: bool = False
    """A model without a price: error (False) or the run's cost recorded as unknown (True). Never $0."""

    hal_max_attempts: int = 2
    """Attempts per task when the failure is transient (sandbox start, model call after HELM's retries)."""


def register_hal() -> None:
    register_execution(AgentAdapterSpec, "helm_plugins.agents.hal.executor:execute_agent_run")
    for name, description in SIMULATED_MODELS.items():
        register_model_metadata(ModelMetadata(
            name=name, creator_organization_name="simulated", display_name=name.split("/")[1],
            description=f"{description}: token usage declared by scripted agents, never called", access="open",
            release_date=None, tags=[TEXT_MODEL_TAG],
        ))
        register_model_deployment(ModelDeployment(
            name=name, model_name=name,
            client_spec=ClientSpec(class_name="helm_plugins.agents.hal.clients.SimulatedModelClient", args={}),
        ))
