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
