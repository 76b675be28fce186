"""The EntCE scaling exponent over a model family trained here: GPTs of several widths trained by the pretraining
runner on the same synthetic documents for the same number of steps, each measured exactly (entropies from the
logits) on the same held-out documents at temperature 1, then the paper's law EntCE = A N^b,
fitted on every size (EntCE <= 0 included) weighted by each model's standard error, with a 95% interval on b.
"""

import json
from pathlib import Path
from typing import List, Optional

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field
from tqdm.auto import tqdm

from helm_plugins.statistics.entropy_calibration.demo import EntropyCalibrationDemoConfig, held_out_tokens, measure_model
from helm_plugins.statistics.entropy_calibration.measures import entropy_calibration_error, scaling_exponent


class EntropyScalingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    widths: List[int] = Field(default_factory=lambda: [16, 32, 64, 128], min_length=3, description="n_embd of each model")
    n_layer: int = Field(2, gt=0)
    train_steps: int = Field(300, gt=0)
    batch_size: int = Field(16, gt=0)
    train_documents: int = Field(6000, ge=100)
    measure: EntropyCalibrationDemoConfig = Field(
        default_factory=lambda: EntropyCalibrationDemoConfig(documents=150, steps=32, temperatures=[1.0], zipf_alphas=[]))
    seed: int = 0
    threads: Optional[int] = Field(None, gt=0)


def run_family(config: EntropyScalingConfig, output_dir: Path, progress: bool = True) -> dict:
    from transformers import AutoModelForCausalLM

    from helm_plugins.runners.pretrain.config import load_config
    from helm_plugins.runners.pretrain.trainer import Trainer

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    if config.threads:
        torch.set_num_threads(config.threads)
    mixture = ",".join(f"{kind}: {weight}" for kind, weight in config.measure.mixture.items())
    models = []
    for width in tqdm(config.widths, desc="widths", disable=not progress):
        overrides = [
            f"run_name=width{width}", f"seed={config.seed}", f"data.mixture={{{mixture}}}",
            f"data.num_documents={config.train_documents}", f"model.n_embd={width}", f"model.n_layer={config.n_layer}",
            f"model.n_head={max(1, width // 32)}", f"batch_size={config.batch_size}", f"max_steps={config.train_steps}",
            f"eval_every={config.train_steps}", f"checkpoint_every={config.train_steps}", "eval_batches=2",
            f"schedule.warmup_steps={max(1, config.train_steps // 10)}", "sample_tokens=0",
            *([f"threads={config.threads}"] if config.threads else []),
        ]
        trainer = Trainer(load_config("demo", overrides=overrides), output_dir / f"width{width}", fresh=True)
        result = trainer.train(progress=False)
        model = AutoModelForCausalLM.from_pretrained(result.huggingface_dir, local_files_only=True).eval()
        prompts, continuations = held_out_tokens(trainer.tokenizer, config.measure)
        entropies, log_losses = measure_model(model, prompts, continuations, 1.0, config.seed)
        measured = entropy_calibration_error(entropies, log_losses).as_dict()
        models.append({"width": width, "parameters": result.num_parameters, "final_val_loss": result.final_val_loss,
                       **{k: v for k, v in measured.items() if not k.endswith("_per_step")}})
    fit = scaling_exponent([m["parameters"] for m in models], [m["entce"] for m in models],
                           [m["entce_stderr"] for m in models])
    report = {"models": models, "fitted": [m["width"] for m in models], "exponent": fit.exponent, "scaling": fit.as_dict()}
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
