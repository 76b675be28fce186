"""The RL rollout benchmark: K sampled rollouts per problem over P problems for E steps, the policy updated
between steps (GRPO-style, on a verifiable reward) so its distribution drifts, every drafter timed on the same
policy of each step. A replay mode measures drafters on logged rollouts without the model.

Within a step the rollouts form one batch, decoded as a lockstep batch (`decoding: batch`): one prefill, then
batched passes that verify every unfinished rollout's draft, so the step's wall time is measured on the batch
and its makespan in passes is the most passes any rollout needed. `decoding: sequential` decodes the rollouts
one at a time instead (wall time = the sum over sequences), `both` does both (same tokens, two timings).

Rollout k of problem i at step e is seeded by (seed, e, i, k) and sampled position by position from that seed
(decoding.py), so every drafter and both decodings produce the same token sequences: drafters are compared on
the same work. Rollouts end at the model's end-of-text token or at `max_new_tokens`, as in RL, which gives the
long tail of lengths of RL rollouts (most end after the answer line, a few continue far longer); the reward
reads the first line. `stop: newline` ends them at the answer line instead.
"""

import hashlib
import json
import re
import statistics
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import torch
from tqdm.auto import tqdm

from helm_plugins.runners.speculative.budget import (
    Budget,
    CostModelBudget,
    LengthAwareBudget,
    UniformBudget,
    UnlimitedBudget,
)
from helm_plugins.runners.speculative.config import DrafterSpec, SpeculateConfig
from helm_plugins.runners.speculative.decoding import Rollout, SpeculativeDecoder, propose_draft
from helm_plugins.runners.speculative.drafters import Drafter, DraftRequest, NGramDrafter, NoDrafter, SuffixDrafter


@dataclass
class EpochMetrics:
    drafter: str
    epoch: int
    rollouts: int
    tokens: int
    passes: int
    drafted: int
    accepted: int
    makespan_passes: int
    drafter_seconds: float
    rollout_seconds: Optional[float]  # sum of per-sequence decoding times (sequential decoding), else None
    mean_reward: float
    batch_seconds: Optional[float] = None  # wall time of the lockstep batch (batch decoding), else None
    max_length: int = 0  # tokens of the longest rollout
    median_length: float = 0.0
    problem_tokens: Dict[str, int] = field(default_factory=dict)  # per problem: tokens of its rollouts
    problem_passes: Dict[str, int] = field(default_factory=dict)  # per problem: decoding passes of its rollouts
    seed: int = 0  # the RL run's seed

    @property
    def acceptance_rate(self) -> float:
        return self.accepted / self.drafted if self.drafted else 0.0

    @property
    def tokens_per_pass(self) -> float:
        return self.tokens / self.passes if self.passes else 0.0

    @property
    def passes_per_rollout(self) -> float:
        return self.passes / self.rollouts

    def as_dict(self) -> dict:
        return {
            **asdict(self),
            "acceptance_rate": self.acceptance_rate,
            "tokens_per_pass": self.tokens_per_pass,
            "passes_per_rollout": self.passes_per_rollout,
        }


DEFAULT_TOKEN_COST_RATIO = 0.05  # c_tok / c_base when neither configured nor fitted (replay)


def build_drafter(spec: DrafterSpec, config: SpeculateConfig) -> Tuple[Drafter, Budget]:
    if spec.kind == "none":
        drafter: Drafter = NoDrafter()
    elif spec.kind == "ngram":
        drafter = NGramDrafter(config.ngram_min, config.ngram_max)
    else:
        drafter = SuffixDrafter(
            spec.name,
            spec.scopes,
            max_depth=config.max_depth,
            min_probability=config.min_probability,
            window_epochs=config.window_epochs,
            rollouts_per_epoch=config.rollouts_per_problem,
            global_window=config.global_window,
        )
    budgets: Dict[str, Callable[[], Budget]] = {
        "none": lambda: UniformBudget(0),
        "uniform": lambda: UniformBudget(spec.budget_tokens),
        "unlimited": lambda: UnlimitedBudget(),
        "length_aware": lambda: LengthAwareBudget(window_epochs=config.window_epochs),
        "cost_model": lambda: CostModelBudget(
            window_epochs=config.window_epochs,
            token_cost_ratio=DEFAULT_TOKEN_COST_RATIO if config.token_cost_ratio is None else config.token_cost_ratio,
        ),
    }
    return drafter, budgets[spec.budget]()


