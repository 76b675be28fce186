"""The pretraining loop: seeded, resumable to the exact step, with periodic validation and checkpoints.

Output folder (locked while a run uses it: a second run on it fails at once, naming the process that holds it):
    config.json         the resolved config (a rerun with another config into the same folder is refused)
    tokenizer/          the trained tokenizer (transformers format)
    checkpoint.pt       model, optimizer, scheduler, RNG state and history after the last saved step
    huggingface/        the final model + tokenizer as a GPT2LMHeadModel checkpoint
    loss_curve.png      train and validation loss against optimizer steps
    history.json        per-step train loss and per-evaluation records
"""

import json
import math
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import torch
from tqdm.auto import tqdm

from helm_plugins.common.folder_lock import FolderLock
from helm_plugins.runners.pretrain.config import PretrainConfig
from helm_plugins.runners.pretrain.data import CONTEXT_ONLY, IGNORE_INDEX, Batches, fingerprint
from helm_plugins.runners.pretrain.datacache import cached_tokenize, tokenize
from helm_plugins.runners.pretrain.model import GPT
from helm_plugins.runners.pretrain.optimizers import OPTIMIZERS, build_scheduler
from helm_plugins.runners.pretrain.tokenizer import load_tokenizer, save_tokenizer


class TrainingDiverged(RuntimeError):
    """The training loss became NaN or infinite; `step` is the optimizer step that produced it."""

    def __init__(self, step: int, loss: float, checkpoint_path: Path):
        super().__init__(f"training diverged at step {step} (loss {loss}); the last checkpoint is {checkpoint_path}")
        self.step = step
        self.loss = loss


@dataclass
class TrainResult:
    config: PretrainConfig
    output_dir: Path
    completed: bool  # False when stopped early (stop_at_step or interruption)
    step: int
    tokens: int = 0  # trained target tokens (padding excluded)
    train_losses: List[float] = field(default_factory=list)
    evaluations: List[Dict] = field(default_factory=list)
    train_seconds: float = 0.0
    wall_seconds: float = 0.0
    num_parameters: int = 0

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.train_seconds if self.train_seconds else 0.0

    @property
    def final_val_loss(self) -> float:
        return self.evaluations[-1]["val_loss"] if self.evaluations else math.nan

    @property
    def final_train_loss(self) -> float:
        """Mean train loss over the last evaluation interval (the last step alone is noisy)."""
        window = self.train_losses[-self.config.eval_every :]
        return sum(window) / len(window) if window else math.nan

    @property
    def huggingface_dir(self) -> Path:
        return self.output_dir / "huggingface"


