"""Pretraining recipes by name: a preset config plus the procedure that runs it.

A recipe's procedure trains one or more models and returns their results; each result is written as a HELM run
into the suite. New procedures (regularised sweeps, ensembles, distillation) register here with `RECIPES`.
"""

import json
import shutil
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Callable, List, Optional

from helm_plugins.common.registry import Registry
from helm_plugins.models.registration import TINY_CHAT_DIR, TINY_DEFAULT_DIR
from helm_plugins.common.results import RunInstance, RunRecord, make_stat, write_run_directory
from helm_plugins.runners.pretrain.config import PretrainConfig
from helm_plugins.runners.pretrain.trainer import Trainer, TrainResult

PRETRAIN_GROUP = "hp_pretraining"


@dataclass(frozen=True)
class RecipeOptions:
    output_dir: Path
    suite_dir: Optional[Path]  # benchmark_output/runs/<suite>; None writes no HELM run
    fresh: bool = False
    stop_at_step: Optional[int] = None
    progress: bool = True
    export_dir: Optional[Path] = None  # where to copy the final Hugging Face checkpoint


@dataclass(frozen=True)
class Recipe:
    name: str
    description: str
    preset: str
    procedure: Callable[[PretrainConfig, RecipeOptions], List[TrainResult]]
    default_export_dir: Optional[Path] = None


RECIPES: Registry[Recipe] = Registry("pretraining recipe")


def train_single(config: PretrainConfig, options: RecipeOptions) -> List[TrainResult]:
    trainer = Trainer(config, options.output_dir, fresh=options.fresh)
    return [trainer.train(stop_at_step=options.stop_at_step, progress=options.progress)]


CHAT_TUNING_PRESET = "tiny-chat-judge"


def train_chat_model(config: PretrainConfig, options: RecipeOptions) -> List[TrainResult]:
    """Two stages: the preset's config in `<output>/base`, then the preset `tiny-chat-judge` started from its
    weights in `<output>/judge` (same threads). The chat template its corpus is rendered with goes into the final
    checkpoint's tokenizer config, so HELM's Hugging Face client renders prompts and chat messages the way the
    model was trained. Only the final model is returned (its training report includes the first stage's)."""
    from helm_plugins.runners.pretrain.config import load_config
    from helm_plugins.synthetic.chat_formats import CHAT_TEMPLATE

    output_dir = Path(options.output_dir)
    base = train_single(config, replace(options, output_dir=output_dir / "base"))[0]
    if not base.completed:
        return [base]
    (base.huggingface_dir / "training_report.json").write_text(json.dumps(training_report(base), indent=2) + "\n")
    tuning = load_config(CHAT_TUNING_PRESET).model_copy(update={"init_from": base.huggingface_dir, "threads": config.threads})
    remaining = None if options.stop_at_step is None else max(options.stop_at_step - base.step, 0)
    if remaining == 0:
        return [base]
    results = train_single(tuning, replace(options, output_dir=output_dir / "judge", stop_at_step=remaining))
    for result in results:
        config_path = result.huggingface_dir / "tokenizer_config.json"
        if result.completed and config_path.is_file():
            tokenizer_config = json.loads(config_path.read_text())
            tokenizer_config["chat_template"] = CHAT_TEMPLATE
            config_path.write_text(json.dumps(tokenizer_config, indent=2) + "\n")
    return results


def training_report(result: TrainResult) -> dict:
    report = {
        "run_name": result.config.run_name,
        "built": date.today().isoformat(),
        "num_parameters": result.num_parameters,
        "context_length": result.config.model.context_length,
        "steps": result.step,
        "train_tokens": result.tokens,
        "train_seconds": round(result.train_seconds, 1),
        "tokens_per_second": round(result.tokens_per_second),
        "final_train_loss": round(result.final_train_loss, 4),
        "final_val_loss": round(result.final_val_loss, 4),
        "config": result.config.model_dump(mode="json"),
    }
    first_stage = result.config.init_from and Path(result.config.init_from) / "training_report.json"
    if first_stage and first_stage.is_file():
        report["initialised_from"] = json.loads(first_stage.read_text())
    return report


