"""Performance ratios of helm_plugins against its baselines, measured in one run on this machine.

    python benchmarks/foundation.py --output benchmarks/foundation.md     (make bench: into BENCHMARKS.md)

1. Plugin overhead: helm-run wall time of a plugin scenario over HELM's built-in equivalent, same client
   (simple/model1), same adaptation (multiple-choice joint, zero-shot, one output), same number of instances.
2. Start-up: helm-run wall time with the plugin's entry point loaded over the same run with it hidden.
3. Training throughput: the pretraining runner's tokens/s over a bare torch loop (forward, backward, AdamW
   step) on the same GPT and batch shape.
Each timing is the median of interleaved repetitions, so drifts in machine load hit both sides alike.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ratios import RatioTable, emit

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
WITHOUT_ENTRY_POINT = (
    "import sys, helm.benchmark.run as run\n"
    "run.load_entry_point_plugins = lambda group='helm': []\n"
    "sys.argv = ['helm-run'] + sys.argv[1:]\n"
    "run.main()\n"
)


def timed(args, cwd) -> float:
    start = time.perf_counter()
    completed = subprocess.run([str(a) for a in args], cwd=cwd, env=ENV, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if completed.returncode != 0:
        raise RuntimeError(f"{args} failed:\n{(completed.stdout + completed.stderr)[-3000:]}")
    return elapsed


def interleaved(commands: dict, repetitions: int, cwd) -> dict:
    times = {name: [] for name in commands}
    for _ in range(repetitions):
        for name, args in commands.items():
            times[name].append(timed(args, cwd))
    return {name: statistics.median(values) for name, values in times.items()}


def helm_run(*entries, suite):
    return [BIN / "helm-run", "--run-entries", *entries, "--suite", suite, "-m", "1000", "--disable-cache", "-n", "1"]


def bench_plugin_overhead(repetitions: int, work: Path) -> dict:
    commands = {
        "plugin": helm_run("hp_synthetic_fact_world:num_instances=79,model=simple/model1", suite="plugin"),
        "builtin": helm_run("simple_mcqa:model=simple/model1,max_train_instances=0,num_outputs=1", suite="builtin"),
    }
    medians = interleaved(commands, repetitions, work)
    return {"ours": medians["plugin"], "baseline": medians["builtin"]}


def bench_startup(repetitions: int, work: Path) -> dict:
    args = ["--run-entries", "simple1:model=simple/model1", "--suite", "startup", "-m", "10", "--disable-cache"]
    commands = {
        "with": [BIN / "helm-run", *args],
        "without": [sys.executable, "-c", WITHOUT_ENTRY_POINT, *args],
    }
    medians = interleaved(commands, repetitions, work)
    return {"ours": medians["with"], "baseline": medians["without"]}


def bench_training_throughput(repetitions: int, work: Path) -> dict:
    import torch

    from helm_plugins.runners.pretrain.config import load_config
    from helm_plugins.runners.pretrain.model import GPT
    from helm_plugins.runners.pretrain.trainer import Trainer

    steps, warmup = 40, 5
    overrides = [  # full windows, so both sides process batch_size x context_length positions per step
        f"max_steps={steps}", "eval_every=100000", "checkpoint_every=100000", "data.num_documents=20000",
        "data.packing=concatenate",
    ]
    config = load_config("tiny-default", overrides=overrides)

    def runner_tokens_per_second(i: int) -> float:
        trainer = Trainer(config, work / f"runner{i}", fresh=True)
        warm = trainer.train(stop_at_step=warmup, progress=False)  # the same warm-up steps as the bare loop
        warm_seconds = warm.train_seconds
        done = trainer.train(progress=False)
        return (steps - warmup) * config.tokens_per_step / (done.train_seconds - warm_seconds)

    def bare_tokens_per_second(vocab_size: int) -> float:
        torch.manual_seed(0)
        model = GPT(config.model.model_copy(update={"vocab_size": vocab_size}))
        optimizer = torch.optim.AdamW(model.parameters(), lr=config.optimizer.lr)
        x = torch.randint(0, vocab_size, (config.batch_size, config.model.context_length))
        y = torch.randint(0, vocab_size, (config.batch_size, config.model.context_length))
        for step in range(steps):
            if step == warmup:
                start = time.perf_counter()
            _, loss = model(x, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss.item()
        return (steps - warmup) * config.tokens_per_step / (time.perf_counter() - start)

    ours, baseline = [], []
    for i in range(repetitions):
        ours.append(runner_tokens_per_second(i))
        baseline.append(bare_tokens_per_second(config.tokenizer.vocab_size))
    return {"ours": statistics.median(ours), "baseline": statistics.median(baseline)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--output", type=Path, help="write the markdown section here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        overhead = bench_plugin_overhead(args.repetitions, work)
        startup = bench_startup(args.repetitions, work)
        throughput = bench_training_throughput(max(1, args.repetitions // 2), work)
    table = RatioTable()
    table.row("Plugin overhead: helm-run wall time, plugin scenario / HELM built-in (simple/model1, 79 MC instances)",
              overhead["ours"], overhead["baseline"], "s", "<= 1.05", lambda r: r <= 1.05)
    table.row("Start-up: helm-run wall time with the plugin / without (simple1, 10 instances)",
              startup["ours"], startup["baseline"], "s", "<= 1.10", lambda r: r <= 1.10)
    table.row("Training throughput: runner / bare torch loop (tiny-default GPT, batch 64 x 256)",
              throughput["ours"], throughput["baseline"], "tokens/s", ">= 0.90", lambda r: r >= 0.90)
    emit("HELM integration and training throughput",
         f"python benchmarks/foundation.py --repetitions {args.repetitions} --output benchmarks/foundation.md",
         [*table.lines, "", "What each measures is described at the top of `benchmarks/foundation.py`."],
         args.output, preamble=f"Medians of interleaved repetitions on {os.cpu_count()} CPUs. Produced by:")
    return 0


if __name__ == "__main__":
    sys.exit(main())
