"""Update rules of the pretraining optimizers, composed into one torch optimizer.

A builder routes the model's named parameters (`route_parameters`) into parameter groups, and each group names
the rule that updates it. `RuleOptimizer` is a plain `torch.optim.Optimizer`: one `step()`, `zero_grad()` and
state dict for the whole model, so checkpoints and learning-rate schedulers work as for AdamW. Every rule applies
decoupled weight decay, `W <- W - lr * (update + wd * W)`.

Rules (arXiv 2509.02046 compares them after tuning each one):
    adamw, nadamw       Adam moments, bias-corrected (nadamw with Nesterov's look-ahead first moment)
    mars                Adam on the variance-reduced gradient c = g + gamma * b1/(1-b1) * (g - g_prev), ||c|| <= 1
    cautious_adamw,     the update masked to coordinates whose sign agrees with the gradient, rescaled by the
    cautious_lion       inverse share kept
    lion                sign(b1 * m + (1 - b1) * g), then m <- b2 * m + (1 - b2) * g
    muon                Nesterov momentum orthogonalised by a 5-step Newton-Schulz iteration in float32, each
                        block of a fused matrix (the Q, K, V thirds of c_attn) on its own
    soap                Adam in the eigenbasis of Shampoo's preconditioners L = EMA(G G^T), R = EMA(G^T G),
                        recomputed every `precondition_frequency` steps
Muon and Soap update 2-D hidden matrices only; embeddings, the tied output head and 1-D parameters go to AdamW.
"""

import math
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, MutableMapping, Optional, Sequence

import torch
from torch import nn

from helm_plugins.runners.pretrain.optimizers import OptimizerConfig

NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)  # Muon's quintic Newton-Schulz iteration
FUSED_MATRICES = {"attn.c_attn.weight": 3}  # name suffix -> blocks stacked along the output dimension
HEAD_MODULES = ("lm_head",)  # output heads are treated like embeddings (tied to wte in our GPT)

Rule = Callable[[torch.Tensor, torch.Tensor, MutableMapping[str, Any], Mapping[str, Any]], None]
RULES: Dict[str, Rule] = {}


def rule(name: str):
    def wrap(function: Rule) -> Rule:
        RULES[name] = function
        return function

    return wrap


# ----- routing -----


@dataclass(frozen=True)
class RoutedParameter:
    name: str
    parameter: nn.Parameter
    kind: str  # "matrix" (2-D hidden weight), "embedding" (embeddings and output head) or "vector" (1-D)
    blocks: int = 1  # row blocks orthogonalised separately (fused Q/K/V)


def route_parameters(model: nn.Module, fused: Mapping[str, int] = FUSED_MATRICES) -> List[RoutedParameter]:
    """Every trainable parameter once (tied weights once, under their first name), with its kind."""
    embedding_ids = {
        id(parameter)
        for module_name, module in model.named_modules()
        if isinstance(module, nn.Embedding) or module_name.split(".")[-1] in HEAD_MODULES
        for parameter in module.parameters(recurse=False)
    }
    routed = []
    for name, parameter in model.named_parameters():
        if not parameter.requires_grad:
            continue
        if id(parameter) in embedding_ids:
            kind = "embedding"
        elif parameter.dim() == 2:
            kind = "matrix"
        elif parameter.dim() < 2:
            kind = "vector"
        else:
            raise ValueError(f"parameter {name} has shape {tuple(parameter.shape)}: only 1-D and 2-D are routed")
        blocks = next((count for suffix, count in fused.items() if name.endswith(suffix)), 1) if kind == "matrix" else 1
        if blocks > 1 and parameter.shape[0] % blocks:
            raise ValueError(f"{name}: {parameter.shape[0]} rows do not split into {blocks} blocks")
        routed.append(RoutedParameter(name, parameter, kind, blocks))
    return routed


# ----- the composite optimizer -----


class RuleOptimizer(torch.optim.Optimizer):
    """Parameter groups that each carry a `rule` name and that rule's hyperparameters."""

    def __init__(self, groups: Sequence[Dict[str, Any]]):
        for group in groups:
            if group.get("rule") not in RULES:
                raise ValueError(f"unknown update rule {group.get('rule')!r}; known: {', '.join(sorted(RULES))}")
        super().__init__([g for g in groups if g["params"]], defaults={})

    @torch.no_grad()
    def step(self, closure: Optional[Callable[[], float]] = None) -> Optional[float]:
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            update = RULES[group["rule"]]
            for index, parameter in enumerate(group["params"]):
                if parameter.grad is None:
                    continue
                state = self.state[parameter]
                state["step"] = state.get("step", 0) + 1
                update(parameter, parameter.grad, state, {**group, "blocks": group["blocks"][index]})
        return loss


def _decay(parameter: torch.Tensor, group: Mapping[str, Any]) -> None:
    if group["weight_decay"]:
        parameter.mul_(1 - group["lr"] * group["weight_decay"])


def _zeros(state: MutableMapping[str, Any], key: str, like: torch.Tensor) -> torch.Tensor:
    if key not in state:
        state[key] = torch.zeros_like(like, memory_format=torch.preserve_format)
    return state[key]


