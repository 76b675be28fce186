"""The pretraining config: one pydantic model, presets as YAML files, `key.sub=value` overrides.

Unknown keys are rejected with the path of the key; the resolved config is saved next to every checkpoint.
"""

from pathlib import Path
from typing import Iterable, List, Optional

from pydantic import BaseModel, ConfigDict, Field

from helm_plugins.common import configs
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
    init_from: Optional[Path] = Field(
        None, description="a Hugging Face checkpoint folder this runner exported: its tokenizer and weights start the "
        "run (a second training stage); the optimizer and schedule start afresh; None starts from random weights")

    @property
    def tokens_per_step(self) -> int:
        return self.batch_size * self.model.context_length


def preset_names() -> List[str]:
    return configs.preset_names(PRESETS_DIR)


def load_config(preset: Optional[str] = None, config_file: Optional[Path] = None, overrides: Iterable[str] = ()) -> PretrainConfig:
    """Preset (by name) or config file, then overrides; raises ValueError naming the bad key."""
    return configs.load_yaml_config(PretrainConfig, PRESETS_DIR, preset, config_file, overrides)
