"""CPU demonstration of a relative scaling law: GPTs trained by the pretraining runner at several compute
budgets on stories in a frequent and a rare "dialect", and the per-dialect held-out loss as compute grows.

The rare dialect is the same story grammar with a fixed set of word substitutions ("the" -> "da", "was" ->
"wis", ...), a small share of the corpus. Each budget is a separate run from scratch with its own schedule
(as in an IsoFLOP suite); compute F = 6 N T (N parameters, T training tokens).
"""

import json
import random
import re
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field
from tqdm.auto import tqdm

from helm_plugins.statistics.relative_scaling.laws import fit_power_law, relative_law

DIALECT = {
    "the": "da", "was": "wis", "a": "uh", "to": "ta", "and": "an", "there": "dere", "lived": "bided",
    "near": "nigh", "his": "hiz", "her": "hur", "one": "wan", "day": "dae", "found": "fand", "friend": "frend",
    "walked": "wakked", "asked": "axed", "said": "sed", "felt": "fel", "every": "ivry", "morning": "mornin",
}


def to_dialect(text: str) -> str:
    def swap(match):
        word = match.group(0)
        new = DIALECT.get(word.lower())
        if new is None:
            return word
        return new.capitalize() if word[0].isupper() else new
    return re.sub(r"[A-Za-z]+", swap, text)


class RelativeScalingDemoConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    documents: int = Field(6000, ge=100)
    rare_share: float = Field(0.05, gt=0, lt=0.5, description="share of the rare dialect in training")
    held_out: int = Field(300, ge=20, description="held-out documents per dialect")
    steps: List[int] = Field(default_factory=lambda: [60, 120, 240, 480, 960], min_length=3, description="budgets")
    n_embd: int = Field(64, gt=0)
    n_layer: int = Field(2, gt=0)
    batch_size: int = Field(16, gt=0)
    seed: int = 0
    threads: Optional[int] = Field(None, gt=0)


@torch.no_grad()
def dialect_losses(model, tokenizer, context_length: int, documents: List[str]) -> np.ndarray:
    """Mean token loss of each held-out document under a trained GPT of the pretraining runner."""
    from helm_plugins.runners.pretrain.data import IGNORE_INDEX, Batches, build_rows, encode_documents

    rows = build_rows(encode_documents(tokenizer, documents), "document", context_length)
    batches = Batches(rows, min(len(rows), 64), 0, tokenizer.eos_token_id)
    model.eval()
    losses = []
    for x, y in batches.sequential_batches(len(rows)):
        logits, _ = model(x)
        token_loss = torch.nn.functional.cross_entropy(logits.transpose(1, 2), y, reduction="none")
        mask = y != IGNORE_INDEX
        losses += ((token_loss * mask).sum(1) / mask.sum(1)).tolist()
    return np.array(losses)


def write_corpus(config, output_dir: Path) -> Tuple[Path, Dict[str, List[str]]]:
    """The training corpus (a `rare_share` of the stories in the rare dialect) as corpus.jsonl and the held-out
    stories of each dialect, also written as held_out.jsonl (the texts of the family's hp_text_loss runs).
    `config` has documents, rare_share, held_out and seed."""
    from helm_plugins.synthetic.stories import generate_stories

    output_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(config.seed)
    stories = generate_stories(config.documents + 2 * config.held_out, f"relative-scaling:{config.seed}")
    train, held = stories[: config.documents], stories[config.documents :]
    rare = set(rng.sample(range(config.documents), round(config.rare_share * config.documents)))
    corpus = output_dir / "corpus.jsonl"
    corpus.write_text("".join(json.dumps({"text": to_dialect(s) if i in rare else s}) + "\n" for i, s in enumerate(train)))
    held_out = {"frequent": held[: config.held_out], "rare": [to_dialect(s) for s in held[config.held_out :]]}
    (output_dir / "held_out.jsonl").write_text("".join(
        json.dumps({"id": f"{name}{i}", "text": text, "subgroup": name}) + "\n"
        for name, texts in held_out.items() for i, text in enumerate(texts)))
    return corpus, held_out


