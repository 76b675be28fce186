"""The RL-for-MLE study config: tasks, program space, arms, actors, learner and clock."""

from pathlib import Path
from typing import Dict, List, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, model_validator

from helm_plugins.common.configs import load_yaml_config
from helm_plugins.runners.rl.programs import COMPONENTS

PRESETS_DIR = Path(__file__).parent / "presets"
TASK_POOL = Path(__file__).parent / "task_pool"  # tasks of this runner, in the MLE task format


class Arm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", description="label in tables, plots and run names")
    duration_weighting: bool = Field(description="multiply each sample's term by dt / mean dt over the batch")
    instrumentation: bool = Field(description="failed runs earn -10 + 0.1 per stage marker (else -10)")
    advantage: Literal["group_norm", "batch_mean", "none"] = Field(
        "group_norm", description="group-normalised (r - mean)/std, centred r - mean, or the raw reward")


class RLMLEConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    run_name: str = Field("rl-mle", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", description="names outputs and runs")
    tasks: List[str] = Field(min_length=1, description="task names from the shipped pools, or task folders")
    components: Dict[str, List[str]] = Field(
        default_factory=lambda: {k: list(v) for k, v in COMPONENTS.items()},
        description="the program space: options of each component the policy chooses")
    arms: List[Arm] = Field(min_length=1, description="the compared learners")
    seeds: List[int] = Field([0, 1, 2], min_length=1, description="one training run per task x arm x seed")
    actors: int = Field(8, gt=0, description="asynchronous actors")
    window_s: float = Field(12.0, gt=0, description="an episode's wall-clock budget = one learner step")
    steps: int = Field(30, gt=0, description="learner steps (episode windows) per run")
    learning_rate: float = Field(0.3, gt=0, description="step size on the logits")
    improve_fraction: float = Field(0.5, ge=0, le=1, description="share of an actor's later actions that improve "
                                                                 "its previous solution")
    best_of: int = Field(16, gt=0, description="N of the final best-of-N (half solve, half improve)")
    clock: Literal["simulated", "real"] = Field(
        "simulated", description="simulated: a virtual clock over each program's measured run; real: worker processes")
    duration: Literal["cpu", "wall"] = Field(
        "cpu", description="the action duration: CPU or wall seconds of the run (the real clock always uses wall)")
    workers: int = Field(2, gt=0, description="processes that run programs (simulated clock: the measurements)")
    timeout_s: float = Field(60.0, gt=0, description="a program's time limit in the sandbox")
    memory_mb: int = Field(2048, ge=256, description="a program's memory limit")
    sandbox: Literal["auto", "bwrap", "unshare", "none"] = Field("auto", description="sandbox mode for programs")
    instrumentation_model: Optional[str] = Field(
        None, description="HELM deployment of a frozen LM that inserts the stage markers (default: the AST pass)")
    local_path: str = Field("prod_env", description="HELM's local path for that deployment (credentials, configs)")
    checkpoint_every: int = Field(5, gt=0, description="learner steps between checkpoints of a run")

    @model_validator(mode="after")
    def _consistent(self) -> "RLMLEConfig":
        for head, options in self.components.items():
            if head not in COMPONENTS:
                raise ValueError(f"components: unknown component {head!r}; components: {', '.join(COMPONENTS)}")
            unknown = [o for o in options if o not in COMPONENTS[head]]
            if unknown or not options:
                raise ValueError(f"components.{head}: unknown or no options {unknown}; options: {COMPONENTS[head]}")
        missing = [h for h in COMPONENTS if h not in self.components]
        if missing:
            raise ValueError(f"components: every component needs options; missing {missing}")
        names = [arm.name for arm in self.arms]
        if len(set(names)) != len(names):
            raise ValueError(f"arms: names must be unique, got {names}")
        if self.clock == "real":
            self.duration = "wall"  # the window is wall time, so the weights must be too
        if len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"seeds must be distinct, got {self.seeds}")
        return self


def load_rl_mle_config(preset: Optional[str], config_file: Optional[Path] = None, overrides=()) -> RLMLEConfig:
    return load_yaml_config(RLMLEConfig, PRESETS_DIR, preset, config_file, overrides)
