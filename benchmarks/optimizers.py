"""Performance ratios of the pretraining optimizers and the sweep layer, measured in one run on this machine.

    python benchmarks/optimizers.py --output benchmarks/optimizers.md     (make bench: into BENCHMARKS.md)

1. Optimizer step: one `optimizer.step()` of fp32 Muon, Soap and torch.optim.Muon (bfloat16 Newton-Schulz, hidden
   matrices only, as it refuses other shapes) over one AdamW step, on the tiny-default GPT (4 x 128, vocab 1024)
   with the same gradients; and a whole training step (forward, backward, update) of the runner with Muon over
   one with AdamW (as tokens/s of AdamW over tokens/s of Muon).
2. Runner throughput: training tokens/s of the runner with AdamW written as an update rule of the composite
   optimizer (the path every new optimizer takes) over torch.optim.AdamW (the registered `adamw`).
3. Sweep throughput: runs per hour of 6 short runs with 2 worker processes (1 thread each) over 1 process
   (2 threads), both reading the shared tokenized-data cache; and 1 process with the cache over 1 without it
   (each run tokenizes its corpus itself).
Timings are medians of interleaved repetitions, so drifts in machine load hit both sides alike.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from ratios import RatioTable, emit


def bench_steps(repetitions: int) -> dict:
    import torch

    from helm_plugins.runners.pretrain.model import GPT, GPTConfig
    from helm_plugins.runners.pretrain.optimizers import OPTIMIZERS, OptimizerConfig
    from helm_plugins.runners.pretrain.rules import route_parameters

    torch.set_num_threads(2)
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=1024, context_length=256, n_layer=4, n_head=4, n_embd=128))
    x = torch.randint(0, 1024, (16, 129))
    _, loss = model(x[:, :-1], x[:, 1:])
    loss.backward()
    gradients = {p: p.grad.clone() for p in model.parameters()}
    optimizers = {name: OPTIMIZERS.get(name)(model, OptimizerConfig(name=name, lr=1e-9)) for name in ("adamw", "muon", "soap")}
    hidden = [r.parameter for r in route_parameters(model) if r.kind == "matrix"]
    optimizers["torch.optim.Muon (bf16)"] = torch.optim.Muon(hidden, lr=1e-9)
    times = {name: [] for name in optimizers}
    for _ in range(repetitions):
        for name, optimizer in optimizers.items():
            for parameter, gradient in gradients.items():
                parameter.grad = gradient.clone()
            optimizer.step()  # warm: allocates state
            steps = 1 if name.startswith("torch") else 5  # bfloat16 matmuls are slow on CPUs
            start = time.perf_counter()
            for _ in range(steps):
                optimizer.step()
            times[name].append((time.perf_counter() - start) / steps)
    return {name: statistics.median(values) for name, values in times.items()}


def bench_runner(repetitions: int, work: Path) -> dict:
    from helm_plugins.runners.pretrain.config import load_config
    from helm_plugins.runners.pretrain.optimizers import OPTIMIZERS
    from helm_plugins.runners.pretrain.trainer import Trainer

    if "adamw_rule" not in OPTIMIZERS:
        OPTIMIZERS.register("adamw_rule", "helm_plugins.runners.pretrain.rules:build_adamw_rule")
    overrides = ["max_steps=30", "eval_every=100000", "checkpoint_every=100000", "data.num_documents=20000",
                 "data.packing=concatenate", "sample_tokens=0", "threads=2"]
    cache = work / "cache"
    speeds = {"adamw_rule": [], "adamw": [], "muon": []}
    for i in range(repetitions):
        for name in speeds:
            config = load_config("tiny-default", overrides=overrides + [f"optimizer.name={name}"])
            trainer = Trainer(config, work / f"runner-{name}-{i}", fresh=True, data_cache=cache)
            warm = trainer.train(stop_at_step=5, progress=False, export=False)
            done = trainer.train(progress=False, export=False)
            speeds[name].append(25 * config.tokens_per_step / (done.train_seconds - warm.train_seconds))
    return {name: statistics.median(values) for name, values in speeds.items()}


def bench_sweep(work: Path) -> dict:
    from helm_plugins.runners.pretrain.config import load_config
    from helm_plugins.runners.pretrain.sweeps import SweepExecutor, apply_point

    base = load_config("demo", overrides=["model.context_length=64", "model.n_layer=1", "model.n_embd=32", "batch_size=16",
                                          "max_steps=150", "eval_every=50", "eval_batches=4", "sample_tokens=0"])
    points = [apply_point(base, {"optimizer.lr": 0.002 * 2**i}) for i in range(6)]
    setups = {
        "2 workers x 1 thread, shared cache": dict(workers=2, threads_per_worker=1, share_data=True),
        "1 worker x 2 threads, shared cache": dict(workers=1, threads_per_worker=2, share_data=True),
        "1 worker x 2 threads, no cache": dict(workers=1, threads_per_worker=2, share_data=False),
    }
    runs_per_hour = {}
    for i, (name, options) in enumerate(setups.items()):
        start = time.perf_counter()
        with SweepExecutor(work / f"sweep{i}", progress=False, **options) as executor:
            executor.run(points)
        runs_per_hour[name] = len(points) * 3600 / (time.perf_counter() - start)
    return runs_per_hour


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--output", type=Path, help="write the markdown section here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        steps = bench_steps(args.repetitions)
        runner = bench_runner(max(1, args.repetitions // 2), work)
        sweep = bench_sweep(work)
    adamw = steps["adamw"]
    table = RatioTable()
    table.row("Muon (fp32) step / AdamW step (tiny-default GPT)", steps["muon"] * 1e3, adamw * 1e3, "ms", "<= 1.3",
              lambda r: r <= 1.3)
    table.row("Soap step / AdamW step (preconditioners every 10 steps)", steps["soap"] * 1e3, adamw * 1e3, "ms",
              "report")
    table.row("torch.optim.Muon (bf16, hidden matrices only) step / our fp32 Muon step",
              steps["torch.optim.Muon (bf16)"] * 1e3, steps["muon"] * 1e3, "ms", "report")
    table.row("Training step (forward, backward, update; runner, batch 64 x 256): AdamW tokens/s / Muon tokens/s",
              runner["adamw"], runner["muon"], "tokens/s", "<= 1.3", lambda r: r <= 1.3)
    table.row("Runner tokens/s: AdamW as a composite-optimizer rule / torch.optim.AdamW", runner["adamw_rule"],
              runner["adamw"], "tokens/s", ">= 0.97", lambda r: r >= 0.97)
    names = list(sweep)
    table.row(f"Sweep runs/hour: {names[0]} / {names[1]}", sweep[names[0]], sweep[names[1]], "runs/h", ">= 1.0",
              lambda r: r >= 1.0)
    table.row(f"Sweep runs/hour: {names[1]} / {names[2]}", sweep[names[1]], sweep[names[2]], "runs/h", ">= 1.0",
              lambda r: r >= 1.0)
    emit("Pretraining optimizers and sweeps (helm-plugins optimizers)",
         f"python benchmarks/optimizers.py --repetitions {args.repetitions} --output benchmarks/optimizers.md",
         [*table.lines, "", "What each measures is described at the top of `benchmarks/optimizers.py`."],
         args.output, preamble=f"Medians of interleaved repetitions on {os.cpu_count()} CPUs. Produced by:")
    return 0


if __name__ == "__main__":
    sys.exit(main())
