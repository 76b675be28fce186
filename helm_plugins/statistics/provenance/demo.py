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
from helm_plugins.statistics.provenance.transcript import (
    TranscriptExample,
    write_checkpoint_manifest,
    write_losses,
    write_transcript,
)


class ProvenanceDemoConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    examples: int = Field(2000, ge=20, description="transcript examples (Alice's training stories)")
    new_examples: int = Field(1000, gt=0, description="Bob's fine-tuning stories (not in the transcript)")
    batch_size: int = Field(8, gt=0)
    lr: float = Field(1e-3, gt=0, description="AdamW learning rate of Alice, Carol and the reference")
    fine_tune_lr: float = Field(1e-4, gt=0, description="Bob's fine-tuning learning rate")
    fine_tune_epochs: int = Field(1, gt=0, description="Bob's passes over his new stories")
    query_sizes: List[int] = Field(default_factory=lambda: [100, 200, 500, 1000, 2000])
    permutations: int = Field(999, ge=0, description="permutations of the query test's Monte-Carlo null")
    reshuffles: int = Field(9, gt=0, description="K: retrainings of Alice's last phase on reshuffled orders")
    last_phase: float = Field(0.1, gt=0, lt=1, description="share of Alice's run retrained for the reshuffle test")
    generations: int = Field(100, gt=0, description="texts sampled from each suspect for the reshuffle test")
    prompt_tokens: int = Field(12, gt=0)
    generation_tokens: int = Field(32, gt=0)
    max_tokens: int = Field(128, gt=8, description="stories are cut to this many tokens")
    base_width: Optional[int] = Field(None, gt=0, description="None: start from tiny-default; else from a fresh "
                                      "2-layer GPT-2 of this width (small, for multi-seed checks)")
    save_checkpoints: bool = Field(False, description="save every model and the reshuffle manifest (for helm-run)")
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


@dataclass
class TrainedSuspects:
    """Alice's data and run, and the models trained from it (one seed of the demo)."""

    tokenizer: object
    docs: List[List[int]]
    transcript: List[TranscriptExample]
    positions: np.ndarray  # training step of each example in Alice's run
    models: Dict[str, object]  # alice, carol, reference, bob
    checkpoint: tuple  # Alice's (model, optimizer) state before her last phase
    last_phase: np.ndarray  # the examples of that phase, in Alice's order
    prompts: List[List[int]]
    rng: np.random.Generator


def train_suspects(config: "ProvenanceDemoConfig", seed: int, progress: bool = False) -> TrainedSuspects:
    """Alice trained on her stories in a recorded order, Carol and the reference on the same stories in other
    orders, and Bob fine-tuned from Alice on new stories, all from the embedded tiny-default."""
    from transformers import AutoTokenizer

    from helm_plugins.models.registration import TINY_DEFAULT_DIR
    from helm_plugins.synthetic.stories import generate_stories

    torch.manual_seed(seed)
    tokenizer = AutoTokenizer.from_pretrained(TINY_DEFAULT_DIR, local_files_only=True)
    pad_id = tokenizer.eos_token_id

    def base():
        return base_model(config)

    def encode(texts):
        return [tokenizer.encode(text + "\n")[: config.max_tokens] for text in texts]

    texts = generate_stories(config.examples, f"provenance-alice:{seed}")
    docs = encode(texts)
    new_docs = encode(generate_stories(config.new_examples, f"provenance-bob:{seed}"))
    prompts = [d[: config.prompt_tokens] for d in encode(generate_stories(config.generations, f"provenance-prompts:{seed}"))]
    rng = np.random.default_rng(seed)
    orders = {name: rng.permutation(len(docs)) for name in ("alice", "carol", "reference")}
    positions = np.empty(len(docs))
    positions[orders["alice"]] = np.arange(len(docs)) // config.batch_size  # the training step of each example
    transcript = [TranscriptExample(f"story{i}", text, float(p)) for i, (text, p) in enumerate(zip(texts, positions))]

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
    for epoch in range(config.fine_tune_epochs):
        train(models["bob"], bob_optimizer, new_docs, rng.permutation(len(new_docs)), config.batch_size, pad_id,
              bar(f"bob, epoch {epoch + 1}"))
    return TrainedSuspects(tokenizer, docs, transcript, positions, models, checkpoint, orders["alice"][split:], prompts, rng)


