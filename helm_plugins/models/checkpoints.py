"""Checking a local checkpoint before serving it: a broken one fails at once, naming the file.

Without this check, a truncated `model.safetensors` fails inside HELM's request retries (minutes of waiting, an
error naming neither the file nor the corruption), and NaN or garbled weights come back as sampling errors.
`validate_checkpoint` reads the safetensors header (safetensors' own parser: a cut-short or garbled file fails
here), compares every tensor's shape with the model that config.json describes (built on the meta device, so
no memory is used), and checks that every floating-point weight is finite (one tensor in memory at a time).
"""

from pathlib import Path
from typing import Dict, List, Tuple

SAFETENSORS = "model.safetensors"
PYTORCH_BIN = "pytorch_model.bin"


class CheckpointError(ValueError):
    """A checkpoint that cannot be served: unreadable, inconsistent with its config, or with non-finite weights."""

    def __init__(self, path: Path, problem: str):
        super().__init__(f"{path}: {problem}; replace the checkpoint (rebuild it, or copy it again)")
        self.path = path


def _expected_shapes(checkpoint_dir: Path) -> Tuple[Dict[str, Tuple[int, ...]], Dict[str, List[str]]]:
    """Parameter shapes of the model config.json describes, and for each parameter the names it is tied to."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    config_path = checkpoint_dir / "config.json"
    try:
        config = AutoConfig.from_pretrained(checkpoint_dir, local_files_only=True)
    except (OSError, ValueError) as error:
        raise CheckpointError(config_path, f"unreadable model config ({error})") from None
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
    names_of: Dict[int, List[str]] = {}
    shapes: Dict[str, Tuple[int, ...]] = {}
    for name, parameter in model.named_parameters(remove_duplicate=False):
        names_of.setdefault(id(parameter), []).append(name)
        shapes[name] = tuple(parameter.shape)
    tied = {name: names for names in names_of.values() for name in names}
    return shapes, tied


def _read_safetensors(path: Path):
    """(name, tensor) of every tensor, read one at a time; a bad header or a cut-short file raises CheckpointError."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="pt") as file:
            for name in file.keys():
                yield name, file.get_tensor(name)
    except SafetensorError as error:
        raise CheckpointError(path, f"corrupt safetensors file ({error})") from None


def _read_pytorch_bin(path: Path):
    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises several types for a damaged pickle/zip
        raise CheckpointError(path, f"corrupt PyTorch weights file ({type(error).__name__}: {error})") from None
    yield from state.items()


def _all_finite(tensor) -> bool:
    """numpy's single-threaded check (torch's is many times slower on a busy machine); bfloat16 via float32."""
    import numpy as np
    import torch

    if tensor.dtype not in (torch.float16, torch.float32, torch.float64):
        tensor = tensor.float()
    return bool(np.isfinite(tensor.numpy()).all())


def validate_checkpoint(checkpoint_dir: Path) -> None:
    """Raise CheckpointError (naming the file) unless the weights in `checkpoint_dir` can be served."""
    import torch

    checkpoint_dir = Path(checkpoint_dir)
    path = checkpoint_dir / SAFETENSORS
    tensors = _read_safetensors(path) if path.is_file() else _read_pytorch_bin(checkpoint_dir / PYTORCH_BIN)
    if not path.is_file():
        path = checkpoint_dir / PYTORCH_BIN
    shapes, tied = _expected_shapes(checkpoint_dir)
    found = set()
    for name, tensor in tensors:
        key = name if name in shapes else next((k for k in shapes if k.endswith("." + name)), name)  # prefix-less names
        if key in shapes and tuple(tensor.shape) != shapes[key]:
            raise CheckpointError(path, f"tensor {name!r} has shape {tuple(tensor.shape)}, the config gives {shapes[key]}")
        if tensor.is_floating_point() and not _all_finite(tensor):
            bad = int((~torch.isfinite(tensor)).sum())
            raise CheckpointError(path, f"tensor {name!r} has {bad} non-finite value(s) (NaN or infinity) of {tensor.numel()}")
        found.add(key)
    missing = sorted(name for name in shapes if not found.intersection(tied[name]))
    if missing:
        raise CheckpointError(path, f"{len(missing)} weight(s) of the model are missing, e.g. {missing[:3]}")
