"""The pretraining config: one pydantic model, presets as YAML files, `key.sub=value` overrides.

Unknown keys are rejected with the path of the key; the resolved config is saved next to every checkpoint.
"""

from pathlib import Path
from typing import Any, Dict, Iterable, Optional

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from helm_plugins.runners.pretrain.data import DataConfig
from helm_plugins.runners.pretrain.model import GPTConfig
from helm_plugins.runners.pretrain.optimizers import OptimizerConfig, ScheduleConfig
from helm_plugins.runners.pretrain.tokenizer import TokenizerConfig

PRESETS_DIR = Path(__file__).parent / "presets"


class PretrainConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    run_name: str = Field("pretrain", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", description="names outputs and run")
    seed: int = Field(0, description="seeds data, initialisation and batch order")
    data: DataConfig = Field(default_factory=DataConfig)
    tokenizer: TokenizerConfig = Field(default_factory=TokenizerConfig)
    model: GPTConfig = Field(default_factory=GPTConfig)
    optimizer: OptimizerConfig = Field(default_factory=OptimizerConfig)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    batch_size: int = Field(32, gt=0, description="sequences per optimizer step")
    max_steps: int = Field(1000, gt=0, description="optimizer steps; the schedule ends here")
    eval_every: int = Field(100, gt=0, description="steps between validation-loss evaluations")
    eval_batches: int = Field(20, gt=0, description="validation batches per evaluation")
    checkpoint_every: int = Field(200, gt=0, description="steps between checkpoints")
    sample_prompt: str = Field("Once upon a time,", description="greedily continued at each evaluation")
    sample_tokens: int = Field(40, ge=0, description="tokens of that continuation")
    threads: Optional[int] = Field(None, gt=0, description="torch threads; None keeps torch's default")

    @property
    def tokens_per_step(self) -> int:
        return self.batch_size * self.model.context_length


def _set_path(tree: Dict[str, Any], dotted_key: str, value: Any) -> None:
    *parents, leaf = dotted_key.split(".")
    for key in parents:
        node = tree.setdefault(key, {})
        if not isinstance(node, dict):
            raise ValueError(f"override {dotted_key!r}: {key!r} is not a section")
        tree = node
    tree[leaf] = value


def parse_overrides(overrides: Iterable[str]) -> Dict[str, Any]:
    """`["model.n_layer=4", "optimizer.betas=[0.9, 0.99]"]` -> nested dict; values are read as YAML."""
    tree: Dict[str, Any] = {}
    for override in overrides:
        key, sep, raw = override.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"override {override!r} is not of the form key=value (e.g. model.n_layer=4)")
        _set_path(tree, key.strip(), yaml.safe_load(raw))
    return tree


def _merge(base: Dict[str, Any], update: Dict[str, Any]) -> Dict[str, Any]:
    merged = dict(base)
    for key, value in update.items():
        merged[key] = _merge(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict) else value
    return merged


def preset_names() -> list:
    return sorted(p.stem for p in PRESETS_DIR.glob("*.yaml"))


def load_config(preset: Optional[str] = None, config_file: Optional[Path] = None, overrides: Iterable[str] = ()) -> PretrainConfig:
    """Preset (by name) or config file, then overrides; raises ValueError naming the bad key."""
    tree: Dict[str, Any] = {}
    for source in ([PRESETS_DIR / f"{preset}.yaml"] if preset else []) + ([Path(config_file)] if config_file else []):
        if not source.is_file():
            raise ValueError(f"no config file {source} (presets: {', '.join(preset_names())})")
        tree = _merge(tree, yaml.safe_load(source.read_text()) or {})
    tree = _merge(tree, parse_overrides(overrides))
    try:
        return PretrainConfig.model_validate(tree)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise ValueError(f"invalid pretraining config: {problems}") from None
