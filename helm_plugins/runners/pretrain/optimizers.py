"""Optimizers and learning-rate schedules by name.

An optimizer builder takes the model and the OptimizerConfig and returns a torch optimizer; register new ones
with `@OPTIMIZERS("name")`. Method-specific settings go in `OptimizerConfig.options`.
"""

import math
from typing import Any, Callable, Dict, List, Literal, Tuple

import torch
from pydantic import BaseModel, ConfigDict, Field, field_validator
from torch import nn

from helm_plugins.common.registry import Registry

OptimizerBuilder = Callable[[nn.Module, "OptimizerConfig"], torch.optim.Optimizer]
OPTIMIZERS: Registry[OptimizerBuilder] = Registry("optimizer")


class OptimizerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field("adamw", description="a registered optimizer name")
    lr: float = Field(3e-3, gt=0, description="peak learning rate")
    weight_decay: float = Field(0.1, ge=0, description="decoupled weight decay on matrices")
    betas: Tuple[float, float] = Field((0.9, 0.95), description="Adam moment decay rates")
    eps: float = Field(1e-8, gt=0, description="Adam denominator epsilon")
    grad_clip: float = Field(1.0, ge=0, description="global gradient-norm clip; 0 turns it off")
    options: Dict[str, Any] = Field(default_factory=dict, description="optimizer-specific settings")

    @field_validator("betas")
    @classmethod
    def _betas_in_unit_interval(cls, betas: Tuple[float, float]) -> Tuple[float, float]:
        if not all(0 <= beta < 1 for beta in betas):
            raise ValueError(f"betas {tuple(betas)} must lie in [0, 1)")
        return betas


class ScheduleConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    warmup_steps: int = Field(100, ge=0, description="linear warm-up from 0 to the peak learning rate")
    decay: Literal["cosine", "linear", "constant", "wsd"] = Field(
        "cosine", description="shape after warm-up; wsd: constant, then linear over the last decay_fraction of steps"
    )
    final_lr_fraction: float = Field(0.1, ge=0, le=1, description="learning rate at the last step / peak")
    decay_fraction: float = Field(0.2, gt=0, le=1, description="wsd: share of all steps spent decaying")


def decay_and_no_decay_groups(model: nn.Module, weight_decay: float) -> List[Dict[str, Any]]:
    """Weight decay on matrices (linear and embedding weights), none on biases and norms."""
    decay = [p for p in model.parameters() if p.requires_grad and p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.requires_grad and p.dim() < 2]
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


@OPTIMIZERS("adamw")
def build_adamw(model: nn.Module, config: OptimizerConfig) -> torch.optim.Optimizer:
    unknown = sorted(set(config.options) - {"foreach"})
    if unknown:
        raise ValueError(f"adamw does not take options {unknown}; valid options: foreach")
    return torch.optim.AdamW(
        decay_and_no_decay_groups(model, config.weight_decay),
        lr=config.lr,
        betas=config.betas,
        eps=config.eps,
        **config.options,
    )


for _name in ("nadamw", "lion", "mars", "cautious_adamw", "cautious_lion", "muon", "soap"):
    OPTIMIZERS.register(_name, f"helm_plugins.runners.pretrain.rules:build_{_name}")


def lr_multiplier(step: int, max_steps: int, schedule: ScheduleConfig) -> float:
    """Factor applied to the peak learning rate at optimizer step `step` (0-based)."""
    if step < schedule.warmup_steps:
        return (step + 1) / schedule.warmup_steps
    if schedule.decay == "constant":
        return 1.0
    if schedule.decay == "wsd":
        decay_steps = max(1, round(schedule.decay_fraction * max_steps))
        decay_start = max(schedule.warmup_steps, max_steps - decay_steps)
        if step < decay_start:
            return 1.0
        progress = min(1.0, (step - decay_start + 1) / (max_steps - decay_start))
        return 1 - (1 - schedule.final_lr_fraction) * progress
    progress = min(1.0, (step - schedule.warmup_steps) / max(1, max_steps - schedule.warmup_steps - 1))
    shape = 0.5 * (1 + math.cos(math.pi * progress)) if schedule.decay == "cosine" else 1 - progress
    return schedule.final_lr_fraction + (1 - schedule.final_lr_fraction) * shape


def build_scheduler(
    optimizer: torch.optim.Optimizer, max_steps: int, schedule: ScheduleConfig
) -> torch.optim.lr_scheduler.LambdaLR:
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: lr_multiplier(step, max_steps, schedule))
