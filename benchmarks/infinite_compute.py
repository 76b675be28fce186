"""Ensemble evaluation cost of the infinite-compute study, measured in one run on this machine.

    python benchmarks/infinite_compute.py --output benchmarks/infinite_compute.md     (make bench: into BENCHMARKS.md)

Validation loss of a K-member logit-averaged ensemble (each member's logits computed once over the batches, then
averaged before the softmax) over K single-model validation losses on the same rows, for K = 2, 4, 8 members of
the tiny-default GPT shape (4 x 128, vocab 1024; random weights: the cost does not depend on them). Target: <= 1.1.
Timings are medians of interleaved repetitions, so drifts in machine load hit both sides alike.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

from ratios import RatioTable, emit


def bench(repetitions: int) -> list:
    import torch
    import torch.nn.functional as F

    from helm_plugins.runners.pretrain.ensembles import Member, average_logits, member_logits, row_losses
    from helm_plugins.runners.pretrain.model import GPT, GPTConfig

    torch.set_num_threads(1)
    torch.manual_seed(0)
    config = GPTConfig(vocab_size=1024, context_length=128, n_layer=4, n_head=4, n_embd=128)
    models = [GPT(config).eval() for _ in range(8)]
    rows = torch.randint(0, 1024, (64, 129))
    rows_out = []
    for k in (2, 4, 8):
        members = [Member(Path("."), None, model) for model in models[:k]]
        single, ensemble = [], []
        for _ in range(repetitions):
            start = time.perf_counter()
            with torch.no_grad():
                for member in members:
                    logits, _ = member.model(rows[:, :-1])
                    F.cross_entropy(logits.reshape(-1, 1024), rows[:, 1:].reshape(-1))
            single.append(time.perf_counter() - start)
            start = time.perf_counter()
            logits, targets = member_logits(members, rows, batch_size=64, pad_id=0)
            row_losses(average_logits(logits), targets)
            ensemble.append(time.perf_counter() - start)
        rows_out.append((k, statistics.median(ensemble), statistics.median(single)))
    return rows_out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    table = RatioTable()
    for k, ours, baseline in bench(args.repetitions):
        table.row(f"{k}-member ensemble loss / {k} single-model losses (64 x 128 tokens)", ours * 1000, baseline * 1000,
                  "ms", "<= 1.1", lambda r: r <= 1.1)
    emit("Infinite compute: ensemble evaluation (helm-plugins infinite-compute)",
         f"python benchmarks/infinite_compute.py --repetitions {args.repetitions} --output benchmarks/infinite_compute.md",
         table.lines, args.output, preamble="Medians of interleaved repetitions. Produced by:")
    return 0


if __name__ == "__main__":
    sys.exit(main())
