"""Cost of the reliability checks on this machine, as ratios measured in one run.

    python benchmarks/reliability.py --output benchmarks/reliability.md

1. Checkpoint validation (header, shapes against config.json, finite weights) of the embedded model against
   loading the same checkpoint with transformers (what the client does next anyway).
2. Audio cache hits: verifying a cached WAV's stored content hash against only checking that the file is there.
Imports are warmed up first; each timing is the median of repeated runs.
"""

import argparse
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np


def median_seconds(function, repetitions: int) -> float:
    times = []
    for _ in range(repetitions):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()

    from transformers import AutoModelForCausalLM

    from helm_plugins.audio.synthesis import SAMPLE_RATE, Synthesizer, write_wav
    from helm_plugins.models.checkpoints import validate_checkpoint
    from helm_plugins.models.registration import TINY_DEFAULT_DIR

    load = lambda: AutoModelForCausalLM.from_pretrained(TINY_DEFAULT_DIR, local_files_only=True)  # noqa: E731
    validate = lambda: validate_checkpoint(TINY_DEFAULT_DIR)  # noqa: E731
    load(), validate()  # warm up imports and file caches
    load_s, validate_s = median_seconds(load, args.repetitions), median_seconds(validate, args.repetitions)

    with tempfile.TemporaryDirectory() as folder:
        clean = Path(folder) / "clean.wav"
        write_wav(clean, 0.3 * np.sin(2 * np.pi * 220 * np.arange(4 * SAMPLE_RATE) / SAMPLE_RATE))  # 4 s of audio
        synthesizer = Synthesizer(Path(folder) / "cache")
        noisy = synthesizer.add_noise(clean, snr_db=10, seed=0)
        hit_s = median_seconds(lambda: synthesizer.add_noise(clean, snr_db=10, seed=0), 20 * args.repetitions)
        exists_s = median_seconds(lambda: noisy.is_file() and noisy.stat().st_size > 0, 20 * args.repetitions)

    lines = [
        f"Machine: {platform.machine()}, Python {platform.python_version()}; medians of {args.repetitions} runs.",
        "",
        "| check | time | compared with | its time | ratio |",
        "|---|---|---|---|---|",
        f"| validate tiny-default checkpoint | {validate_s * 1e3:.1f} ms | loading it with transformers | "
        f"{load_s * 1e3:.1f} ms | {validate_s / load_s:.2f} |",
        f"| audio cache hit, hash verified (4 s WAV, with the recipe hash) | {hit_s * 1e6:.0f} us | file-exists check | "
        f"{exists_s * 1e6:.0f} us | {hit_s / exists_s:.1f} |",
    ]
    print("\n".join(lines))
    if args.output:
        args.output.write_text("## Reliability checks: cost\n\n" + __doc__.split("\n\n", 1)[1] + "\n" + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
