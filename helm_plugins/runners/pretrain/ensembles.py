"""Ensembles of pretrained GPTs by logit averaging, their validation losses, and sampling from them.

An ensemble's next-token distribution is softmax(mean_k logits_k): the members' logits are averaged before the
softmax (not their probabilities). Members are read from runner checkpoints (`checkpoint.pt` + `tokenizer/` in a run
folder); they must share one tokenizer. Validation logits are computed once per member (batched, each member loaded
once), so any subset of the members is then scored without running a model again.
"""

import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, FrozenSet, List, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from helm_plugins.runners.pretrain.config import PretrainConfig
from helm_plugins.runners.pretrain.data import IGNORE_INDEX
from helm_plugins.runners.pretrain.model import GPT


def average_logits(logits: Sequence[torch.Tensor]) -> torch.Tensor:
    """The ensemble's logits: the mean of the members' logits (softmax of this is the ensemble's distribution)."""
    if not logits:
        raise ValueError("an ensemble needs at least one member")
    shapes = {tuple(t.shape) for t in logits}
    if len(shapes) > 1:
        raise ValueError(f"ensemble members give logits of different shapes {sorted(shapes)}: different vocabularies?")
    total = logits[0].clone()
    for member in logits[1:]:  # a running sum: no K-fold stacked copy
        total += member
    return total / len(logits)


def row_losses(logits: torch.Tensor, targets: torch.Tensor) -> Tuple[np.ndarray, np.ndarray]:
    """(summed cross-entropy, target count) per row; IGNORE_INDEX targets are skipped."""
    losses = F.cross_entropy(logits.reshape(-1, logits.size(-1)).float(), targets.reshape(-1), reduction="none",
                             ignore_index=IGNORE_INDEX).view(targets.shape)
    mask = targets != IGNORE_INDEX
    return (losses * mask).sum(dim=1).double().numpy(), mask.sum(dim=1).double().numpy()


@dataclass
class Member:
    folder: Path
    config: PretrainConfig
    model: GPT


def _vocabulary(folder: Path) -> Dict[str, int]:
    path = folder / "tokenizer" / "tokenizer.json"
    if not path.is_file():
        raise FileNotFoundError(f"ensemble member {folder}: no tokenizer at {path}")
    return json.loads(path.read_text())["model"]["vocab"]


def load_member(folder: Path) -> Member:
    """A trained model from a runner folder; a missing or corrupt checkpoint raises an error naming the file."""
    from helm_plugins.runners.pretrain.trainer import read_checkpoint

    folder = Path(folder)
    path = folder / "checkpoint.pt"
    if not path.is_file():
        raise FileNotFoundError(f"ensemble member {folder}: no checkpoint at {path} (train it first, or rerun the study)")
    state = read_checkpoint(path)
    config = PretrainConfig.model_validate(state["config"])
    vocab_size = len(_vocabulary(folder))
    model = GPT(config.model.model_copy(update={"vocab_size": vocab_size}))
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as error:
        raise ValueError(f"ensemble member {path}: its weights do not fit its config ({error})") from None
    if state["step"] < config.max_steps:
        raise ValueError(f"ensemble member {path} stopped at step {state['step']} of {config.max_steps}: finish its run first")
    model.eval()
    return Member(folder, config, model)


def check_same_tokenizer(folders: Sequence[Path]) -> None:
    """Members must share one vocabulary (token id -> string); otherwise their logits cannot be averaged."""
    reference = _vocabulary(Path(folders[0]))
    for folder in folders[1:]:
        vocabulary = _vocabulary(Path(folder))
        if vocabulary != reference:
            raise ValueError(
                f"ensemble members {folders[0]} and {folder} have different tokenizers "
                f"({len(reference)} vs {len(vocabulary)} tokens, {sum(vocabulary.get(t) != i for t, i in reference.items())} "
                "ids differ): members must be trained on the same data with the same tokenizer config"
            )


def load_members(folders: Sequence[Path]) -> List[Member]:
    check_same_tokenizer(folders)
    return [load_member(folder) for folder in folders]


@torch.no_grad()
def member_logits(members: Sequence[Member], rows: torch.Tensor, batch_size: int, pad_id: int) -> Tuple[List[torch.Tensor], torch.Tensor]:
    """Validation logits of every member on `rows` (each member runs over the batches once) and the targets."""
    inputs = rows[:, :-1].masked_fill(rows[:, :-1] == IGNORE_INDEX, pad_id)
    targets = rows[:, 1:]
    outputs = []
    for member in members:
        chunks = [member.model(inputs[i : i + batch_size])[0] for i in range(0, len(inputs), batch_size)]
        outputs.append(torch.cat(chunks))
    return outputs, targets


def subset_row_losses(logits: Sequence[torch.Tensor], targets: torch.Tensor) -> Dict[FrozenSet[int], Tuple[np.ndarray, np.ndarray]]:
    """Per-row (loss sum, token count) of the ensemble of every non-empty subset of the members."""
    out = {}
    for k in range(1, len(logits) + 1):
        for subset in itertools.combinations(range(len(logits)), k):
            out[frozenset(subset)] = row_losses(average_logits([logits[i] for i in subset]), targets)
    return out


def mean_loss(losses: Tuple[np.ndarray, np.ndarray], rows: np.ndarray = None) -> float:
    """Token-weighted mean loss (over `rows`, a resample of row indices, if given)."""
    total, count = losses
    if rows is not None:
        total, count = total[rows], count[rows]
    return float(total.sum() / count.sum())


def ensemble_curve(subsets: Dict[FrozenSet[int], Tuple[np.ndarray, np.ndarray]], members: Sequence[int], rows: np.ndarray = None) -> List[float]:
    """L(K) for K = 1..len(members): the mean loss over all K-subsets of the `members` positions.

    `members` may repeat an index (a bootstrap resample); a subset with repeats is scored as its distinct members."""
    curve = []
    for k in range(1, len(members) + 1):
        losses = [mean_loss(subsets[frozenset(members[i] for i in chosen)], rows) for chosen in itertools.combinations(range(len(members)), k)]
        curve.append(float(np.mean(losses)))
    return curve


@torch.no_grad()
def sample_rows(members: Sequence[Member], num_rows: int, width: int, bos_id: int, seed: int, temperature: float = 1.0,
                batch_size: int = 64) -> torch.Tensor:
    """`num_rows` rows of `width` tokens sampled from the ensemble at `temperature`, each starting at end-of-text.

    Sampling continues across document boundaries (an end-of-text token starts a new document), as packed real
    rows do."""
    if temperature <= 0:
        raise ValueError(f"sampling temperature must be > 0, got {temperature}")
    generator = torch.Generator().manual_seed(seed)
    context = min(m.config.model.context_length for m in members)
    out = []
    for start in range(0, num_rows, batch_size):
        ids = torch.full((min(batch_size, num_rows - start), 1), bos_id, dtype=torch.long)
        while ids.shape[1] < width:
            window = ids[:, -context:]
            logits = average_logits([m.model(window)[0][:, -1] for m in members])
            probabilities = torch.softmax(logits.float() / temperature, dim=-1)
            ids = torch.cat([ids, torch.multinomial(probabilities, 1, generator=generator)], dim=1)
        out.append(ids)
    return torch.cat(out)