def export_checkpoint(result: TrainResult, export_dir: Path) -> Path:
    """Copy the final Hugging Face checkpoint (with its training report) to `export_dir`, replacing it."""
    export_dir = Path(export_dir)
    staging = export_dir.with_name(export_dir.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(result.huggingface_dir, staging)
    (staging / "training_report.json").write_text(json.dumps(training_report(result), indent=2) + "\n")
    shutil.rmtree(export_dir, ignore_errors=True)
    staging.rename(export_dir)
    return export_dir


def run_name(recipe: str, result: TrainResult) -> str:
    config = result.config
    return f"hp_pretrain:recipe={recipe},optimizer={config.optimizer.name},seed={config.seed},model=helm-plugins/{config.run_name}"


def write_helm_run(recipe: str, result: TrainResult, suite_dir: Path) -> Path:
    config = result.config
    instances = [
        RunInstance(
            id=f"step{evaluation['step']:07d}",
            input=f"[step {evaluation['step']}, {evaluation['tokens']:,} tokens] {config.sample_prompt}",
            output=evaluation["sample"],
            stats={"val_loss": evaluation["val_loss"], "train_loss": evaluation["train_loss"]},
            split="valid",
        )
        for evaluation in result.evaluations
    ]
    stats = [
        make_stat("val_loss", result.final_val_loss, split="valid"),
        make_stat("train_loss", result.final_train_loss, split="train"),
        make_stat("train_tokens", result.tokens, split="train"),
        make_stat("tokens_per_second", result.tokens_per_second, split="train"),
        make_stat("train_wall_seconds", result.wall_seconds, split="train"),
        make_stat("num_parameters", result.num_parameters, split="train"),
    ]
    return write_run_directory(
        suite_dir,
        RunRecord(
            name=run_name(recipe, result),
            scenario_name="hp_pretrain",
            scenario_description=f"Pretraining run '{config.run_name}' of recipe '{recipe}' (helm-plugins pretrain).",
            scenario_class="helm_plugins.runners.pretrain.trainer.Trainer",
            scenario_args={"recipe": recipe, "optimizer": config.optimizer.name, "seed": config.seed},
            model=f"helm-plugins/{config.run_name}",
            method="pretraining",
            groups=[PRETRAIN_GROUP],
            stats=stats,
            instances=instances,
            max_tokens=config.sample_tokens,
        ),
    )


def run_recipe(recipe: Recipe, config: PretrainConfig, options: RecipeOptions) -> List[TrainResult]:
    results = recipe.procedure(config, options)
    for result in results:
        if not result.completed:
            continue
        if options.suite_dir is not None:
            run_dir = write_helm_run(recipe.name, result, options.suite_dir)
            shutil.copy(result.output_dir / "loss_curve.png", run_dir / "loss_curve.png")
        export_dir = options.export_dir or recipe.default_export_dir
        if export_dir is not None:
            export_checkpoint(result, export_dir)
    return results


RECIPES.register(
    "demo",
    Recipe("demo", "a 0.1M-parameter GPT for under a minute on the synthetic mixture", "demo", train_single),
)
RECIPES.register(
    "tiny-default",
    Recipe(
        "tiny-default",
        "rebuilds the embedded default model helm-plugins/tiny-default from its seed (tens of minutes on 2 cores)",
        "tiny-default",
        train_single,
        default_export_dir=TINY_DEFAULT_DIR,
    ),
)
RECIPES.register(
    "tiny-chat",
    Recipe(
        "tiny-chat",
        "rebuilds the embedded chat model helm-plugins/tiny-chat (HELM, DSPy and judge formats, then explicit "
        "judge comparisons; about 95 minutes on one CPU core, about 70 with threads=2)",
        "tiny-chat",
        train_chat_model,
        default_export_dir=TINY_CHAT_DIR,
    ),
)
