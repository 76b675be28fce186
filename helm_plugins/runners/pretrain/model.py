"""A GPT-2-architecture decoder in plain torch, exportable to a Hugging Face GPT2LMHeadModel checkpoint.

Same blocks as GPT-2 (learned positions, pre-LayerNorm, tanh-GELU MLP, tied embeddings), so the exported
checkpoint loads with `AutoModelForCausalLM` and gives the same logits. Training uses torch's fused
scaled-dot-product attention, which is faster on CPU than the Hugging Face module.
"""

import math
from pathlib import Path
from typing import Dict, Optional, Tuple

import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field, model_validator
from torch import nn


def _is_conv1d_weight(name: str) -> bool:
    """Whether GPT2LMHeadModel stores this weight in a Conv1D layer, i.e. as the transpose of our nn.Linear's."""
    return name.endswith(("c_attn.weight", "c_proj.weight", "c_fc.weight"))


class GPTConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    vocab_size: int = Field(1024, gt=0, description="set from the tokenizer when training")
    context_length: int = Field(256, gt=0, description="longest sequence (GPT-2's n_positions)")
    n_layer: int = Field(4, gt=0, description="transformer blocks")
    n_head: int = Field(4, gt=0, description="attention heads per block")
    n_embd: int = Field(128, gt=0, description="width; must be divisible by n_head")
    dropout: float = Field(0.0, ge=0.0, lt=1.0, description="residual, embedding and attention dropout")

    @model_validator(mode="after")
    def _heads_divide_width(self) -> "GPTConfig":
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd ({self.n_embd}) must be divisible by n_head ({self.n_head})")
        return self


class CausalSelfAttention(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.n_head = config.n_head
        self.dropout = config.dropout
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd)
        self.resid_dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, time, width = x.shape
        q, k, v = self.c_attn(x).split(width, dim=2)
        q, k, v = (t.view(batch, time, self.n_head, width // self.n_head).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=self.dropout if self.training else 0.0)
        y = y.transpose(1, 2).contiguous().view(batch, time, width)
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd)
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.c_proj(F.gelu(self.c_fc(x), approximate="tanh")))


class Block(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, eps=1e-5)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, eps=1e-5)
        self.mlp = MLP(config)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.wpe = nn.Embedding(config.context_length, config.n_embd)
        self.drop = nn.Dropout(config.dropout)
        self.h = nn.ModuleList([Block(config) for _ in range(config.n_layer)])
        self.ln_f = nn.LayerNorm(config.n_embd, eps=1e-5)
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight  # tied, as in GPT-2
        self.apply(self._init_weights)
        for name, parameter in self.named_parameters():
            if name.endswith("c_proj.weight"):  # GPT-2's scaled init of residual projections
                nn.init.normal_(parameter, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def forward(
        self, idx: torch.Tensor, targets: Optional[torch.Tensor] = None
    ) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        time = idx.shape[1]
        if time > self.config.context_length:
            raise ValueError(f"sequence of {time} tokens exceeds context_length {self.config.context_length}")
        positions = torch.arange(time, device=idx.device)
        x = self.drop(self.wte(idx) + self.wpe(positions))
        for block in self.h:
            x = block(x)
        logits = self.lm_head(self.ln_f(x))
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1))
        return logits, loss

    # ----- Hugging Face export -----

    def huggingface_state_dict(self) -> Dict[str, torch.Tensor]:
        """GPT2LMHeadModel's state dict: its Conv1D layers store the transpose of nn.Linear weights."""
        state = {}
        for name, tensor in self.state_dict().items():
            if name == "lm_head.weight":
                continue  # tied to wte
            state[f"transformer.{name}"] = tensor.t().contiguous() if _is_conv1d_weight(name) else tensor.clone()
        return state

    def export_huggingface(self, directory: Path, eos_token_id: int) -> None:
        from transformers import GenerationConfig, GPT2Config, GPT2LMHeadModel

        config = self.config
        hf_config = GPT2Config(
            vocab_size=config.vocab_size,
            n_positions=config.context_length,
            n_embd=config.n_embd,
            n_layer=config.n_layer,
            n_head=config.n_head,
            activation_function="gelu_new",
            resid_pdrop=0.0,
            embd_pdrop=0.0,
            attn_pdrop=0.0,
            layer_norm_epsilon=1e-5,
            bos_token_id=eos_token_id,
            eos_token_id=eos_token_id,
            pad_token_id=eos_token_id,
            tie_word_embeddings=True,
        )
        hf_model = GPT2LMHeadModel(hf_config)
        missing, unexpected = hf_model.load_state_dict(self.huggingface_state_dict(), strict=False)
        assert not unexpected and all(name == "lm_head.weight" for name in missing), (missing, unexpected)
        hf_model.tie_weights()
        hf_model.generation_config = GenerationConfig(
            bos_token_id=eos_token_id, eos_token_id=eos_token_id, pad_token_id=eos_token_id
        )
        hf_model.save_pretrained(directory)

    def load_huggingface(self, directory: Path) -> None:
        """Load the weights of a checkpoint `export_huggingface` wrote (the inverse of `huggingface_state_dict`);
        a checkpoint of another shape raises ValueError naming the folder and the differing sizes."""
        from transformers import GPT2LMHeadModel

        directory = Path(directory)
        if not (directory / "config.json").is_file():
            raise ValueError(f"{directory} is not a Hugging Face checkpoint folder (no config.json)")
        hf_model = GPT2LMHeadModel.from_pretrained(str(directory), local_files_only=True)
        hf = hf_model.config
        theirs = {"vocab_size": hf.vocab_size, "context_length": hf.n_positions, "n_layer": hf.n_layer,
                  "n_head": hf.n_head, "n_embd": hf.n_embd}
        ours = {key: getattr(self.config, key) for key in theirs}
        if theirs != ours:
            differing = ", ".join(f"{key} {theirs[key]} there, {ours[key]} here" for key in theirs if theirs[key] != ours[key])
            raise ValueError(f"{directory} holds a model of another shape ({differing})")
        state = hf_model.state_dict()
        converted = {}
        for name, tensor in state.items():
            if not name.startswith("transformer.") or name.endswith((".attn.bias", ".attn.masked_bias")):
                continue  # lm_head is tied to wte; the causal-mask buffers of older transformers are not weights
            local = name[len("transformer."):]
            converted[local] = tensor.t().contiguous() if _is_conv1d_weight(local) else tensor.clone()
        missing, unexpected = self.load_state_dict(converted, strict=False)
        if unexpected or any(name != "lm_head.weight" for name in missing):
            raise ValueError(f"{directory}: weights do not match this model (missing {missing}, unexpected {unexpected})")
