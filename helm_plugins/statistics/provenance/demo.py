"""CPU demonstration of the provenance tests on models trained here (the paper's effect at small scale).

All models start from the embedded tiny-default and are trained on synthetic stories:
- Alice: the transcript's examples in a recorded random order (constant learning rate, one pass);
- Bob: Alice fine-tuned on new stories (H0 false: derived from Alice's run);
- Carol: the same examples in another order (H0 true);
- reference: a third order (same data, independent run: it cancels how hard each example is).
The query test is run for each suspect with and without the reference, on growing numbers of queried
examples; the reshuffle test retrains the last `last_phase` of Alice's run K times on reshuffled orders and
ranks Alice's real model by the likelihood of texts sampled from each suspect.
"""

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field
from tqdm.auto import tqdm

from helm_plugins.statistics.provenance.hypothesis_tests import (
    QueryTestResult,
    ngram_index,
    partition_test,
    query_test,
    reshuffle_test,
)
from helm_plugins.statistics.provenance.report import plot_p_values
from helm_plugins.statistics.provenance.transcript import TranscriptExample, write_losses, write_transcript


class ProvenanceDemoConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    examples: int = Field(2000, ge=20, description="transcript examples (Alice's training stories)")
    new_examples: int = Field(200, gt=0, description="Bob's fine-tuning stories (not in the transcript)")
    batch_size: int = Field(8, gt=0)
    lr: float = Field(1e-3, gt=0, description="AdamW learning rate of Alice, Carol and the reference")
    fine_tune_lr: float = Field(5e-5, gt=0, description="Bob's fine-tuning learning rate (a light fine-tune)")
    query_sizes: List[int] = Field(default_factory=lambda: [100, 200, 500, 1000, 2000])
    permutations: int = Field(999, ge=0, description="permutations of the query test's Monte-Carlo null")
    reshuffles: int = Field(9, gt=0, description="K: retrainings of Alice's last phase on reshuffled orders")
    last_phase: float = Field(0.1, gt=0, lt=1, description="share of Alice's run retrained for the reshuffle test")
    generations: int = Field(100, gt=0, description="texts sampled from each suspect for the reshuffle test")
    prompt_tokens: int = Field(12, gt=0)
    generation_tokens: int = Field(32, gt=0)
    max_tokens: int = Field(128, gt=8, description="stories are cut to this many tokens")
    seed: int = 0
    threads: Optional[int] = Field(None, gt=0)


@dataclass
class DemoResult:
    query: Dict[str, List[QueryTestResult]] = field(default_factory=dict)  # "bob+reference" -> one per size
    reshuffle: Dict[str, dict] = field(default_factory=dict)  # suspect -> reshuffle test
    partition: Dict[str, dict] = field(default_factory=dict)  # suspect -> n-gram observational test
    losses: Dict[str, Dict[str, float]] = field(default_factory=dict)


def _batch(docs: Sequence[List[int]], pad_id: int):
    width = max(map(len, docs))
    inputs = torch.full((len(docs), width), pad_id)
    mask = torch.zeros(len(docs), width, dtype=torch.long)
    for row, doc in enumerate(docs):
        inputs[row, : len(doc)] = torch.tensor(doc)
        mask[row, : len(doc)] = 1
    return inputs, mask


def train(model, optimizer, docs: Sequence[List[int]], order: Sequence[int], batch_size: int, pad_id: int, desc=None):
    """One pass over `docs` in `order`, `batch_size` documents per step."""
    model.train()
    for start in tqdm(range(0, len(order), batch_size), desc=desc, leave=False, disable=desc is None):
        inputs, mask = _batch([docs[i] for i in order[start : start + batch_size]], pad_id)
        labels = inputs.masked_fill(mask == 0, -100)
        loss = model(input_ids=inputs, attention_mask=mask, labels=labels).loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    model.eval()


@torch.no_grad()
def token_logprobs(model, docs: Sequence[List[int]], pad_id: int, batch: int = 64) -> List[np.ndarray]:
    """Log-probability of every token after the first, per document."""
    out = []
    for start in range(0, len(docs), batch):
        chunk = docs[start : start + batch]
        inputs, mask = _batch(chunk, pad_id)
        logits = model(input_ids=inputs, attention_mask=mask).logits[:, :-1].float()
        logprobs = torch.log_softmax(logits, dim=-1).gather(2, inputs[:, 1:, None])[..., 0]
        out += [logprobs[row, : len(doc) - 1].numpy() for row, doc in enumerate(chunk)]
    return out


def mean_losses(model, docs, pad_id) -> np.ndarray:
    return np.array([-values.mean() for values in token_logprobs(model, docs, pad_id)])


@torch.no_grad()
def sample_texts(model, prompts: Sequence[List[int]], tokens: int, seed: int, pad_id: int) -> List[List[int]]:
    torch.manual_seed(seed)
    texts = []
    for prompt in prompts:
        output = model.generate(
            torch.tensor([prompt]), attention_mask=torch.ones(1, len(prompt), dtype=torch.long), do_sample=True,
            temperature=1.0, top_k=0, max_new_tokens=tokens, min_new_tokens=tokens, pad_token_id=pad_id,
        )
        texts.append(output[0].tolist())
    return texts


def completion_score(model, texts: Sequence[List[int]], prompt_tokens: int, pad_id: int) -> float:
    """Total log-likelihood of the sampled tokens (prompts excluded)."""
    return float(sum(values[prompt_tokens - 1 :].sum() for values in token_logprobs(model, texts, pad_id)))