def epoch_metrics(
    name: str,
    epoch: int,
    rollouts: Sequence[Rollout],
    rewards: Sequence[float],
    sequential_seconds: Optional[float] = None,
    batch_seconds: Optional[float] = None,
    seed: int = 0,
) -> EpochMetrics:
    lengths = sorted(len(r.tokens) for r in rollouts)
    problem_tokens: Dict[str, int] = {}
    problem_passes: Dict[str, int] = {}
    for r in rollouts:
        problem_tokens[str(r.problem_id)] = problem_tokens.get(str(r.problem_id), 0) + len(r.tokens)
        problem_passes[str(r.problem_id)] = problem_passes.get(str(r.problem_id), 0) + r.passes
    return EpochMetrics(
        drafter=name,
        epoch=epoch,
        rollouts=len(rollouts),
        tokens=sum(len(r.tokens) for r in rollouts),
        passes=sum(r.passes for r in rollouts),
        drafted=sum(r.drafted for r in rollouts),
        accepted=sum(r.accepted for r in rollouts),
        makespan_passes=max(r.passes for r in rollouts),
        drafter_seconds=sum(r.drafter_seconds for r in rollouts),
        rollout_seconds=sequential_seconds,
        mean_reward=sum(rewards) / len(rewards),
        batch_seconds=batch_seconds,
        max_length=lengths[-1],
        median_length=float(statistics.median(lengths)),
        problem_tokens=problem_tokens,
        problem_passes=problem_passes,
        seed=seed,
    )


def rollout_seed(seed: int, epoch: int, problem: int, sample: int) -> int:
    """The sampling seed of rollout `sample` of `problem` at RL step `epoch`: the same for every drafter."""
    return int(hashlib.sha256(f"{seed}:{epoch}:{problem}:{sample}".encode()).hexdigest()[:15], 16)


def final_number_reward(text: str, answer: int) -> float:
    """1 if the last number of the rollout's first line (its answer line) is the answer (the verifiable reward),
    else 0."""
    numbers = re.findall(r"-?\d+", text.split("\n")[0])
    return float(bool(numbers) and int(numbers[-1]) == answer)


def policy_update(model, rollouts: Sequence[Rollout], rewards: Sequence[float], optimizer, steps: int) -> float:
    """GRPO-style: advantages are rewards normalised within each problem's group; maximise the advantage-weighted
    mean log-likelihood of the rollouts. Returns the last loss."""
    by_problem: Dict[object, List[int]] = {}
    for index, rollout in enumerate(rollouts):
        by_problem.setdefault(rollout.problem_id, []).append(index)
    advantages = [0.0] * len(rollouts)
    for indices in by_problem.values():
        group = torch.tensor([rewards[i] for i in indices])
        if len(indices) > 1 and group.std() > 0:
            normalised = (group - group.mean()) / group.std()
            for i, value in zip(indices, normalised.tolist()):
                advantages[i] = value
    chosen = [(r, a) for r, a in zip(rollouts, advantages) if a != 0.0 and r.tokens]
    if not chosen or steps == 0:
        return 0.0
    model.train()
    loss_value = 0.0
    for _ in range(steps):
        optimizer.zero_grad(set_to_none=True)
        loss = torch.zeros(())
        for rollout, advantage in chosen:
            ids = torch.tensor([rollout.prompt + rollout.tokens])
            logprobs = torch.log_softmax(model(input_ids=ids).logits[0, :-1].float(), dim=-1)
            targets = ids[0, 1:]
            token_logprobs = logprobs.gather(1, targets[:, None])[:, 0][len(rollout.prompt) - 1 :]
            loss = loss - advantage * token_logprobs.mean() / len(chosen)
        loss.backward()
        optimizer.step()
        loss_value = float(loss.detach())
    model.eval()
    return loss_value