class Trainer:
    def __init__(self, config: PretrainConfig, output_dir: Path, fresh: bool = False, data_cache: Optional[Path] = None):
        """`data_cache`: a folder of tokenized data shared by many runs (see datacache.py); None tokenizes here."""
        self._lock = FolderLock(Path(output_dir)).acquire()  # one run per folder, until train() ends
        try:
            self._set_up(config, output_dir, fresh, data_cache)
        except BaseException:
            self._lock.release()
            raise

    def _set_up(self, config: PretrainConfig, output_dir: Path, fresh: bool, data_cache: Optional[Path]) -> None:
        self.config = config
        self.output_dir = Path(output_dir)
        self.checkpoint_path = self.output_dir / "checkpoint.pt"
        self._prepare_output_dir(fresh)
        if config.threads:
            torch.set_num_threads(config.threads)
        torch.manual_seed(config.seed)

        tokenizer_dir = self.output_dir / "tokenizer"
        if config.init_from is not None:
            if data_cache is not None:
                raise ValueError("init_from cannot be combined with a shared data cache (the cache trains its own tokenizer)")
            if not tokenizer_dir.is_dir():  # a second stage reads its data with the first stage's tokenizer
                save_tokenizer(load_tokenizer(_checkpoint_folder(config.init_from)), tokenizer_dir)
        if data_cache is not None:
            data, entry = cached_tokenize(config, data_cache)
            if not tokenizer_dir.is_dir():
                shutil.copytree(entry / "tokenizer", tokenizer_dir)
        else:
            data = tokenize(config, tokenizer_dir)
            if not tokenizer_dir.is_dir():
                save_tokenizer(data.tokenizer, tokenizer_dir)
        self.tokenizer, rows, validation_rows = data.tokenizer, data.train_rows, data.validation_rows
        context, packing, pad_id = config.model.context_length, config.data.packing, self.tokenizer.eos_token_id
        targets = rows[:, 1:]
        if len(rows) and not bool(((targets != IGNORE_INDEX) & (targets > CONTEXT_ONLY)).any()):
            raise ValueError(f"no training row has a token to predict: with data.loss_on={config.data.loss_on} and "
                             f"data.packing={packing}, every trained token falls beyond model.context_length={context}")
        self.batches = Batches(rows, config.batch_size, config.seed, pad_id, bucketed=packing == "document")
        if not len(validation_rows):
            raise ValueError(f"the validation documents fill no row of {context + 1} tokens: add documents")
        self.validation = Batches(validation_rows, min(config.batch_size, len(validation_rows)), 0, pad_id)
        self.data_fingerprint = fingerprint(self.batches.rows)

        model_config = config.model.model_copy(update={"vocab_size": len(self.tokenizer)})
        self.model = GPT(model_config)
        if config.init_from is not None:  # a resumed run then loads its own checkpoint over these weights
            self.model.load_huggingface(config.init_from)
        self.optimizer = OPTIMIZERS.get(config.optimizer.name)(self.model, config.optimizer)
        self.scheduler = build_scheduler(self.optimizer, config.max_steps, config.schedule)

    def _prepare_output_dir(self, fresh: bool) -> None:
        self.output_dir.mkdir(parents=True, exist_ok=True)
        config_path = self.output_dir / "config.json"
        resolved = self.config.model_dump(mode="json")
        if fresh:
            for stale in ("config.json", "checkpoint.pt", "history.json"):
                (self.output_dir / stale).unlink(missing_ok=True)
            shutil.rmtree(self.output_dir / "tokenizer", ignore_errors=True)
        elif config_path.is_file():
            previous = json.loads(config_path.read_text())
            if previous != resolved:
                changed = sorted(k for k in set(previous) | set(resolved) if previous.get(k) != resolved.get(k))
                raise ValueError(
                    f"{self.output_dir} holds a run with a different config (changed: {', '.join(changed)}); "
                    "pass --fresh to start over or choose another --output"
                )
        config_path.write_text(json.dumps(resolved, indent=2))

    # ----- evaluation -----

    @torch.no_grad()
    def validation_loss(self) -> float:
        self.model.eval()
        total, count = 0.0, 0
        for x, y in self.validation.sequential_batches(self.config.eval_batches):
            _, loss = self.model(x, y)
            targets = int((y != IGNORE_INDEX).sum())
            total += loss.item() * targets
            count += targets
        self.model.train()
        return total / count

    @torch.no_grad()
    def greedy_sample(self) -> str:
        if not self.config.sample_tokens:
            return ""
        self.model.eval()
        ids = self.tokenizer(self.config.sample_prompt, return_tensors="pt")["input_ids"]
        prompt_length = ids.shape[1]
        for _ in range(self.config.sample_tokens):
            logits, _ = self.model(ids[:, -self.config.model.context_length :])
            next_id = logits[:, -1].argmax(dim=-1, keepdim=True)
            if next_id.item() == self.tokenizer.eos_token_id:
                break
            ids = torch.cat([ids, next_id], dim=1)
        self.model.train()
        return self.tokenizer.decode(ids[0, prompt_length:])

    # ----- checkpoints -----

    def save_checkpoint(self, result: TrainResult) -> None:
        state = {
            "config": self.config.model_dump(mode="json"),
            "data_fingerprint": self.data_fingerprint,
            "step": result.step,
            "tokens": result.tokens,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "torch_rng": torch.get_rng_state(),
            "train_losses": result.train_losses,
            "evaluations": result.evaluations,
            "train_seconds": result.train_seconds,
            "wall_seconds": result.wall_seconds,
        }
        tmp = self.checkpoint_path.with_suffix(".pt.tmp")
        torch.save(state, tmp)
        os.replace(tmp, self.checkpoint_path)  # atomic: a crash mid-write keeps the previous checkpoint

    def load_checkpoint(self, result: TrainResult) -> None:
        state = read_checkpoint(self.checkpoint_path)
        if state["data_fingerprint"] != self.data_fingerprint:
            raise ValueError(f"{self.checkpoint_path} was trained on other data; pass --fresh to start over")
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["torch_rng"])
        result.step = state["step"]
        result.tokens = state["tokens"]
        result.train_losses = state["train_losses"]
        result.evaluations = state["evaluations"]
        result.train_seconds = state["train_seconds"]
        result.wall_seconds = state["wall_seconds"]

    # ----- loop -----

    def _evaluate(self, result: TrainResult) -> None:
        recent = result.train_losses[-self.config.eval_every :]
        result.evaluations.append(
            {
                "step": result.step,
                "tokens": result.tokens,
                "train_loss": sum(recent) / len(recent),
                "val_loss": self.validation_loss(),
                "learning_rate": self.scheduler.get_last_lr()[0],
                "sample": self.greedy_sample(),
            }
        )

    def train(self, stop_at_step: Optional[int] = None, progress: bool = True, export: bool = True) -> TrainResult:
        """`export=False` skips the Hugging Face checkpoint and the loss plot (sweeps read only the history)."""
        self._lock.acquire()
        try:
            return self._train(stop_at_step, progress, export)
        finally:
            self._lock.release()

    def _train(self, stop_at_step: Optional[int], progress: bool, export: bool) -> TrainResult:
        config = self.config
        result = TrainResult(config, self.output_dir, completed=False, step=0, num_parameters=self.model.num_parameters())
        if self.checkpoint_path.is_file():
            self.load_checkpoint(result)
        last_step = min(config.max_steps, stop_at_step or config.max_steps)
        session_start = time.perf_counter()
        wall_at_start = result.wall_seconds
        self.model.train()
        bar = tqdm(
            total=config.max_steps, initial=result.step, desc=f"pretrain {config.run_name}", unit="step", disable=not progress
        )
        try:
            while result.step < last_step:
                step_start = time.perf_counter()
                x, y = self.batches.batch(result.step)
                _, loss = self.model(x, y)
                if not math.isfinite(loss.item()):
                    bar.close()
                    raise TrainingDiverged(result.step + 1, loss.item(), self.checkpoint_path)
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if config.optimizer.grad_clip:
                    torch.nn.utils.clip_grad_norm_(self.model.parameters(), config.optimizer.grad_clip)
                self.optimizer.step()
                self.scheduler.step()
                result.train_losses.append(loss.item())
                result.tokens += self.batches.input_tokens(result.step)
                result.step += 1
                result.train_seconds += time.perf_counter() - step_start
                if result.step % config.eval_every == 0 or result.step == config.max_steps:
                    self._evaluate(result)
                    bar.set_postfix(loss=f"{result.train_losses[-1]:.3f}", val=f"{result.final_val_loss:.3f}")
                result.wall_seconds = wall_at_start + time.perf_counter() - session_start
                if result.step % config.checkpoint_every == 0 or result.step == last_step:
                    self.save_checkpoint(result)
                bar.update(1)
        except KeyboardInterrupt:
            result.wall_seconds = wall_at_start + time.perf_counter() - session_start
            self.save_checkpoint(result)
            bar.close()
            raise KeyboardInterrupt(
                f"interrupted after step {result.step}; rerun the same command to resume from {self.checkpoint_path}"
            ) from None
        bar.close()
        result.completed = result.step >= config.max_steps
        (self.output_dir / "history.json").write_text(
            json.dumps({"train_losses": result.train_losses, "evaluations": result.evaluations}, indent=1)
        )
        if result.completed and export:
            self.model.eval()
            self.model.export_huggingface(result.huggingface_dir, eos_token_id=self.tokenizer.eos_token_id)
            save_tokenizer(self.tokenizer, result.huggingface_dir)
            plot_loss_curve(result, self.output_dir / "loss_curve.png")
        return result