def run_demo(config: RelativeScalingDemoConfig, output_dir: Path, progress: bool = True) -> dict:
    from helm_plugins.runners.pretrain.config import load_config
    from helm_plugins.runners.pretrain.recipes import export_checkpoint
    from helm_plugins.runners.pretrain.trainer import Trainer

    output_dir = Path(output_dir)
    corpus, held_out = write_corpus(config, output_dir)
    rows = []
    for steps in tqdm(config.steps, desc="budgets", disable=not progress):
        overrides = [
            f"run_name=budget{steps}", f"seed={config.seed}", "data.source=jsonl", f"data.paths=[{corpus}]",
            "data.packing=document", "data.validation_fraction=0.02", f"model.n_embd={config.n_embd}",
            f"model.n_layer={config.n_layer}", "model.n_head=2", "model.context_length=128", f"batch_size={config.batch_size}",
            f"max_steps={steps}", f"eval_every={steps}", f"checkpoint_every={steps}", "eval_batches=2",
            f"schedule.warmup_steps={max(1, steps // 10)}", "sample_tokens=0",
            *([f"threads={config.threads}"] if config.threads else []),
        ]
        trainer = Trainer(load_config("demo", overrides=overrides), output_dir / f"budget{steps}", fresh=True)
        result = trainer.train(progress=False)
        export_checkpoint(result, output_dir / "checkpoints" / f"budget{steps}")
        row = {"steps": steps, "parameters": result.num_parameters, "tokens": result.tokens,
               "flops": 6.0 * result.num_parameters * result.tokens, "model": f"huggingface/budget{steps}"}
        for name, documents in held_out.items():
            losses = dialect_losses(trainer.model, trainer.tokenizer, trainer.config.model.context_length, documents)
            row[name] = float(losses.mean())
            row[f"{name}_items"] = losses.tolist()
        rows.append(row)
    (output_dir / "models.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (output_dir / "compute.csv").write_text("model,flops\n" + "".join(f"{r['model']},{r['flops']}\n" for r in rows))
    names = ("rare", "frequent")
    return analyse(
        np.array([r["flops"] for r in rows]),
        {name: np.array([r[name] for r in rows]) for name in names},
        *names,
        [{k: v for k, v in r.items() if not k.endswith("_items")} for r in rows],
        output_dir,
    )


def analyse(
    flops: np.ndarray,
    errors: Dict[str, np.ndarray],
    subgroup: str,
    baseline: str,
    models: List[dict],
    output_dir: Path,
    source: str = "",
) -> dict:
    """Power laws of both subgroups, the relative law of `subgroup` against `baseline`, results.json and the
    plot; `models` (one dict per model, in the order of `flops`) is kept in the results. `source` prefixes the
    subgroup names in errors."""
    laws = {name: fit_power_law(flops, errors[name], f"{source}{name}") for name in (subgroup, baseline)}
    relative = relative_law(flops, errors, subgroup, baseline)
    result = {"power_laws": {name: vars(law) for name, law in laws.items()}, "relative": relative.as_dict(), "models": models}
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "results.json").write_text(json.dumps(result, indent=1))
    plot(flops, errors, laws, relative, output_dir / "relative_scaling.png", subgroup, baseline)
    return result


def plot(flops, errors: Dict[str, np.ndarray], laws, relative, path: Path, subgroup: str = "rare",
         baseline: str = "frequent") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    grid = np.geomspace(flops.min(), flops.max(), 50)
    for name, values in errors.items():
        left.loglog(flops, values, "o", label=f"{name}: beta = {laws[name].beta:.3f}")
        left.loglog(grid, laws[name].predict(grid), "--", color=left.lines[-1].get_color())
    left.set(xlabel="compute (FLOPs)", ylabel="error", title="Per-subgroup power laws")
    left.legend(fontsize=8)
    ratio = errors[subgroup] / errors[baseline]
    right.semilogx(flops, ratio, "o", color="tab:purple")
    right.semilogx(grid, relative.gamma * grid**relative.delta_beta, "--", color="tab:purple")
    right.set(xlabel="compute (FLOPs)", ylabel=f"{subgroup} / {baseline} error",
              title=f"Relative law: dbeta = {relative.delta_beta:+.3f} [{relative.ci_low:+.3f}, {relative.ci_high:+.3f}], {relative.label}")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
