"""The speculative-decoding benchmark config: which policy, which RL task, which drafters and budgets."""

from pathlib import Path
from typing import List, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, model_validator

from helm_plugins.common.configs import load_yaml_config

PRESETS_DIR = Path(__file__).parent / "presets"


class DrafterSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="label in tables and plots")
    kind: Literal["none", "ngram", "suffix"] = Field(description="no speculation, vLLM prompt lookup, suffix trees")
    scopes: List[Literal["request", "problem", "global"]] = Field(default_factory=list, description="suffix trees")
    budget: Literal["none", "uniform", "unlimited", "length_aware", "cost_model"] = Field(
        "uniform", description="draft budget: DAS's length classes (length_aware) or its closed form (cost_model)"
    )
    budget_tokens: int = Field(8, ge=0, description="uniform budget: tokens per step")

    @model_validator(mode="after")
    def _consistent(self) -> "DrafterSpec":
        if self.kind == "suffix" and not self.scopes:
            raise ValueError(f"drafter {self.name!r}: a suffix drafter needs scopes (request, problem, global)")
        if self.kind != "suffix" and self.scopes:
            raise ValueError(f"drafter {self.name!r}: scopes apply to kind 'suffix' only")
        if (self.kind == "none") != (self.budget == "none"):
            raise ValueError(f"drafter {self.name!r}: budget 'none' goes with kind 'none' and only with it")
        return self


class SpeculateConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    run_name: str = Field("speculate", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", description="names outputs and runs")
    model: str = Field("tiny-default", description="'tiny-default' or a Hugging Face checkpoint folder (the policy)")
    seed: int = Field(0, description="seeds problems, sampling and policy updates (one RL run)")
    seeds: List[int] = Field(
        default_factory=list,
        description="one RL run per seed, each as `seed` would (empty: the single `seed`); headline intervals are over seeds",
    )
    problems: int = Field(16, gt=0, description="P: arithmetic problems per RL step")
    rollouts_per_problem: int = Field(8, gt=0, description="K: sampled rollouts per problem per step")
    epochs: int = Field(4, gt=0, description="E: RL steps; every problem recurs each step, as in multi-epoch RL")
    temperature: float = Field(1.0, ge=0, description="sampling temperature (0: greedy)")
    max_new_tokens: int = Field(200, gt=0, description="rollout length limit")
    stop: Literal["end_of_text", "newline"] = Field(
        "end_of_text", description="rollouts end at the model's end-of-text token (RL's long tail) or at the answer line"
    )
    decoding: Literal["batch", "sequential", "both"] = Field(
        "batch", description="a step's rollouts as one lockstep batch (measured batch time), one at a time, or both"
    )
    window_epochs: int = Field(2, gt=0, description="DAS: per-problem trees keep this many recent steps")
    global_window: int = Field(100_000, gt=0, description="global tree: rollouts kept (SuffixDecoding)")
    max_depth: int = Field(32, gt=1, description="suffix tree depth bound")
    min_probability: float = Field(0.1, ge=0, le=1, description="drafts stop below this path probability")
    ngram_min: int = Field(2, gt=0, description="prompt lookup: shortest n-gram")
    ngram_max: int = Field(5, gt=0, description="prompt lookup: longest n-gram")
    token_cost_ratio: Optional[float] = Field(
        None, ge=0, description="cost_model budget: c_tok / c_base of a forward pass; None: fitted on the policy"
    )
    policy_lr: float = Field(2e-4, ge=0, description="GRPO-style policy update learning rate (0 freezes the policy)")
    policy_steps: int = Field(2, ge=0, description="policy gradient steps per RL step")
    drafters: List[DrafterSpec] = Field(description="the configurations compared; the first must be kind 'none'")
    threads: Optional[int] = Field(None, gt=0, description="torch threads")

    @model_validator(mode="after")
    def _baseline_first(self) -> "SpeculateConfig":
        if not self.drafters or self.drafters[0].kind != "none":
            raise ValueError("drafters: the first entry must be the no-speculation baseline (kind: none)")
        if len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"seeds must be distinct, got {self.seeds}")
        names = [d.name for d in self.drafters]
        if len(set(names)) != len(names):
            raise ValueError(f"drafters: names must be unique, got {names}")
        return self

    @property
    def run_seeds(self) -> List[int]:
        """The seeds of the RL runs: `seeds`, or the single `seed`."""
        return list(self.seeds) or [self.seed]

    def for_seed(self, seed: int) -> "SpeculateConfig":
        """The config of the one RL run seeded `seed`."""
        return self.model_copy(update={"seed": seed, "seeds": []})


def load_speculate_config(preset: Optional[str], config_file: Optional[Path], overrides) -> SpeculateConfig:
    return load_yaml_config(SpeculateConfig, PRESETS_DIR, preset, config_file, overrides)
