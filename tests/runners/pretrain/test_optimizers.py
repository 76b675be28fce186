import math

import pytest
import torch

from helm_plugins.runners.pretrain.optimizers import OPTIMIZERS, OptimizerConfig, ScheduleConfig, lr_multiplier


def test_warmup_then_cosine_to_the_final_fraction():
    schedule = ScheduleConfig(warmup_steps=10, decay="cosine", final_lr_fraction=0.1)
    assert lr_multiplier(0, 110, schedule) == pytest.approx(0.1)
    assert lr_multiplier(9, 110, schedule) == pytest.approx(1.0)
    assert lr_multiplier(10, 110, schedule) == pytest.approx(1.0)
    assert lr_multiplier(109, 110, schedule) == pytest.approx(0.1)
    assert lr_multiplier(59, 110, schedule) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 49 / 99)))


def test_linear_and_constant_shapes():
    linear = ScheduleConfig(warmup_steps=0, decay="linear", final_lr_fraction=0.0)
    assert [round(lr_multiplier(s, 5, linear), 3) for s in range(5)] == [1.0, 0.75, 0.5, 0.25, 0.0]
    assert lr_multiplier(3, 5, ScheduleConfig(warmup_steps=0, decay="constant")) == 1.0


def test_adamw_decays_matrices_only_and_rejects_unknown_options():
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.LayerNorm(4))
    optimizer = OPTIMIZERS.get("adamw")(model, OptimizerConfig(weight_decay=0.3))
    decays = {tuple(p.shape): group["weight_decay"] for group in optimizer.param_groups for p in group["params"]}
    assert decays[(4, 4)] == 0.3 and decays[(4,)] == 0.0
    with pytest.raises(ValueError, match="adamw does not take options \\['momentum'\\]"):
        OPTIMIZERS.get("adamw")(model, OptimizerConfig(options={"momentum": 0.9}))
    with pytest.raises(ValueError, match="Did you mean 'adamw'"):
        OPTIMIZERS.get("adam")
