"""`helm-plugins pretrain`: train a GPT with a recipe, write it as a HELM run, resume where it stopped.

    helm-plugins pretrain --recipe demo --suite demo
    helm-plugins pretrain --recipe tiny-default                      # rebuilds the embedded default model
    helm-plugins pretrain --recipe demo --set model.n_layer=4 --set optimizer.lr=1e-3 --output runs/x
"""

import argparse
from pathlib import Path

from helm_plugins.cli import add_runner_arguments, add_subcommand, suite_dir


def add_parser(subparsers) -> None:
    parser = add_subcommand(subparsers, "pretrain", "train a GPT with a pretraining recipe and record it as a HELM run", __doc__, run)
    parser.add_argument("--recipe", default="demo", help="recipe name (see --list)")
    add_runner_arguments(parser, "optimizer.lr=1e-3", "pretrain_output")
    parser.add_argument("--export-dir", type=Path, help="copy the final Hugging Face checkpoint here")
    parser.add_argument("--fresh", action="store_true", help="discard an existing checkpoint in the run folder")
    parser.add_argument("--stop-at-step", type=int, help="save a checkpoint and stop after this step")
    parser.add_argument("--list", action="store_true", help="list recipes and optimizers, then exit")
    add_optimizers_parser(subparsers)
    add_infinite_compute_parser(subparsers)


def run(args: argparse.Namespace) -> int:
    from helm_plugins.runners.pretrain.config import load_config
    from helm_plugins.runners.pretrain.optimizers import OPTIMIZERS
    from helm_plugins.runners.pretrain.recipes import RECIPES, RecipeOptions, run_recipe

    if args.list:
        for name in RECIPES.names():
            print(f"recipe    {name:14s} {RECIPES.get(name).description}")
        print(f"optimizers: {', '.join(OPTIMIZERS.names())}")
        return 0
    recipe = RECIPES.get(args.recipe)
    config = load_config(recipe.preset, args.config, args.overrides)
    options = RecipeOptions(
        output_dir=args.output or Path("pretrain_output") / config.run_name,
        suite_dir=suite_dir(args),
        fresh=args.fresh,
        stop_at_step=args.stop_at_step,
        progress=not args.no_progress,
        export_dir=args.export_dir,
    )
    for result in run_recipe(recipe, config, options):
        state = "done" if result.completed else f"stopped at step {result.step} (rerun to resume)"
        print(
            f"{config.run_name}: {state}; {result.tokens:,} tokens, {result.tokens_per_second:,.0f} tokens/s, "
            f"train loss {result.final_train_loss:.4f}, validation loss {result.final_val_loss:.4f}; "
            f"folder {result.output_dir}"
        )
    return 0


OPTIMIZERS_DOC = """`helm-plugins optimizers`: pretraining optimizers tuned fairly (arXiv 2509.02046), speedups over tuned AdamW.

    helm-plugins optimizers --preset demo --suite demo                # a few minutes on 2 cores
    helm-plugins optimizers --preset paper-small --suite optimizers   # every optimizer, 3 sizes x 1/2/4/8x (hours)
    helm-plugins optimizers --preset demo --set workers=1 --set seeds=[0,1,2]

Each optimizer is tuned by coordinate descent at every (size, budget); finished runs are reused and interrupted
ones resume from their checkpoints, so rerunning the same command continues a sweep.
"""


def add_optimizers_parser(subparsers) -> None:
    parser = add_subcommand(
        subparsers, "optimizers", "tune pretraining optimizers fairly and measure their speedup over AdamW", OPTIMIZERS_DOC, run_optimizers
    )
    parser.add_argument("--preset", default="demo", help="study preset (see --list)")
    add_runner_arguments(parser, "workers=1", "optimizers_output")
    parser.add_argument("--list", action="store_true", help="list study presets and optimizers, then exit")