def base_model(config: "ProvenanceDemoConfig"):
    """The model every run starts from: tiny-default, or a freshly initialised GPT-2 of `base_width` (2 layers,
    tiny-default's vocabulary and context; seeded by the caller's torch seed)."""
    from transformers import AutoModelForCausalLM, GPT2Config, GPT2LMHeadModel

    from helm_plugins.models.registration import TINY_DEFAULT_DIR

    if config.base_width is None:
        return AutoModelForCausalLM.from_pretrained(TINY_DEFAULT_DIR, local_files_only=True)
    default = GPT2Config.from_pretrained(TINY_DEFAULT_DIR, local_files_only=True)
    return GPT2LMHeadModel(GPT2Config(
        vocab_size=default.vocab_size, n_positions=default.n_positions, n_embd=config.base_width, n_layer=2,
        n_head=max(1, config.base_width // 32), bos_token_id=default.bos_token_id, eos_token_id=default.eos_token_id))


def run_demo(config: ProvenanceDemoConfig, output_dir: Path, progress: bool = True) -> DemoResult:
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    if config.threads:
        torch.set_num_threads(config.threads)
    trained = train_suspects(config, config.seed, progress)
    docs, transcript, positions, models, rng = trained.docs, trained.transcript, trained.positions, trained.models, trained.rng
    alice, pad_id, prompts = models["alice"], trained.tokenizer.eos_token_id, trained.prompts
    write_transcript(output_dir / "transcript.jsonl", transcript)

    def adamw(model):
        return torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=0.0)

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
    last, checkpoint = trained.last_phase, trained.checkpoint
    reshuffled = []
    for k in tqdm(range(config.reshuffles), desc="reshuffles", leave=False, disable=not progress):
        model = base_model(config)
        model.load_state_dict(checkpoint[0])
        optimizer = adamw(model)
        optimizer.load_state_dict(checkpoint[1])
        train(model, optimizer, docs, np.random.default_rng([config.seed, k]).permutation(last), config.batch_size, pad_id)
        reshuffled.append(model)
    if config.save_checkpoints:
        save_checkpoints(output_dir, trained.tokenizer, models, reshuffled)
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


def save_checkpoints(output_dir: Path, tokenizer, models: Dict[str, object], reshuffled: Sequence[object]) -> None:
    """Every model as a Hugging Face checkpoint under output_dir/models/, and reshuffles.jsonl, the manifest of
    the reshuffle test (Alice's real run and her reshuffled retrainings) that `hp_provenance_reshuffle` reads."""
    folders = {}
    for name, model in [*models.items(), *((f"reshuffle{k}", m) for k, m in enumerate(reshuffled))]:
        folders[name] = output_dir / "models" / name
        model.save_pretrained(folders[name])
        tokenizer.save_pretrained(folders[name])
    write_checkpoint_manifest(output_dir / "reshuffles.jsonl", folders["alice"],
                              [folders[f"reshuffle{k}"] for k in range(len(reshuffled))])


def seed_study(config: ProvenanceDemoConfig, seeds: Sequence[int], alpha: float = 0.05, progress: bool = False) -> dict:
    """The query test with the reference over several seeds (new stories, orders and fine-tune each time): how
    often Bob (derived) is detected at level alpha, and Carol's (independent) false-positive rate, each with its
    exact (Clopper-Pearson) 95% interval over the seeds."""
    from scipy import stats

    p_values: Dict[str, List[float]] = {"alice": [], "bob": [], "carol": []}
    for seed in tqdm(seeds, desc="seeds", disable=not progress):
        trained = train_suspects(config, seed)
        pad_id = trained.tokenizer.eos_token_id
        reference = mean_losses(trained.models["reference"], trained.docs, pad_id)
        for suspect in p_values:
            loss = mean_losses(trained.models[suspect], trained.docs, pad_id)
            result = query_test(trained.positions, loss, reference, config.permutations, seed)
            p_values[suspect].append(result.permutation_p if result.permutation_p is not None else result.p_value)
    rates = {}
    for suspect, values in p_values.items():
        hits = int(sum(p <= alpha for p in values))
        interval = stats.binomtest(hits, len(values)).proportion_ci(0.95, method="exact")
        rates[suspect] = {"rejected": hits, "seeds": len(values), "rate": hits / len(values),
                          "ci_low": float(interval.low), "ci_high": float(interval.high), "p_values": values}
    return {"alpha": alpha, "examples": config.examples, "rates": rates}