def _adam_moments(gradient: torch.Tensor, state: MutableMapping[str, Any], group: Mapping[str, Any]):
    beta1, beta2 = group["betas"]
    m, v = _zeros(state, "exp_avg", gradient), _zeros(state, "exp_avg_sq", gradient)
    m.lerp_(gradient, 1 - beta1)
    v.mul_(beta2).addcmul_(gradient, gradient, value=1 - beta2)
    return m, v


def _adam_denominator(v: torch.Tensor, step: int, group: Mapping[str, Any]) -> torch.Tensor:
    return (v / (1 - group["betas"][1] ** step)).sqrt_().add_(group["eps"])


@rule("adamw")
def adamw(parameter, gradient, state, group) -> None:
    m, v = _adam_moments(gradient, state, group)
    step = state["step"]
    _decay(parameter, group)
    parameter.addcdiv_(m, _adam_denominator(v, step, group), value=-group["lr"] / (1 - group["betas"][0] ** step))


@rule("nadamw")
def nadamw(parameter, gradient, state, group) -> None:
    beta1 = group["betas"][0]
    m, v = _adam_moments(gradient, state, group)
    step = state["step"]
    look_ahead = m * (beta1 / (1 - beta1 ** (step + 1))) + gradient * ((1 - beta1) / (1 - beta1**step))
    _decay(parameter, group)
    parameter.addcdiv_(look_ahead, _adam_denominator(v, step, group), value=-group["lr"])


@rule("mars")
def mars(parameter, gradient, state, group) -> None:
    beta1 = group["betas"][0]
    previous = _zeros(state, "previous_grad", gradient)
    corrected = gradient + (group["gamma"] * beta1 / (1 - beta1)) * (gradient - previous)
    norm = corrected.norm()
    if norm > 1:
        corrected.div_(norm)
    previous.copy_(gradient)
    adamw(parameter, corrected, state, group)


def _cautious(update: torch.Tensor, gradient: torch.Tensor) -> torch.Tensor:
    mask = (update * gradient > 0).to(update.dtype)
    return update * mask / mask.mean().clamp(min=1e-3)


@rule("cautious_adamw")
def cautious_adamw(parameter, gradient, state, group) -> None:
    m, v = _adam_moments(gradient, state, group)
    step = state["step"]
    update = (m / (1 - group["betas"][0] ** step)) / _adam_denominator(v, step, group)
    _decay(parameter, group)
    parameter.add_(_cautious(update, gradient), alpha=-group["lr"])


def _lion_update(gradient, state, group) -> torch.Tensor:
    beta1, beta2 = group["betas"]
    m = _zeros(state, "exp_avg", gradient)
    update = (m * beta1 + gradient * (1 - beta1)).sign_()
    m.lerp_(gradient, 1 - beta2)
    return update


@rule("lion")
def lion(parameter, gradient, state, group) -> None:
    update = _lion_update(gradient, state, group)
    _decay(parameter, group)
    parameter.add_(update, alpha=-group["lr"])


@rule("cautious_lion")
def cautious_lion(parameter, gradient, state, group) -> None:
    update = _lion_update(gradient, state, group)
    _decay(parameter, group)
    parameter.add_(_cautious(update, gradient), alpha=-group["lr"])


def newton_schulz(matrix: torch.Tensor, steps: int = 5) -> torch.Tensor:
    """Approximately U V^T of matrix = U S V^T, in float32 (torch.optim.Muon uses bfloat16: slow on CPUs)."""
    a, b, c = NS_COEFFICIENTS
    x = matrix.float()
    tall = x.shape[0] > x.shape[1]
    if tall:
        x = x.T
    x = x / (x.norm() + 1e-7)
    for _ in range(steps):
        gram = x @ x.T
        x = a * x + (b * gram + c * gram @ gram) @ x
    return (x.T if tall else x).to(matrix.dtype)


@rule("muon")
def muon(parameter, gradient, state, group) -> None:
    momentum = group["momentum"]
    buffer = _zeros(state, "momentum_buffer", gradient)
    buffer.mul_(momentum).add_(gradient)
    update = gradient.add(buffer, alpha=momentum) if group["nesterov"] else buffer
    blocks = [newton_schulz(block, group["ns_steps"]) for block in update.chunk(group["blocks"], dim=0)]
    rows, columns = blocks[0].shape
    scale = math.sqrt(max(1.0, rows / columns))
    _decay(parameter, group)
    parameter.add_(torch.cat(blocks, dim=0), alpha=-group["lr"] * scale)


def _eigenbasis(matrix: torch.Tensor) -> torch.Tensor:
    jitter = 1e-30 * torch.eye(matrix.shape[0], dtype=matrix.dtype)
    return torch.linalg.eigh(matrix + jitter).eigenvectors