def run_demo(config: ProvenanceDemoConfig, output_dir: Path, progress: bool = True) -> DemoResult:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from helm_plugins.models.registration import TINY_DEFAULT_DIR
    from helm_plugins.synthetic.stories import generate_stories

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    if config.threads:
        torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    tokenizer = AutoTokenizer.from_pretrained(TINY_DEFAULT_DIR, local_files_only=True)
    pad_id = tokenizer.eos_token_id

    def base():
        return AutoModelForCausalLM.from_pretrained(TINY_DEFAULT_DIR, local_files_only=True)

    def encode(texts):
        return [tokenizer.encode(text + "\n")[: config.max_tokens] for text in texts]

    texts = generate_stories(config.examples, f"provenance-alice:{config.seed}")
    docs = encode(texts)
    new_docs = encode(generate_stories(config.new_examples, f"provenance-bob:{config.seed}"))
    prompts = [d[: config.prompt_tokens] for d in encode(generate_stories(config.generations, f"provenance-prompts:{config.seed}"))]
    rng = np.random.default_rng(config.seed)
    orders = {name: rng.permutation(len(docs)) for name in ("alice", "carol", "reference")}
    positions = np.empty(len(docs))
    positions[orders["alice"]] = np.arange(len(docs)) // config.batch_size  # the training step of each example
    transcript = [TranscriptExample(f"story{i}", text, float(p)) for i, (text, p) in enumerate(zip(texts, positions))]
    write_transcript(output_dir / "transcript.jsonl", transcript)

    def adamw(model):
        return torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=0.0)

    steps = -(-len(docs) // config.batch_size)
    split = (steps - max(1, round(config.last_phase * steps))) * config.batch_size  # examples before the last phase
    bar = (lambda name: name) if progress else (lambda name: None)
    alice = base()
    alice_optimizer = adamw(alice)
    train(alice, alice_optimizer, docs, orders["alice"][:split], config.batch_size, pad_id, bar("alice"))
    checkpoint = (copy.deepcopy(alice.state_dict()), copy.deepcopy(alice_optimizer.state_dict()))
    train(alice, alice_optimizer, docs, orders["alice"][split:], config.batch_size, pad_id, bar("alice, last phase"))
    models = {"alice": alice}
    for name in ("carol", "reference"):
        models[name] = base()
        train(models[name], adamw(models[name]), docs, orders[name], config.batch_size, pad_id, bar(name))
    models["bob"] = copy.deepcopy(alice)
    bob_optimizer = torch.optim.AdamW(models["bob"].parameters(), lr=config.fine_tune_lr, weight_decay=0.0)
    train(models["bob"], bob_optimizer, new_docs, rng.permutation(len(new_docs)), config.batch_size, pad_id, bar("bob"))

    result = DemoResult()
    for name, model in models.items():
        result.losses[name] = dict(zip((e.id for e in transcript), mean_losses(model, docs, pad_id).tolist()))
        write_losses(output_dir / f"losses_{name}.jsonl", result.losses[name])
    query_order = rng.permutation(len(docs))  # queried examples: a random subset of growing size
    sizes = sorted({min(size, len(docs)) for size in config.query_sizes})
    for suspect in ("alice", "bob", "carol"):
        loss = np.array(list(result.losses[suspect].values()))
        reference = np.array(list(result.losses["reference"].values()))
        for use_reference in (True, False):
            key = f"{suspect}+reference" if use_reference else suspect
            result.query[key] = [
                query_test(
                    positions[query_order[:n]], loss[query_order[:n]],
                    reference[query_order[:n]] if use_reference else None, config.permutations, config.seed,
                )
                for n in sizes
            ]

    # reshuffle test: mu_0 = Alice, mu_1..mu_K = her last phase retrained on reshuffled orders
    last = orders["alice"][split:]
    reshuffled = []
    for k in tqdm(range(config.reshuffles), desc="reshuffles", leave=False, disable=not progress):
        model = base()
        model.load_state_dict(checkpoint[0])
        optimizer = adamw(model)
        optimizer.load_state_dict(checkpoint[1])
        train(model, optimizer, docs, np.random.default_rng([config.seed, k]).permutation(last), config.batch_size, pad_id)
        reshuffled.append(model)
    index = ngram_index(docs)
    for suspect in ("alice", "bob", "carol"):
        samples = sample_texts(models[suspect], prompts, config.generation_tokens, config.seed, pad_id)
        scores = [completion_score(m, samples, config.prompt_tokens, pad_id) for m in [alice] + reshuffled]
        result.reshuffle[suspect] = {**reshuffle_test(scores).as_dict(), "scores": scores}
        generated = [sample[config.prompt_tokens :] for sample in samples]
        bins = min(20, len(docs))
        result.partition[suspect] = partition_test(
            positions, docs, generated, bins=bins, permutations=config.permutations or 99, seed=config.seed, index=index
        ).as_dict()
    summary = {
        "config": config.model_dump(),
        "query": {key: [r.as_dict() for r in results] for key, results in result.query.items()},
        "reshuffle": result.reshuffle,
        "partition": result.partition,
    }
    (output_dir / "results.json").write_text(json.dumps(summary, indent=1))
    plot_p_values(result.query, output_dir / "provenance.png", "Query test: suspects trained from tiny-default on stories")
    return result


