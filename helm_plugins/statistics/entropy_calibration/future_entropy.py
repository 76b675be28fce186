"""Future-entropy scaling (arXiv 2511.11966, Sec. 5), for local models: reweight each next token by the entropy
the model is expected to produce after it,

    p~(y | c)  proportional to  p(y | c) * exp(-lambda * F(c, y)),   F(c, y) = E[H_{t+1} + ... + H_{t+K} | c, y],

so that tokens leading into uncertain continuations (the error accumulation behind EntCE > 0) are sampled less,
instead of sharpening every step as a lower temperature does. F is learned by regression from the model's own
samples; here a linear head on the model's last hidden state after reading y, F^(c, y) = w' h(c, y) + b, fitted
by ridge regression and evaluated for the top-k candidates of each step (one batched step of the model). lambda is set on calibration documents so that EntCE = 0 and the result is measured on
other held-out documents, next to temperature scaling tuned the same way (the paper's baseline that costs log
loss). K (the horizon) bounds the future sum: the reference form sums to the end of the generation.
"""

import json
from copy import deepcopy
from pathlib import Path
from typing import Optional, Tuple

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field
from scipy import optimize
from tqdm.auto import tqdm

from helm_plugins.statistics.entropy_calibration.demo import EntropyCalibrationDemoConfig, held_out_tokens, load_checkpoint
from helm_plugins.statistics.entropy_calibration.measures import EntCEResult, entropy_calibration_error
from helm_plugins.statistics.entropy_calibration.plots import save_curves


class FutureEntropyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str = Field("tiny-default", description="'tiny-default' or a Hugging Face checkpoint folder (GPT-2 layout)")
    mixture: dict = Field(default_factory=lambda: {"stories": 0.5, "biography": 0.5})
    prompt_tokens: int = Field(16, gt=0)
    steps: int = Field(32, gt=1, description="T: generated and human tokens compared")
    horizon: int = Field(8, gt=0, description="K: future steps whose entropies F sums")
    regression_documents: int = Field(300, ge=10, description="prompts whose samples train the regressor")
    samples_per_prompt: int = Field(4, gt=0)
    ridge: float = Field(1.0, gt=0)
    top_k: int = Field(16, gt=0, description="candidates whose future entropy is predicted at each step")
    calibration_documents: int = Field(100, ge=10, description="documents on which lambda and the temperature are tuned")
    evaluation_documents: int = Field(150, ge=10)
    max_lambda: float = Field(5.0, gt=0)
    seed: int = 0
    threads: Optional[int] = Field(None, gt=0)


class FutureEntropyRegressor:
    """F^(c, y) = w' h(c, y) + b, h(c, y) the model's last hidden state after reading y."""

    def __init__(self, weight: torch.Tensor, bias: float):
        self.weight, self.bias = weight, bias

    def predict(self, states: torch.Tensor) -> torch.Tensor:
        return states.float() @ self.weight + self.bias

    @classmethod
    def fit(cls, states: torch.Tensor, targets: torch.Tensor, ridge: float) -> "FutureEntropyRegressor":
        """Ridge regression with an unpenalised intercept."""
        x, y = states.double(), targets.double()
        mean_x, mean_y = x.mean(0), y.mean()
        x, y = x - mean_x, y - mean_y
        coef = torch.linalg.solve(x.T @ x + ridge * torch.eye(x.shape[1], dtype=torch.float64), x.T @ y)
        return cls(coef.float(), float(mean_y - mean_x @ coef))


class FutureEntropyScaling:
    """Adjusts next-token logits by -lambda F^(c, y) for the `top_k` likeliest tokens (and a forced token, when
    scoring human text); every other token gets the probability-weighted mean F^ of those, so the tail keeps its
    share relative to them. F^ needs the hidden state after each candidate: one batched step of the model on the
    candidates, from a copy of the cache."""

    def __init__(self, model, regressor: FutureEntropyRegressor, lam: float, top_k: int = 16):
        self.model, self.regressor, self.lam, self.top_k = model, regressor, lam, top_k

    def __call__(self, cache, logits: torch.Tensor, forced: Optional[torch.Tensor] = None) -> torch.Tensor:
        candidates = logits.topk(self.top_k, dim=-1).indices
        if forced is not None:
            candidates = torch.cat([candidates, forced[:, None]], dim=1)
        batch, k = candidates.shape
        copy = deepcopy(cache)
        copy.batch_repeat_interleave(k)
        output = self.model(input_ids=candidates.reshape(-1, 1), past_key_values=copy, use_cache=True, output_hidden_states=True)
        future = self.regressor.predict(output.hidden_states[-1][:, -1]).reshape(batch, k)
        chosen = torch.softmax(logits, dim=-1).gather(1, candidates)
        tail = (chosen * future).sum(1) / chosen.sum(1)
        adjusted = logits - self.lam * tail[:, None]
        return adjusted.scatter(1, candidates, logits.gather(1, candidates) - self.lam * future)


class Temperature:
    def __init__(self, temperature: float):
        self.temperature = temperature

    def __call__(self, cache, logits: torch.Tensor, forced: Optional[torch.Tensor] = None) -> torch.Tensor:
        return logits / self.temperature