def run_optimizers(args: argparse.Namespace) -> int:
    from helm_plugins.runners.pretrain.optimizer_study import (
        OptimizerStudy,
        load_study_config,
        study_preset_names,
        write_outputs,
    )
    from helm_plugins.runners.pretrain.optimizers import OPTIMIZERS

    if args.list:
        print(f"presets:    {', '.join(study_preset_names())}")
        print(f"optimizers: {', '.join(OPTIMIZERS.names())}")
        return 0
    config = load_study_config(args.preset, args.config, args.overrides)
    study = OptimizerStudy(config, args.output or Path("optimizers_output") / config.name, progress=not args.no_progress)
    summary = study.run()
    run_dirs = write_outputs(study, summary, suite_dir(args))
    print(format_speedup_table(summary))
    print(f"study folder {study.output_dir} ({summary['runs_trained']} runs trained now); {len(run_dirs)} HELM runs written")
    return 0


def format_speedup_table(summary: dict) -> str:
    def interval(value: dict) -> str:
        if value["estimate"] is None:
            return "n/a"
        low, high = (f"{v:.2f}" if v is not None else "inf" for v in (value["low"], value["high"]))
        return f"{value['estimate']:.2f} [{low}, {high}]"

    lines = ["| optimizer | size | budget | val loss | speedup vs tuned AdamW | vs untuned AdamW |", "|---|---|---|---|---|---|"]
    for row in summary["table"]:
        loss = f"{row['final_val_loss']:.4f}" if row["final_val_loss"] is not None else "diverged"
        lines.append(
            f"| {row['optimizer']} | {row['size']} | {row['multiple']:g}x | {loss} | "
            f"{interval(row['speedup'])} | {interval(row['speedup_vs_untuned'])} |"
        )
    rankings = summary["rankings"]
    if rankings["mean_tau"] is not None:
        lines.append(
            f"Kendall tau, ranking at 50% vs 100% of the budget: mean {rankings['mean_tau']:.2f}, min {rankings['min_tau']:.2f}; "
            f"{rankings['cells_with_flips']} of {len(rankings['per_cell'])} cells change order"
        )
    return "\n".join(lines)


INFINITE_COMPUTE_DOC = """`helm-plugins infinite-compute`: pre-training with fixed data and unlimited compute (arXiv 2509.14786).

    helm-plugins infinite-compute --preset demo --suite demo              # under a minute of CPU
    helm-plugins infinite-compute --preset paper-small --suite ic         # the documented study (about 45 minutes, 2 workers)
    helm-plugins infinite-compute --preset demo --set seeds=[0,1,2,3] --set train_tokens=16384

The standard recipe (weight decay 0.1) against epochs, learning rate and weight decay tuned jointly per size;
L(N) = A/N^alpha + E per recipe with an interval on E; logit-averaged ensembles and their asymptote; the joint limit;
data efficiency D'/D against the standard recipe's L(D); distillation of the ensemble into one model. Finished runs
are reused and interrupted ones resume from their checkpoints, so rerunning the same command continues the study.
"""


def add_infinite_compute_parser(subparsers) -> None:
    parser = add_subcommand(
        subparsers, "infinite-compute", "regularised recipes, ensembles and distillation when data is fixed (arXiv 2509.14786)",
        INFINITE_COMPUTE_DOC, run_infinite_compute,
    )
    parser.add_argument("--preset", default="demo", help="study preset (see --list)")
    add_runner_arguments(parser, "workers=2", "infinite_compute_output")
    parser.add_argument("--list", action="store_true", help="list study presets, then exit")


def run_infinite_compute(args: argparse.Namespace) -> int:
    from helm_plugins.runners.pretrain.infinite_compute import (
        InfiniteComputeStudy,
        format_report,
        load_study_config,
        study_preset_names,
        write_outputs,
    )

    if args.list:
        print(f"presets: {', '.join(study_preset_names())}")
        return 0
    config = load_study_config(args.preset, args.config, args.overrides)
    study = InfiniteComputeStudy(config, args.output or Path("infinite_compute_output") / config.name, progress=not args.no_progress)
    summary = study.run()
    run_dirs = write_outputs(study, summary, suite_dir(args))
    print(format_report(summary))
    print(f"study folder {study.output_dir} ({summary['runs_trained']} runs trained now); {len(run_dirs)} HELM runs written")
    return 0
