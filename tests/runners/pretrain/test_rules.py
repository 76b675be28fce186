"""Each update rule against its formula, written out again in numpy, on a 2x3 weight over two steps."""

import numpy as np
import pytest
import torch
from torch import nn

from helm_plugins.runners.pretrain.model import GPT, GPTConfig
from helm_plugins.runners.pretrain.optimizers import OPTIMIZERS, OptimizerConfig
from helm_plugins.runners.pretrain.rules import newton_schulz, route_parameters

W0 = np.array([[0.5, -1.0, 0.25], [2.0, 0.0, -0.5]])
GRADIENTS = [np.array([[0.1, -0.2, 0.3], [-0.4, 0.5, 0.05]]), np.array([[-0.3, 0.1, 0.2], [0.2, -0.1, 0.4]])]
LR, WD, B1, B2, EPS = 0.1, 0.2, 0.9, 0.99, 1e-8


class OneMatrix(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(3, 2, bias=False)
        with torch.no_grad():
            self.proj.weight.copy_(torch.tensor(W0))


def run_torch(name: str, **options) -> np.ndarray:
    model = OneMatrix().double()
    optimizer = OPTIMIZERS.get(name)(model, OptimizerConfig(name=name, lr=LR, weight_decay=WD, betas=(B1, B2), eps=EPS, options=options))
    for gradient in GRADIENTS:
        model.proj.weight.grad = torch.tensor(gradient)
        optimizer.step()
    return model.proj.weight.detach().numpy()


def adam_steps(direction) -> np.ndarray:
    """Shared loop of the Adam-like references: `direction(g, m, v, t, state)` gives the update."""
    w, m, v, state = W0.copy(), np.zeros_like(W0), np.zeros_like(W0), {}
    for t, g in enumerate(GRADIENTS, start=1):
        w = w * (1 - LR * WD) - LR * direction(g, m, v, t, state)
    return w


def reference_adamw(g, m, v, t, state):
    m[:] = B1 * m + (1 - B1) * g
    v[:] = B2 * v + (1 - B2) * g * g
    return (m / (1 - B1**t)) / (np.sqrt(v / (1 - B2**t)) + EPS)


def reference_nadamw(g, m, v, t, state):
    m[:] = B1 * m + (1 - B1) * g
    v[:] = B2 * v + (1 - B2) * g * g
    look_ahead = B1 * m / (1 - B1 ** (t + 1)) + (1 - B1) * g / (1 - B1**t)
    return look_ahead / (np.sqrt(v / (1 - B2**t)) + EPS)


def reference_mars(g, m, v, t, state, gamma=0.025):
    previous = state.get("previous", np.zeros_like(g))
    c = g + gamma * B1 / (1 - B1) * (g - previous)
    c = c / max(1.0, np.linalg.norm(c))
    state["previous"] = g
    return reference_adamw(c, m, v, t, state)


def cautious(update, g):
    mask = (update * g > 0).astype(float)
    return update * mask / max(mask.mean(), 1e-3)


def reference_cautious_adamw(g, m, v, t, state):
    return cautious(reference_adamw(g, m, v, t, state), g)


def reference_lion(g, m, v, t, state):
    update = np.sign(B1 * m + (1 - B1) * g)
    m[:] = B2 * m + (1 - B2) * g
    return update


def reference_cautious_lion(g, m, v, t, state):
    return cautious(reference_lion(g, m, v, t, state), g)


@pytest.mark.parametrize(
    "name, reference",
    [
        ("nadamw", reference_nadamw),
        ("mars", reference_mars),
        ("cautious_adamw", reference_cautious_adamw),
        ("lion", reference_lion),
        ("cautious_lion", reference_cautious_lion),
    ],
)
def test_elementwise_rules_follow_their_formulas(name, reference):
    np.testing.assert_allclose(run_torch(name), adam_steps(reference), rtol=1e-12, atol=1e-12)


def test_adamw_rule_matches_torch_adamw():
    from helm_plugins.runners.pretrain.rules import build_adamw_rule

    expected = adam_steps(reference_adamw)
    np.testing.assert_allclose(run_torch("adamw"), expected, rtol=1e-10)  # torch.optim.AdamW, the registered one
    model = OneMatrix().double()
    optimizer = build_adamw_rule(model, OptimizerConfig(lr=LR, weight_decay=WD, betas=(B1, B2), eps=EPS))
    for gradient in GRADIENTS:
        model.proj.weight.grad = torch.tensor(gradient)
        optimizer.step()
    np.testing.assert_allclose(model.proj.weight.detach().numpy(), expected, rtol=1e-12)


def reference_newton_schulz(x, steps=5):
    a, b, c = 3.4445, -4.7750, 2.0315
    tall = x.shape[0] > x.shape[1]
    x = x.T if tall else x
    x = x / (np.linalg.norm(x) + 1e-7)
    for _ in range(steps):
        gram = x @ x.T
        x = a * x + (b * gram + c * gram @ gram) @ x
    return x.T if tall else x


def test_muon_follows_its_formula():
    momentum = 0.95
    w, buffer = W0.copy(), np.zeros_like(W0)
    for g in GRADIENTS:
        buffer = momentum * buffer + g
        update = reference_newton_schulz(g + momentum * buffer)
        w = w * (1 - LR * WD) - LR * np.sqrt(max(1.0, 2 / 3)) * update
    np.testing.assert_allclose(run_torch("muon"), w, rtol=1e-5)  # Newton-Schulz runs in float32


def test_soap_follows_its_formula():
    shampoo_beta = 0.98
    w, m, v = W0.copy(), np.zeros_like(W0), np.zeros_like(W0)
    left, right = np.zeros((2, 2)), np.zeros((3, 3))
    for t, g in enumerate(GRADIENTS, start=1):
        left = shampoo_beta * left + (1 - shampoo_beta) * g @ g.T
        right = shampoo_beta * right + (1 - shampoo_beta) * g.T @ g
        if t == 1:  # the eigenbases are recomputed every 10 steps
            q_left, q_right = np.linalg.eigh(left)[1], np.linalg.eigh(right)[1]
        m = B1 * m + (1 - B1) * g
        rotated = q_left.T @ g @ q_right
        v = B2 * v + (1 - B2) * rotated**2
        direction = (q_left.T @ (m / (1 - B1**t)) @ q_right) / (np.sqrt(v / (1 - B2**t)) + EPS)
        w = w * (1 - LR * WD) - LR * (q_left @ direction @ q_right.T)
    np.testing.assert_allclose(run_torch("soap"), w, rtol=1e-7, atol=1e-9)


def test_newton_schulz_is_near_orthogonal_in_float32():
    torch.manual_seed(0)
    for shape in [(32, 96), (96, 32), (64, 64)]:
        matrix = torch.randn(*shape)
        orthogonal = newton_schulz(matrix)
        assert orthogonal.dtype == torch.float32 and orthogonal.shape == shape
        singular = torch.linalg.svdvals(orthogonal)
        # the quintic iteration maps singular values into about [0.7, 1.2]; only the tiny ones of a square
        # Gaussian matrix stay below in five steps
        assert singular.max() < 1.25 and (singular > 0.6).float().mean() > 0.95, (shape, singular)
        u, _, vt = torch.linalg.svd(matrix, full_matrices=False)
        cosine = (orthogonal * (u @ vt)).sum() / (orthogonal.norm() * (u @ vt).norm())
        assert cosine > 0.97


def test_router_puts_every_parameter_in_exactly_one_group():
    model = GPT(GPTConfig(vocab_size=50, context_length=8, n_layer=2, n_head=2, n_embd=8))
    routed = {r.name: r for r in route_parameters(model)}
    assert len(routed) == len(list(model.parameters())) == len({id(p) for p in model.parameters()})
    assert routed["wte.weight"].kind == routed["wpe.weight"].kind == "embedding" and "lm_head.weight" not in routed
    assert routed["h.0.attn.c_attn.weight"].blocks == 3 and routed["h.0.mlp.c_fc.weight"].kind == "matrix"
    assert routed["h.1.ln_2.bias"].kind == "vector"
    for name in OPTIMIZERS.names():
        optimizer = OPTIMIZERS.get(name)(model, OptimizerConfig(name=name))
        grouped = [id(p) for group in optimizer.param_groups for p in group["params"]]
        assert sorted(grouped) == sorted(id(p) for p in model.parameters()), name
    muon = OPTIMIZERS.get("muon")(model, OptimizerConfig(name="muon", lr=0.02, betas=(0.9, 0.95)))
    rules = {group["rule"]: group for group in muon.param_groups}
    assert {tuple(p.shape) for p in rules["muon"]["params"]} == {(24, 8), (8, 8), (32, 8), (8, 32)}
    adam_groups = [g for g in muon.param_groups if g["rule"] == "adamw"]
    assert all(g["lr"] == pytest.approx(0.3 * 0.02) and g["betas"] == (0.8, 0.98) for g in adam_groups)


def test_unknown_options_list_the_valid_ones():
    model = OneMatrix()
    with pytest.raises(ValueError, match=r"muon does not take options \['momentom'\]; valid options: adam_betas, adam_lr_ratio, momentum"):
        OPTIMIZERS.get("muon")(model, OptimizerConfig(options={"momentom": 0.9}))
    with pytest.raises(ValueError, match="Did you mean 'muon'"):
        OPTIMIZERS.get("muonn")
    with pytest.raises(ValueError, match=r"betas \(0.9, 1.0\) must lie in \[0, 1\)"):
        OptimizerConfig(betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="greater than 0"):
        OptimizerConfig(lr=0)