@torch.no_grad()
def run_steps(model, prompts: torch.Tensor, steps: int, seed: int, adjust=None, forced: Optional[torch.Tensor] = None):
    """Step the model with a KV cache, sampling (ancestrally) or reading `forced` tokens. Returns (tokens, exact
    entropies of the adjusted distribution, -log p~ of each token, last hidden state after each token), each
    documents x steps."""
    torch.manual_seed(seed)
    output = model(input_ids=prompts, use_cache=True)
    cache, logits = output.past_key_values, output.logits[:, -1].float()
    tokens, entropies, losses, states = [], [], [], []
    for t in range(steps):
        if adjust is not None:
            logits = adjust(cache, logits, None if forced is None else forced[:, t])
        logp = torch.log_softmax(logits, dim=-1)
        entropies.append(-(logp.exp() * logp).sum(-1))
        token = forced[:, t] if forced is not None else torch.multinomial(logp.exp(), 1)[:, 0]
        losses.append(-logp.gather(1, token[:, None])[:, 0])
        tokens.append(token)
        output = model(input_ids=token[:, None], past_key_values=cache, use_cache=True, output_hidden_states=True)
        cache, logits = output.past_key_values, output.logits[:, -1].float()
        states.append(output.hidden_states[-1][:, -1])
    return torch.stack(tokens, 1), torch.stack(entropies, 1), torch.stack(losses, 1), torch.stack(states, 1)


def fit_regressor(model, prompts: torch.Tensor, config: FutureEntropyConfig) -> Tuple[FutureEntropyRegressor, dict]:
    """The model's own samples; after the token of step t, the target is the sum of the exact entropies of steps
    t+1 .. t+K; ridge fit, R^2 on a fifth of the prompts held out."""
    repeated = prompts.repeat_interleave(config.samples_per_prompt, 0)
    _, entropies, _, states = run_steps(model, repeated, config.steps + config.horizon, config.seed)
    future = torch.stack([entropies[:, t + 1 : t + 1 + config.horizon].sum(1) for t in range(config.steps)], 1)
    states = states[:, : config.steps]
    cut = int(0.8 * len(prompts)) * config.samples_per_prompt
    regressor = FutureEntropyRegressor.fit(states[:cut].reshape(-1, states.shape[-1]), future[:cut].reshape(-1), config.ridge)
    prediction, target = regressor.predict(states[cut:]).reshape(-1), future[cut:].reshape(-1)
    r2 = float(1 - ((prediction - target) ** 2).mean() / target.var())
    return regressor, {"samples": int(future.numel()), "held_out_r2": r2, "mean_future_entropy": float(future.mean())}


def measure(model, prompts, continuations, seed: int, adjust=None) -> EntCEResult:
    """EntCE of the (adjusted) model: exact entropies along its own samples, log loss on the continuations."""
    _, entropies, _, _ = run_steps(model, prompts, continuations.shape[1], seed, adjust)
    _, _, losses, _ = run_steps(model, prompts, continuations.shape[1], seed, adjust, forced=continuations)
    return entropy_calibration_error(entropies.numpy(), losses.numpy())


def tune(make_adjust, low: float, high: float, model, prompts, continuations, seed: int) -> float:
    """The parameter in [low, high] where EntCE crosses 0 on the calibration documents (the end nearest 0 if it
    does not cross)."""
    entce = lambda value: measure(model, prompts, continuations, seed, make_adjust(value)).entce  # noqa: E731
    at_low, at_high = entce(low), entce(high)
    if np.sign(at_low) == np.sign(at_high):
        return low if abs(at_low) < abs(at_high) else high
    return float(optimize.brentq(entce, low, high, xtol=1e-3 * (high - low), maxiter=30))


def run_future_entropy(config: FutureEntropyConfig, output_dir: Path, progress: bool = True) -> dict:
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    if config.threads:
        torch.set_num_threads(config.threads)
    model, tokenizer = load_checkpoint(config.model)

    def documents(count: int, seed: int):
        view = EntropyCalibrationDemoConfig(mixture=config.mixture, documents=count, prompt_tokens=config.prompt_tokens,
                                            steps=config.steps, seed=seed)
        return held_out_tokens(tokenizer, view)

    bar = tqdm(total=4, desc="future entropy", disable=not progress)
    regression_prompts, _ = documents(config.regression_documents, config.seed + 1)
    regressor, regression = fit_regressor(model, regression_prompts, config)
    bar.update()
    calibration = documents(config.calibration_documents, config.seed + 2)
    lam = tune(lambda v: FutureEntropyScaling(model, regressor, v, config.top_k), 0.0, config.max_lambda, model, *calibration, config.seed)
    bar.update()
    temperature = tune(Temperature, 0.5, 1.5, model, *calibration, config.seed)
    bar.update()
    evaluation = documents(config.evaluation_documents, config.seed)
    results = {
        "base (temperature 1)": measure(model, *evaluation, config.seed),
        f"future entropy (lambda {lam:.3f})": measure(model, *evaluation, config.seed,
                                                      FutureEntropyScaling(model, regressor, lam, config.top_k)),
        f"temperature {temperature:.3f}": measure(model, *evaluation, config.seed, Temperature(temperature)),
    }
    bar.update()
    bar.close()
    report = {"model": config.model, "lambda": lam, "temperature": temperature, "regressor": regression,
              "documents": {"regression": len(regression_prompts), "calibration": len(calibration[0]),
                            "evaluation": len(evaluation[0])},
              "results": {name: r.as_dict() for name, r in results.items()}}
    (output_dir / "future_entropy.json").write_text(json.dumps(report, indent=1))
    save_curves(report["results"], output_dir / "future_entropy.png", f"Calibrating {config.model}")
    return report
