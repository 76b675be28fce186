"""The EntCE scaling exponent over a model family trained here: GPTs of several widths trained by the pretraining
runner on the same synthetic documents to comparable convergence (the same number of training tokens per
parameter, 20 by default as in Chinchilla's compute-optimal rule, each with its own full learning-rate schedule),
each measured exactly (entropies from the logits) over >= 256 generation steps on the same held-out stream at
temperature 1, then the paper's law EntCE = A N^b, fitted on every size (EntCE <= 0 included) weighted by each
model's standard error, with a 95% interval on b.
"""

import json
from pathlib import Path
from typing import List, Optional

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field, model_validator
from tqdm.auto import tqdm

from helm_plugins.statistics.entropy_calibration.demo import EntropyCalibrationDemoConfig, held_out_tokens, measure_model
from helm_plugins.statistics.entropy_calibration.measures import entropy_calibration_error, scaling_exponent


class EntropyScalingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    widths: List[int] = Field(default_factory=lambda: [16, 24, 32, 48, 64], min_length=3, description="n_embd of each model")
    n_layer: int = Field(2, gt=0)
    context_length: int = Field(288, gt=0, description="training window; must hold 1 + prompt_tokens + steps")
    tokens_per_parameter: float = Field(20.0, gt=0, description="training tokens per parameter (all parameters), "
                                        "the same for every width: the comparable-convergence rule")
    batch_size: int = Field(16, gt=0)
    train_documents: int = Field(45000, ge=100, description="enough for the largest model's budget without repeats")
    evaluations: int = Field(8, ge=2, description="held-out loss evaluations per run (the plateau check reads them)")
    measure: EntropyCalibrationDemoConfig = Field(
        default_factory=lambda: EntropyCalibrationDemoConfig(
            documents=150, steps=256, temperatures=[1.0], zipf_alphas=[], packed=True))
    seed: int = 0
    threads: Optional[int] = Field(None, gt=0)

    @model_validator(mode="after")
    def _window_holds_measurement(self) -> "EntropyScalingConfig":
        needed = 1 + self.measure.prompt_tokens + self.measure.steps
        if self.context_length < needed:
            raise ValueError(f"context_length {self.context_length} is shorter than the measured sequences "
                             f"(1 + prompt_tokens {self.measure.prompt_tokens} + steps {self.measure.steps} = {needed})")
        return self


def width_config(config: EntropyScalingConfig, width: int):
    """The pretraining config of one width, trained for tokens_per_parameter x its parameter count."""
    from helm_plugins.runners.pretrain.config import load_config
    from helm_plugins.runners.pretrain.model import GPT
    from helm_plugins.runners.pretrain.sweeps import with_budget

    mixture = ",".join(f"{kind}: {weight}" for kind, weight in config.measure.mixture.items())
    overrides = [
        f"run_name=width{width}", f"seed={config.seed}", f"data.mixture={{{mixture}}}",
        f"data.num_documents={config.train_documents}", f"model.n_embd={width}", f"model.n_layer={config.n_layer}",
        f"model.n_head={max(1, width // 32)}", f"model.context_length={config.context_length}",
        f"batch_size={config.batch_size}", "eval_batches=4", "sample_tokens=0",
        *([f"threads={config.threads}"] if config.threads else []),
    ]
    pretrain = load_config("demo", overrides=overrides)
    with torch.device("meta"):
        parameters = GPT(pretrain.model.model_copy(update={"vocab_size": pretrain.tokenizer.vocab_size})).num_parameters()
    budgeted = with_budget(pretrain, round(config.tokens_per_parameter * parameters), evaluations=config.evaluations,
                           checkpoints=1)
    warmup = max(1, budgeted.max_steps // 10)
    return budgeted.model_copy(update={"schedule": budgeted.schedule.model_copy(update={"warmup_steps": warmup})})


def plateau(evaluations: List[dict]) -> Optional[float]:
    """Relative fall of the held-out loss over the last quarter of training: (loss at 75% - final) / final."""
    points = [(e["step"], e["val_loss"]) for e in evaluations if e.get("val_loss") is not None]
    if len(points) < 2:
        return None
    last_step, final = points[-1]
    earlier = [loss for step, loss in points if step <= 0.75 * last_step]
    return (earlier[-1] - final) / final if earlier else None


def run_family(config: EntropyScalingConfig, output_dir: Path, progress: bool = True) -> dict:
    from transformers import AutoModelForCausalLM

    from helm_plugins.runners.pretrain.trainer import Trainer

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    if config.threads:
        torch.set_num_threads(config.threads)
    models = []
    for width in tqdm(config.widths, desc="widths", disable=not progress):
        pretrain = width_config(config, width)
        trainer = Trainer(pretrain, output_dir / f"width{width}", fresh=True, data_cache=output_dir / "data_cache")
        result = trainer.train(progress=False)
        model = AutoModelForCausalLM.from_pretrained(result.huggingface_dir, local_files_only=True).eval()
        prompts, continuations = held_out_tokens(trainer.tokenizer, config.measure)
        entropies, log_losses = measure_model(model, prompts, continuations, 1.0, config.seed)
        measured = entropy_calibration_error(entropies, log_losses).as_dict()
        models.append({"width": width, "parameters": result.num_parameters, "train_tokens": result.tokens,
                       "tokens_per_parameter": result.tokens / result.num_parameters, "train_steps": result.step,
                       "final_val_loss": result.final_val_loss, "val_loss_fall_last_quarter": plateau(result.evaluations),
                       "train_seconds": result.train_seconds, "documents": len(prompts), "generation_steps": continuations.shape[1],
                       **{k: v for k, v in measured.items() if not k.endswith("_per_step")}})
        (output_dir / "family.json").write_text(json.dumps({"models": models, "config": config.model_dump()}, indent=1))
    fit = scaling_exponent([m["parameters"] for m in models], [m["entce"] for m in models],
                           [m["entce_stderr"] for m in models])
    report = {"models": models, "fitted": [m["width"] for m in models], "exponent": fit.exponent, "scaling": fit.as_dict(),
              "config": config.model_dump()}
    (output_dir / "family.json").write_text(json.dumps(report, indent=1))
    plot_family(report, output_dir / "entce_scaling.png")
    return report


def plot_family(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = np.array([m["parameters"] for m in report["models"]], dtype=float)
    entce = np.array([m["entce"] for m in report["models"]])
    stderr = np.array([m["entce_stderr"] for m in report["models"]])
    figure, axis = plt.subplots(figsize=(6, 4.2))
    axis.errorbar(sizes, entce, yerr=stderr, fmt="o", capsize=3, label="EntCE +- s.e. (temperature 1)")
    fit = report["scaling"]
    grid = np.geomspace(sizes.min(), sizes.max(), 20)
    axis.plot(grid, fit["amplitude"] * grid ** fit["exponent"], "--",
              label=f"fit: EntCE ~ N^{fit['exponent']:+.2f} [{fit['ci_low']:+.2f}, {fit['ci_high']:+.2f}]")
    axis.set_xscale("log")
    axis.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    axis.axhline(0, color="gray", lw=0.5)
    axis.set(xlabel="parameters N", ylabel="EntCE (nats)", title="Entropy calibration error over model size")
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