def _checkpoint_folder(path: Path) -> Path:
    path = Path(path)
    if not (path / "config.json").is_file() or not (path / "tokenizer.json").is_file():
        raise ValueError(f"init_from {path}: not a Hugging Face checkpoint folder of this runner "
                         "(it needs config.json, tokenizer.json and the weights, as a finished run's huggingface/ has)")
    return path


def read_checkpoint(path: Path) -> dict:
    """A runner checkpoint's state; an unreadable or foreign file raises ValueError naming it and the way out."""
    try:
        state = torch.load(path, weights_only=False)
    except Exception as error:  # torch raises several types for a damaged zip or pickle
        raise ValueError(f"{path} is not a readable checkpoint ({type(error).__name__}: {error}); "
                         "pass --fresh to start over (discarding it), or restore the file") from None
    if not isinstance(state, dict) or "data_fingerprint" not in state:
        raise ValueError(f"{path} is not a checkpoint of this runner; pass --fresh to start over (discarding it)")
    return state


def plot_loss_curve(result: TrainResult, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 4))
    steps = range(1, len(result.train_losses) + 1)
    axis.plot(steps, result.train_losses, lw=0.6, alpha=0.6, label="train")
    axis.plot([e["step"] for e in result.evaluations], [e["val_loss"] for e in result.evaluations], "o-", label="validation")
    axis.set_xlabel(f"optimizer step ({result.tokens:,} training tokens in all)")
    axis.set_ylabel("cross-entropy (nats/token)")
    axis.set_title(result.config.run_name)
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
