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
from typing import Dict, Hashable, Mapping, Optional, Sequence, Union

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


def entropy_calibration_error(
    entropies: np.ndarray,
    log_losses: np.ndarray,
    generation_prompts: Optional[Sequence[Hashable]] = None,
    text_prompts: Optional[Sequence[Hashable]] = None,
) -> EntCEResult:
    """`entropies`: generations x steps (per-step H of each generation, or sampled-token NLL for API models);
    `log_losses`: human texts x steps. NaN marks steps past a sequence's end. `generation_prompts` /
    `text_prompts` name the prompt of each row (several generations may share one); by default row i of both
    comes from prompt i (one generation per document)."""
    entropies, log_losses = np.asarray(entropies, dtype=float), np.asarray(log_losses, dtype=float)
    if entropies.ndim != 2 or log_losses.ndim != 2:
        raise ValueError("entropies and log losses must be (sequences x steps) arrays")
    steps = min(entropies.shape[1], log_losses.shape[1])
    if steps == 0 or len(entropies) == 0 or len(log_losses) == 0:
        raise ValueError("no steps to compare")
    generation_prompts = list(range(len(entropies))) if generation_prompts is None else list(generation_prompts)
    text_prompts = list(range(len(log_losses))) if text_prompts is None else list(text_prompts)
    if len(generation_prompts) != len(entropies) or len(text_prompts) != len(log_losses):
        raise ValueError("one prompt per row of entropies and of log losses")
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows and columns are reported below
        return entce_from_curves(
            np.nanmean(entropies[:, :steps], axis=0), np.nanmean(log_losses[:, :steps], axis=0),
            per_prompt_means(generation_prompts, np.nanmean(entropies[:, :steps], axis=1)),
            per_prompt_means(text_prompts, np.nanmean(log_losses[:, :steps], axis=1)),
        )


def per_prompt_means(prompts: Sequence[Hashable], values: Sequence[float]) -> Dict[Hashable, float]:
    """Mean of the finite values of each prompt."""
    groups: Dict[Hashable, list] = {}
    for prompt, value in zip(prompts, values):
        if np.isfinite(value):
            groups.setdefault(prompt, []).append(value)
    return {prompt: float(np.mean(v)) for prompt, v in groups.items()}


PerPrompt = Union[Mapping[Hashable, float], Sequence[float]]


def entce_standard_error(per_prompt_entropy: PerPrompt, per_prompt_log_loss: PerPrompt) -> float:
    """Standard error of EntCE with prompts as the sampling unit. Generations of one prompt share it, and the
    generations and the human text of a prompt share it too: with the same prompts on both sides the error is
    that of the mean over prompts of (mean entropy of its generations - log loss of its text); prompts seen on one
    side only add their side's variance as an independent sample. A sequence is read as {row index: value}."""
    h = dict(per_prompt_entropy) if isinstance(per_prompt_entropy, Mapping) else dict(enumerate(per_prompt_entropy))
    l = dict(per_prompt_log_loss) if isinstance(per_prompt_log_loss, Mapping) else dict(enumerate(per_prompt_log_loss))
    h = {k: v for k, v in h.items() if np.isfinite(v)}
    l = {k: v for k, v in l.items() if np.isfinite(v)}
    common = sorted(set(h) & set(l), key=str)
    if len(common) > 1:
        differences = np.array([h[k] - l[k] for k in common])
        return float(np.std(differences, ddof=1) / np.sqrt(len(common)))
    if len(h) > 1 and len(l) > 1:
        return float(np.sqrt(np.var(list(h.values()), ddof=1) / len(h) + np.var(list(l.values()), ddof=1) / len(l)))
    return float("nan")


def entce_from_curves(entropy_per_step, log_loss_per_step, per_prompt_entropy: PerPrompt, per_prompt_log_loss: PerPrompt) -> EntCEResult:
    """EntCE from the per-step means H_t and L_t; the per-prompt means give its standard error
    (`entce_standard_error`)."""
    h, l = np.asarray(entropy_per_step, dtype=float), np.asarray(log_loss_per_step, dtype=float)
    steps = min(len(h), len(l))
    h, l = h[:steps], l[:steps]
    if steps == 0:
        raise ValueError("no steps to compare")
    if not (np.all(np.isfinite(h)) and np.all(np.isfinite(l))):
        raise ValueError("non-finite entropies or losses (a step without any sequence?)")
    stderr = entce_standard_error(per_prompt_entropy, per_prompt_log_loss)
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


@dataclass
class ScalingFit:
    exponent: float  # b in EntCE = A N^b
    stderr: float
    ci_low: float
    ci_high: float
    amplitude: float  # A
    models: int

    def as_dict(self) -> dict:
        return asdict(self)


def scaling_exponent(model_sizes: Sequence[float], entce: Sequence[float], stderr: Optional[Sequence[float]] = None,
                     level: float = 0.95) -> ScalingFit:
    """EntCE = A N^b fitted on every model (those with EntCE <= 0 included: a log-log fit would have to drop them
    and bias b) by least squares in EntCE itself, weighted by 1 / stderr^2 when the models' standard errors are
    given. The interval on b is a Wald interval from the fit's covariance: normal with the given standard errors,
    Student t on n - 2 degrees of freedom from the residuals otherwise. When the models scatter about the law more
    than their standard errors allow (reduced chi-square > 1: the law misfits, or the sizes differ in more than
    size), the standard error is scaled by the square root of the reduced chi-square and the quantile is Student
    t's on n - 2 degrees of freedom, so that the interval does not claim a precision the fit does not have.
    Needs >= 3 sizes."""
    from scipy.optimize import curve_fit

    sizes, values = np.asarray(model_sizes, dtype=float), np.asarray(entce, dtype=float)
    if len(sizes) < 3:
        raise ValueError(f"{len(sizes)} model sizes cannot fit a scaling exponent with any check; need >= 3")
    if np.any(sizes <= 0) or not np.all(np.isfinite(sizes)) or not np.all(np.isfinite(values)):
        raise ValueError("model sizes must be positive and EntCE values finite")
    sigma = None if stderr is None else np.asarray(stderr, dtype=float)
    if sigma is not None and (sigma.shape != values.shape or not np.all(np.isfinite(sigma) & (sigma > 0))):
        raise ValueError("one finite positive standard error per model")
    x = np.log(sizes / np.exp(np.mean(np.log(sizes))))  # centred: A is EntCE at the geometric-mean size
    positive = values > 0
    start_b = float(np.polyfit(x[positive], np.log(values[positive]), 1)[0]) if positive.sum() >= 2 else 0.0
    start_a = float(np.mean(values)) or 1e-3
    (a, b), covariance = curve_fit(lambda x, a, b: a * np.exp(b * x), x, values, p0=(start_a, start_b), sigma=sigma,
                                   absolute_sigma=sigma is not None, maxfev=20000)
    se = float(np.sqrt(covariance[1, 1]))
    quantile = stats.norm.ppf(0.5 + level / 2) if sigma is not None else stats.t.ppf(0.5 + level / 2, len(sizes) - 2)
    if sigma is not None:
        reduced_chi2 = float(np.sum(((values - a * np.exp(b * x)) / sigma) ** 2) / (len(sizes) - 2)) if len(sizes) > 2 else 0.0
        if reduced_chi2 > 1:
            se = float(se * np.sqrt(reduced_chi2))
            quantile = stats.t.ppf(0.5 + level / 2, len(sizes) - 2)
    amplitude = float(a * np.exp(-b * np.mean(np.log(sizes))))
    return ScalingFit(float(b), se, float(b - quantile * se), float(b + quantile * se), amplitude, len(sizes))
