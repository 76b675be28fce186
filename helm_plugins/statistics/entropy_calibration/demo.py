"""Entropy calibration of a local Hugging Face model (the embedded tiny-default by default) on held-out documents
of the synthetic corpus: per-step generation entropy H_t (exact, from the logits, over the model's own samples)
against per-step log loss L_t on the human continuations, at several temperatures; plus the Zipf theory check.
"""

import json
from pathlib import Path
from typing import List, Optional

import torch
from pydantic import BaseModel, ConfigDict, Field
from tqdm.auto import tqdm

from helm_plugins.statistics.entropy_calibration.measures import entropy_calibration_error, singleton_mass_exponent
from helm_plugins.statistics.entropy_calibration.plots import save_curves


class EntropyCalibrationDemoConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str = Field("tiny-default", description="'tiny-default' or a Hugging Face checkpoint folder")
    mixture: dict = Field(default_factory=lambda: {"stories": 0.5, "biography": 0.5}, description="held-out document kinds")
    documents: int = Field(200, gt=1)
    prompt_tokens: int = Field(16, gt=0)
    steps: int = Field(48, gt=1, description="T: generated tokens and human continuation tokens compared")
    temperatures: List[float] = Field(default_factory=lambda: [1.0, 0.9, 0.8])
    zipf_alphas: List[float] = Field(default_factory=lambda: [1.1, 1.5])
    packed: bool = Field(False, description="documents joined by the end-of-text token, as in training, so that a "
                         "continuation may run across documents (needed when steps exceed a document's length)")
    seed: int = 0
    threads: Optional[int] = Field(None, gt=0)


@torch.no_grad()
def measure_model(model, prompts: torch.Tensor, continuations: torch.Tensor, temperature: float, seed: int):
    """(entropies, log losses), each documents x steps, at `temperature`."""
    torch.manual_seed(seed)
    steps = continuations.shape[1]
    output = model.generate(
        prompts, attention_mask=torch.ones_like(prompts), do_sample=True, temperature=temperature, top_k=0, top_p=1.0,
        max_new_tokens=steps, min_new_tokens=steps, output_logits=True, return_dict_in_generate=True,
        pad_token_id=model.config.eos_token_id,
    )
    logits = torch.stack(output.logits, dim=1).float() / temperature  # raw logits of each generated step
    logp = torch.log_softmax(logits, dim=-1)
    entropies = -(logp.exp() * logp).sum(-1)
    full = torch.cat([prompts, continuations], dim=1)
    human_logits = model(input_ids=full).logits[:, prompts.shape[1] - 1 : -1].float() / temperature
    log_losses = -torch.log_softmax(human_logits, dim=-1).gather(2, continuations[..., None])[..., 0]
    return entropies.numpy(), log_losses.numpy()


def load_checkpoint(name: str):
    """(model, tokenizer) of 'tiny-default' or a Hugging Face checkpoint folder."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from helm_plugins.models.registration import TINY_DEFAULT_DIR

    path = TINY_DEFAULT_DIR if name == "tiny-default" else Path(name)
    if not Path(path).is_dir():
        raise FileNotFoundError(f"model {name!r}: no checkpoint folder {path}")
    model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True).eval()
    return model, AutoTokenizer.from_pretrained(path, local_files_only=True)


def held_out_tokens(tokenizer, config: EntropyCalibrationDemoConfig, stream: str = "validation"):
    """(prompts, continuations): documents x (1 + prompt_tokens) and documents x steps token ids of held-out
    documents; prompts start with the end-of-text token, as in training and in HELM's language-modelling requests.
    With `config.packed`, each row starts at a document and its continuation runs on through the following
    documents, joined by the end-of-text token as in the training stream; rows never share a token."""
    from helm_plugins.synthetic.corpus import generate_documents

    needed = config.prompt_tokens + config.steps
    eos = tokenizer.eos_token_id
    if config.packed:
        count = config.documents * (needed // 40 + 2)
        stream_ids = [[*tokenizer.encode(d), eos] for d in generate_documents(config.mixture, count, config.seed, stream=stream)]
        encoded, row = [], []
        for ids in stream_ids:
            row += ids
            if len(row) >= needed:
                encoded.append(row)
                row = []
        encoded = encoded[: config.documents]
    else:
        documents = generate_documents(config.mixture, config.documents * 4, config.seed, stream=stream)
        encoded = [ids for ids in (tokenizer.encode(d) for d in documents) if len(ids) >= needed][: config.documents]
    if len(encoded) < 2:
        raise ValueError(f"fewer than 2 held-out documents have {needed} tokens: lower prompt_tokens or steps"
                         + ("" if config.packed else ", or set packed=true"))
    tokens = torch.tensor([ids[:needed] for ids in encoded])
    prompts, continuations = tokens[:, : config.prompt_tokens], tokens[:, config.prompt_tokens :]
    return torch.cat([torch.full((len(prompts), 1), eos), prompts], dim=1), continuations


def run_demo(config: EntropyCalibrationDemoConfig, output_dir: Path, progress: bool = True) -> dict:
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    if config.threads:
        torch.set_num_threads(config.threads)
    model, tokenizer = load_checkpoint(config.model)
    prompts, continuations = held_out_tokens(tokenizer, config)
    results = {}
    for temperature in tqdm(config.temperatures, desc="temperatures", disable=not progress):
        entropies, log_losses = measure_model(model, prompts, continuations, temperature, config.seed)
        results[str(temperature)] = entropy_calibration_error(entropies, log_losses).as_dict()
    zipf = {str(a): {"fitted": singleton_mass_exponent(a, seed=config.seed), "theory": 1 / a - 1} for a in config.zipf_alphas}
    report = {"model": config.model, "documents": len(prompts), "by_temperature": results, "zipf_singleton_exponent": zipf}
    (output_dir / "results.json").write_text(json.dumps(report, indent=1))
    save_curves({f"tau {t}": r for t, r in results.items()}, output_dir / "entropy_calibration.png",
                f"Entropy calibration of {config.model}")
    return report