def run_rollout_benchmark(
    config: SpeculateConfig,
    model,
    prompts: Sequence[List[int]],
    answers: Sequence[int],
    decode_text: Callable[[List[int]], str],
    stop_tokens: Sequence[int],
    progress: bool = True,
    log_path: Optional[Path] = None,
    append_log: bool = False,
) -> List[EpochMetrics]:
    """One RL run (seeded `config.seed`). Every step: each drafter generates the P x K rollouts with the same
    policy and the same seeds; the policy is then updated on the baseline's rollouts. Every drafter's rollouts
    are logged (JSONL, appended to with `append_log`; replay reads the first drafter's)."""
    modes = ("batch", "sequential") if config.decoding == "both" else (config.decoding,)
    drafters = [(spec.name, {mode: build_drafter(spec, config) for mode in modes}) for spec in config.drafters]
    decoder = SpeculativeDecoder(model, config.temperature, config.max_new_tokens, stop_tokens)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.policy_lr)
    jobs = [(problem, k) for problem in range(len(prompts)) for k in range(config.rollouts_per_problem)]
    metrics: List[EpochMetrics] = []
    log = open(log_path, "a" if append_log else "w") if log_path else None
    bar = tqdm(total=config.epochs * len(drafters) * len(modes), desc="batches", unit="batch", disable=not progress)
    try:
        for epoch in range(config.epochs):
            baseline: List[Rollout] = []
            baseline_rewards: List[float] = []
            seeded = [(problem, prompts[problem], rollout_seed(config.seed, epoch, problem, k)) for problem, k in jobs]
            for name, instances in drafters:
                seconds: Dict[str, float] = {}
                rollouts: List[Rollout] = []
                for mode, (drafter, budget) in instances.items():
                    if mode == "batch":
                        result = decoder.generate_batch(seeded, drafter, budget)
                        decoded, seconds[mode] = result.rollouts, result.seconds
                    else:
                        decoded = [decoder.generate(problem, prompt, drafter, budget, seed) for problem, prompt, seed in seeded]
                        seconds[mode] = sum(r.seconds for r in decoded)
                    drafter.finish_epoch([(r.problem_id, r.tokens) for r in decoded])
                    budget.finish_epoch()
                    rollouts = rollouts or decoded
                    bar.update(1)
                rewards = [final_number_reward(decode_text(r.tokens), answers[r.problem_id]) for r in rollouts]
                metrics.append(
                    epoch_metrics(name, epoch, rollouts, rewards, seconds.get("sequential"), seconds.get("batch"), config.seed)
                )
                if not baseline:
                    baseline, baseline_rewards = rollouts, rewards
                if log:
                    for (problem, k), rollout, reward in zip(jobs, rollouts, rewards):
                        log.write(json.dumps({"drafter": name, "seed": config.seed, "epoch": epoch, "problem_id": rollout.problem_id, "sample": k,
                                              "prompt": rollout.prompt, "tokens": rollout.tokens, "reward": reward}) + "\n")
                bar.set_postfix({name: f"{metrics[-1].tokens_per_pass:.2f} tok/pass"})
            policy_update(model, baseline, baseline_rewards, optimizer, config.policy_steps)
    finally:
        bar.close()
        if log:
            log.close()
    return metrics


def replay(config: SpeculateConfig, records: Iterable[dict]) -> List[EpochMetrics]:
    """Drafters on logged rollouts, verified by exact match (as DAS's offline simulator does): each step emits
    the accepted draft prefix plus the logged next token. Counts passes; no model, no wall time. For greedy
    rollouts it reproduces the model run's counts, except where the context length would have cut a draft.
    Each logged RL run (its seed; `config.seed` for logs without one) is replayed with fresh drafters."""
    by_run: Dict[int, Dict[int, List[dict]]] = {}
    records = list(records)
    logged_by = records[0].get("drafter") if records else None  # every drafter logs the same rollouts
    for record in records:
        if record.get("drafter") == logged_by:
            by_run.setdefault(record.get("seed", config.seed), {}).setdefault(record["epoch"], []).append(record)
    if not by_run:
        raise ValueError("no logged rollouts to replay")
    metrics = []
    for seed, by_epoch in sorted(by_run.items()):
        metrics += _replay_run(config, seed, by_epoch)
    return metrics


def _replay_run(config: SpeculateConfig, seed: int, by_epoch: Dict[int, List[dict]]) -> List[EpochMetrics]:
    metrics = []
    for spec in config.drafters:
        drafter, budget = build_drafter(spec, config)
        for epoch in sorted(by_epoch):
            rollouts = []
            for record in by_epoch[epoch]:
                rollout = Rollout(record["problem_id"], record["prompt"])
                request = DraftRequest(record["problem_id"], list(record["prompt"]))
                drafter.start(request)
                target = record["tokens"]
                while len(rollout.tokens) < len(target):
                    start = time.perf_counter()
                    draft = propose_draft(
                        drafter, budget, request, config.max_new_tokens - len(rollout.tokens) - 1, rollout.passes
                    )
                    rollout.drafter_seconds += time.perf_counter() - start
                    position = len(rollout.tokens)
                    accepted = 0
                    while accepted < len(draft) and position + accepted < len(target) and draft[accepted] == target[position + accepted]:
                        accepted += 1
                    emitted = target[position : position + accepted + 1]
                    rollout.passes += 1
                    rollout.drafted += len(draft)
                    rollout.accepted += accepted
                    rollout.tokens.extend(emitted)
                    drafter.accept(request, emitted)
                budget.observe(record["problem_id"], len(rollout.tokens), rollout.passes, rollout.drafted)
                rollouts.append(rollout)
            drafter.finish_epoch([(r.problem_id, r.tokens) for r in rollouts])
            budget.finish_epoch()
            metrics.append(epoch_metrics(spec.name, epoch, rollouts, [r["reward"] for r in by_epoch[epoch]], seed=seed))
    return metrics
