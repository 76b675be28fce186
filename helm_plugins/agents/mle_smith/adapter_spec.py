"""The light half of the MLE task runs inside helm-run, imported at plugin load: the run's adapter spec and its
registration with the executor hook. The harness loads when a run executes (executor.py)."""

from dataclasses import dataclass

from helm.benchmark.adaptation.adapter_spec import AdapterSpec

from helm_plugins.common.executor_hooks import register_execution


@dataclass(frozen=True)
class MLEAdapterSpec(AdapterSpec):
    """HELM's generation adapter spec (it renders each task's description for the run page) plus the agent's settings."""

    mle_agent: str = "linear"
    """A shipped agent (sample, constant, onefeat, linear, knn, ensemble, coder) or <folder>:<module>.<function>."""

    mle_agent_kwargs: str = "{}"
    """JSON of the keyword arguments given to the agent's run(tasks, **kwargs)."""

    mle_timeout_s: float = 300.0
    """Wall-clock limit per task."""

    mle_memory_mb: int = 2048
    """Memory (address space) limit per process of the agent."""

    mle_sandbox: str = "auto"
    """auto/bwrap (confined), unshare or none (trusted agents only)."""

    mle_max_concurrent: int = 2
    """Tasks run at once."""


def register_mle() -> None:
    register_execution(MLEAdapterSpec, "helm_plugins.agents.mle_smith.executor:execute_mle_run")
