"""Entropy calibration (arXiv 2511.11966): does a model's generation entropy match its log loss on human text?

Per step t, with the model p at temperature tau and a prompt c:
- H_t = E over the model's own generations of the entropy of p_tau(. | c, y_<t)   (generation entropy)
- L_t = E over human continuations of -log p_tau(y_t | c, y_<t)                  (log loss)
EntCE = mean over steps of (H_t - L_t): > 0 when errors accumulate (entropy grows along generations while the
loss stays flat), < 0 when the model is overconfident. For local models H_t is exact from the logits; for API
models the sampled token's negative log-probability is an unbiased estimate of it.

Theory: on Zipf data with exponent alpha the mass of types seen once in m samples scales as m^(1/alpha - 1),
the predicted EntCE scaling exponent.
"""

import warnings
from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np
from scipy import stats


def entropy(probabilities: np.ndarray, axis: int = -1) -> np.ndarray:
    """Shannon entropy in nats of distributions along `axis` (zeros contribute nothing)."""
    p = np.asarray(probabilities, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log(p), 0.0)
    return terms.sum(axis=axis)


def with_temperature(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """p_tau proportional to p^(1 / tau)."""
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    logp = np.log(np.clip(np.asarray(probabilities, dtype=float), 1e-300, None)) / temperature
    logp -= logp.max(axis=-1, keepdims=True)
    p = np.exp(logp)
    return p / p.sum(axis=-1, keepdims=True)


@dataclass
class EntCEResult:
    entce: float
    entce_stderr: float
    mean_entropy: float
    mean_log_loss: float
    slope_per_step: float  # trend of H_t - L_t over steps (error accumulation when > 0)
    steps: int
    entropy_per_step: list
    log_loss_per_step: list

    def as_dict(self) -> dict:
        return asdict(self)


def entropy_calibration_error(entropies: np.ndarray, log_losses: np.ndarray) -> EntCEResult:
    """`entropies`: generations x steps (per-step H of each generation, or sampled-token NLL for API models);
    `log_losses`: human texts x steps. NaN marks steps past a sequence's end."""
    entropies, log_losses = np.asarray(entropies, dtype=float), np.asarray(log_losses, dtype=float)
    if entropies.ndim != 2 or log_losses.ndim != 2:
        raise ValueError("entropies and log losses must be (sequences x steps) arrays")
    steps = min(entropies.shape[1], log_losses.shape[1])
    if steps == 0 or len(entropies) == 0 or len(log_losses) == 0:
        raise ValueError("no steps to compare")
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows and columns are reported below
        return entce_from_curves(
            np.nanmean(entropies[:, :steps], axis=0), np.nanmean(log_losses[:, :steps], axis=0),
            np.nanmean(entropies[:, :steps], axis=1), np.nanmean(log_losses[:, :steps], axis=1),
        )


def entce_from_curves(entropy_per_step, log_loss_per_step, per_sequence_entropy, per_sequence_log_loss) -> EntCEResult:
    """EntCE from the per-step means H_t and L_t; the per-sequence means give its standard error (generations
    and human texts are independent samples)."""
    h, l = np.asarray(entropy_per_step, dtype=float), np.asarray(log_loss_per_step, dtype=float)
    steps = min(len(h), len(l))
    h, l = h[:steps], l[:steps]
    if steps == 0:
        raise ValueError("no steps to compare")
    if not (np.all(np.isfinite(h)) and np.all(np.isfinite(l))):
        raise ValueError("non-finite entropies or losses (a step without any sequence?)")
    per_sequence_h = np.asarray(per_sequence_entropy, dtype=float)
    per_sequence_l = np.asarray(per_sequence_log_loss, dtype=float)
    per_sequence_h, per_sequence_l = per_sequence_h[np.isfinite(per_sequence_h)], per_sequence_l[np.isfinite(per_sequence_l)]
    stderr = float(np.sqrt(np.var(per_sequence_h, ddof=1) / len(per_sequence_h) + np.var(per_sequence_l, ddof=1) / len(per_sequence_l))) \
        if len(per_sequence_h) > 1 and len(per_sequence_l) > 1 else float("nan")
    slope = float(stats.linregress(np.arange(steps), h - l).slope) if steps > 1 else 0.0
    return EntCEResult(float(np.mean(h - l)), stderr, float(h.mean()), float(l.mean()), slope, steps, h.tolist(), l.tolist())


def singleton_mass(samples: Sequence[int]) -> float:
    """Share of the m samples whose type occurs exactly once (K_{m,1} / m)."""
    _, counts = np.unique(np.asarray(samples), return_counts=True)
    return float(np.sum(counts == 1) / len(samples))


def singleton_mass_exponent(alpha: float, sizes=(1_000, 10_000, 100_000, 1_000_000), repeats: int = 3, seed: int = 0) -> float:
    """Fitted slope of log singleton mass against log m for Zipf(alpha) samples over an unbounded vocabulary
    (numpy's zipf sampler; alpha > 1). Theory: 1/alpha - 1."""
    if alpha <= 1:
        raise ValueError(f"Zipf sampling needs alpha > 1, got {alpha}")
    rng = np.random.default_rng(seed)
    masses = [np.mean([singleton_mass(rng.zipf(alpha, m)) for _ in range(repeats)]) for m in sizes]
    return float(stats.linregress(np.log(sizes), np.log(masses)).slope)


def scaling_exponent(model_sizes: Sequence[float], entce: Sequence[float]) -> float:
    """Slope of log EntCE against log model size (EntCE ~ N^slope); needs positive EntCE and >= 3 sizes."""
    sizes, values = np.asarray(model_sizes, dtype=float), np.asarray(entce, dtype=float)
    if len(sizes) < 3:
        raise ValueError(f"{len(sizes)} model sizes cannot fit a scaling exponent with any check; need >= 3")
    if np.any(values <= 0) or np.any(sizes <= 0):
        raise ValueError("a log-log fit needs positive EntCE values and sizes")
    return float(np.polyfit(np.log(sizes), np.log(values), 1)[0])