@rule("soap")
def soap(parameter, gradient, state, group) -> None:
    rows, columns = gradient.shape
    shampoo_beta, largest = group["shampoo_beta"], group["max_precond_dim"]
    step = state["step"]
    sides = {"left": (rows, lambda: gradient @ gradient.T), "right": (columns, lambda: gradient.T @ gradient)}
    for side, (size, outer) in sides.items():
        if size > largest:  # too large to precondition: identity on this side
            continue
        factor = _zeros(state, f"{side}_factor", torch.empty(size, size, dtype=gradient.dtype))
        factor.lerp_(outer(), 1 - shampoo_beta)
        if step == 1 or step % group["precondition_frequency"] == 0:
            state[f"{side}_basis"] = _eigenbasis(factor)

    def rotate(x: torch.Tensor, inverse: bool = False) -> torch.Tensor:
        left, right = state.get("left_basis"), state.get("right_basis")
        if left is not None:
            x = (left @ x) if inverse else (left.T @ x)
        if right is not None:
            x = (x @ right.T) if inverse else (x @ right)
        return x

    beta1, beta2 = group["betas"]
    m = _zeros(state, "exp_avg", gradient)
    m.lerp_(gradient, 1 - beta1)
    rotated_gradient = rotate(gradient)
    v = _zeros(state, "exp_avg_sq", rotated_gradient)
    v.mul_(beta2).addcmul_(rotated_gradient, rotated_gradient, value=1 - beta2)
    direction = rotate(m / (1 - beta1**step)) / _adam_denominator(v, step, group)
    _decay(parameter, group)
    parameter.add_(rotate(direction, inverse=True), alpha=-group["lr"])


# ----- builders -----


def resolve_options(optimizer: str, given: Mapping[str, Any], defaults: Mapping[str, Any]) -> Dict[str, Any]:
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        valid = ", ".join(sorted(defaults)) or "none"
        raise ValueError(f"{optimizer} does not take options {unknown}; valid options: {valid}")
    return {**defaults, **given}


def _group(rule_name: str, parameters: Sequence[RoutedParameter], config: OptimizerConfig, **settings) -> Dict[str, Any]:
    group = {
        "rule": rule_name,
        "params": [p.parameter for p in parameters],
        "blocks": [p.blocks for p in parameters],
        "names": [p.name for p in parameters],
        "lr": config.lr,
        "betas": tuple(config.betas),
        "eps": config.eps,
        "weight_decay": config.weight_decay,
    }
    group.update(settings)
    return group


def _by_kind(model: nn.Module) -> Dict[str, List[RoutedParameter]]:
    kinds: Dict[str, List[RoutedParameter]] = {"matrix": [], "embedding": [], "vector": []}
    for routed in route_parameters(model):
        kinds[routed.kind].append(routed)
    return kinds


def elementwise_builder(rule_name: str, option_defaults: Mapping[str, Any] = {}):
    """One rule for every parameter; weight decay on matrices and embeddings, none on 1-D parameters."""

    def build(model: nn.Module, config: OptimizerConfig) -> RuleOptimizer:
        options = resolve_options(rule_name, config.options, option_defaults)
        kinds = _by_kind(model)
        return RuleOptimizer(
            [
                _group(rule_name, kinds["matrix"] + kinds["embedding"], config, **options),
                _group(rule_name, kinds["vector"], config, **options, weight_decay=0.0),
            ]
        )

    build.__name__ = f"build_{rule_name}"
    return build


MATRIX_OPTIONS = {
    "muon": {"momentum": 0.95, "nesterov": True, "ns_steps": 5, "adam_lr_ratio": 0.3, "adam_betas": (0.8, 0.98)},
    "soap": {"shampoo_beta": 0.98, "precondition_frequency": 10, "max_precond_dim": 512, "adam_lr_ratio": 1.0},
}


def matrix_builder(rule_name: str):
    """The matrix rule on 2-D hidden weights; AdamW (lr x adam_lr_ratio) on embeddings, head and 1-D parameters."""

    def build(model: nn.Module, config: OptimizerConfig) -> RuleOptimizer:
        options = resolve_options(rule_name, config.options, MATRIX_OPTIONS[rule_name])
        adam_lr = config.lr * options.pop("adam_lr_ratio")
        adam_betas = tuple(options.pop("adam_betas", config.betas))
        if not all(0 <= beta < 1 for beta in adam_betas):
            raise ValueError(f"{rule_name}: adam_betas {adam_betas} must lie in [0, 1)")
        kinds = _by_kind(model)
        return RuleOptimizer(
            [
                _group(rule_name, kinds["matrix"], config, **options),
                _group("adamw", kinds["embedding"], config, lr=adam_lr, betas=adam_betas),
                _group("adamw", kinds["vector"], config, lr=adam_lr, betas=adam_betas, weight_decay=0.0),
            ]
        )

    build.__name__ = f"build_{rule_name}"
    return build


build_nadamw = elementwise_builder("nadamw")
build_lion = elementwise_builder("lion")
build_mars = elementwise_builder("mars", {"gamma": 0.025})
build_cautious_adamw = elementwise_builder("cautious_adamw")
build_cautious_lion = elementwise_builder("cautious_lion")
build_adamw_rule = elementwise_builder("adamw")
build_muon = matrix_builder("muon")
build_soap = matrix_builder("soap")

