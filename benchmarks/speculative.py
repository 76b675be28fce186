"""Speculative decoding of RL rollouts: DAS against its baselines, and the drafter's cost as its window grows.

    python benchmarks/speculative.py --output benchmarks/speculative.md     (make bench: into BENCHMARKS.md)

1. `helm-plugins speculate --preset benchmark` (fields overridable with --set): 32 arithmetic problems x 8
   rollouts x 5 RL steps at temperature 1, three RL runs (seeds), the embedded model as policy (updated
   GRPO-style between steps), every drafter on the same rollouts of each step, decoded as a lockstep batch
   (measured) and one at a time; headline intervals over seeds.
2. Proposal time of the suffix tree (max_depth 32) per drafted token, for windows of 10k to 1M stored tokens
   of rollout text, on the same query contexts.
3. With --arctic-python (a Python that imports arctic-inference, see scripts/build_arctic_suffix_tree.sh):
   proposal time, build time and memory per stored token of our tree (the compiled one when the package's
   install built it, else pure Python; --pure-python forces that) against Arctic Inference's C++ suffix tree
   on the same stored sequences and contexts, run in that Python.
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import List, Sequence

import numpy as np
from ratios import emit

REPO = Path(__file__).resolve().parents[1]


def _interval(stats: dict, name: str) -> str:
    if f"{name}_ci_low" not in stats:
        return f"{stats[name]:.2f}"
    return f"{stats[name]:.2f} [{stats[name + '_ci_low']:.2f}, {stats[name + '_ci_high']:.2f}]"


def rollout_benchmark(work: Path, overrides: Sequence[str] = ()) -> List[str]:
    from helm_plugins.runners.speculative.config import load_speculate_config
    from helm_plugins.runners.speculative.runner import run_speculation

    config = load_speculate_config("benchmark", None, list(overrides))
    summaries = {s.name: s for s in run_speculation(config, work / "speculate", progress=True)}
    stats = {name: summary.stats() for name, summary in summaries.items()}
    last = config.epochs - 1
    seeds = config.run_seeds
    over = (f"over {len(seeds)} seeds (RL runs {seeds}: each drafter on the same rollouts within a seed)" if len(seeds) > 1
            else "over problems (tokens per pass) and RL steps (speedups), one seed")
    lines = [
        f"{config.problems} problems x {config.rollouts_per_problem} rollouts x {config.epochs} RL steps at temperature "
        f"{config.temperature}, rollouts up to {config.max_new_tokens} tokens ending at the model's end of text; every "
        "drafter decodes the same rollouts (seeded per position). Lockstep batch decoding, one batch per RL step; "
        f"95% t intervals {over}; the rollout time cut is 1 - 1 / batch speedup:",
        "",
        f"| drafter | budget | tokens/pass | tokens/pass, step {last + 1} | acceptance | makespan (passes) | "
        "batch wall time (s) | measured batch speedup | rollout time cut |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for spec in config.drafters:
        s = stats[spec.name]
        lines.append(
            f"| {spec.name} | {spec.budget} | {_interval(s, 'tokens_per_pass')} | {s['final_tokens_per_pass']:.2f} | "
            f"{s['acceptance_rate']:.2f} | {s['makespan_passes']:.1f} | {s.get('batch_seconds', float('nan')):.1f} | "
            f"{_interval(s, 'batch_speedup') if 'batch_speedup' in s else '-'} | "
            f"{_interval(s, 'rollout_time_cut') if 'rollout_time_cut' in s else '-'} |"
        )
    lengths = [length for summary in summaries.values() for length in (e.max_length for e in summary.epochs)]
    lines += [
        "",
        f"Rollout lengths: median {stats['none']['median_length']:.0f} tokens, longest {max(lengths)} (of "
        f"{config.max_new_tokens} allowed).",
    ]
    if all("rollout_seconds" in s for s in stats.values()):
        lines += [
            "",
            "The same rollouts decoded one sequence at a time (per-sequence wall time, summed):",
            "",
            "| drafter | wall time (s) | wall speedup | passes per rollout |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {name} | {s['rollout_seconds']:.1f} | {s['speedup_vs_no_speculation']:.2f} | {s['passes_per_rollout']:.1f} |"
            for name, s in stats.items()
        ]
    das, ngram, suffix = stats["das"], stats["ngram"], stats["suffix-global"]
    third = float(np.mean([e.tokens_per_pass for e in summaries["das"].epochs if e.epoch == min(2, last)]))
    targets = [
        ("DAS tokens per pass by the third step", f"{third:.2f}", ">= 2.0", third >= 2.0),
        ("DAS / n-gram, tokens per pass", f"{das['tokens_per_pass'] / ngram['tokens_per_pass']:.2f}", ">= 1.3",
         das["tokens_per_pass"] >= 1.3 * ngram["tokens_per_pass"]),
        ("DAS / global suffix tree, tokens per pass (DAS with its length-aware budget)",
         f"{das['tokens_per_pass'] / suffix['tokens_per_pass']:.2f}", ">= 1.0", das["tokens_per_pass"] >= suffix["tokens_per_pass"]),
    ]
    if "das-uniform" in stats:
        uniform = stats["das-uniform"]
        targets.insert(2, ("DAS / global suffix tree, tokens per pass (same uniform budget)",
                           f"{uniform['tokens_per_pass'] / suffix['tokens_per_pass']:.2f}", ">= 1.0",
                           uniform["tokens_per_pass"] >= suffix["tokens_per_pass"]))
    for name in ("das", "das-uniform"):
        if name in stats and "rollout_time_cut" in stats[name]:
            cut = stats[name]
            interval = (f" [{cut['rollout_time_cut_ci_low']:.0%}, {cut['rollout_time_cut_ci_high']:.0%}]"
                        if "rollout_time_cut_ci_low" in cut else "")
            targets.append((f"{name} rollout (batch wall) time cut vs no speculation (measured)",
                            f"{cut['rollout_time_cut']:.0%}{interval}", ">= 30%", cut["rollout_time_cut"] >= 0.3))
    lines += ["", "| target | measured | wanted | met |", "|---|---|---|---|"]
    lines += [f"| {name} | {value} | {want} | {'yes' if met else 'no'} |" for name, value, want, met in targets]
    return lines


WINDOW_READING = [
    "A proposal makes one pass over the context's last depth - 1 tokens (suffix links on mismatches) and then",
    "follows each node's best child, so its work does not depend on the window; what grows with more stored",
    "tokens is memory traffic (a larger tree misses the CPU caches more).",
]


def rollout_texts(tokens_needed: int, queries: int):
    """Stored sequences (tokenized solutions of synthetic arithmetic) and query contexts (half solutions)."""
    from transformers import AutoTokenizer

    from helm_plugins.models.registration import TINY_DEFAULT_DIR
    from helm_plugins.synthetic.arithmetic import generate_arithmetic_problems

    tokenizer = AutoTokenizer.from_pretrained(TINY_DEFAULT_DIR, local_files_only=True)
    stored = [tokenizer.encode(" " + p.solution + "\n") for p in generate_arithmetic_problems(tokens_needed // 50 + 1000, 0, "train")]
    contexts = []
    for problem in generate_arithmetic_problems(queries, 1, "train"):
        tokens = tokenizer.encode(" " + problem.solution)
        contexts.append(tokens[: len(tokens) // 2])
    return stored, contexts


def window_benchmark(stored, contexts, sizes=(10_000, 30_000, 100_000, 300_000, 1_000_000)) -> List[str]:
    from helm_plugins.runners.speculative.suffix_tree import WindowedSuffixTree

    tree = WindowedSuffixTree(max_depth=32, window=10**9)
    lines = [f"Tree: `{type(tree).__name__}`; build = seconds to add the tokens since the previous row; memory = bytes the",
             "compiled tree allocates (nodes, hash table, stored tokens) per stored token.", "",
             "| stored tokens | tree nodes | build (s) | proposal time per drafted token (us) | per proposal (us) | memory per stored token (bytes) |",
             "|---|---|---|---|---|---|"]
    added = 0
    for size in sizes:
        start = time.perf_counter()
        while tree.num_tokens < size:
            tree.add(added, stored[added])
            added += 1
        build = time.perf_counter() - start
        timings, drafted = [], 0
        for _ in range(3):
            start = time.perf_counter()
            drafted = sum(len(tree.speculate(context, 16, 0.1).tokens) for context in contexts)
            timings.append(time.perf_counter() - start)
        seconds = statistics.median(timings)
        memory = f"{tree.memory_bytes() / tree.num_tokens:,.0f}" if hasattr(tree, "memory_bytes") else "-"
        lines.append(
            f"| {tree.num_tokens:,} | {tree.num_nodes:,} | {build:.1f} | {seconds / max(drafted, 1) * 1e6:.1f} | "
            f"{seconds / len(contexts) * 1e6:.1f} | {memory} |"
        )
    return lines


def resident_bytes() -> int:
    """This process's resident memory (Linux /proc; 0 elsewhere)."""
    import os

    try:
        return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def proposal_worker(data_file: Path) -> dict:
    """Runs in the Python that has arctic-inference: both trees over the same sequences, interleaved timings."""
    sys.path.insert(0, str(REPO))
    from arctic_inference.suffix_decoding._C import SuffixTree as ArcticTree

    from helm_plugins.runners.speculative.suffix_tree import SuffixTree

    data = json.loads(Path(data_file).read_text())
    results = {"implementation": SuffixTree.__name__}
    for size in data["sizes"]:
        # Arctic's first, on a fresh heap: memory our tree frees while growing would otherwise be reused by it
        trees = {"arctic": ArcticTree(32), "ours": SuffixTree(max_depth=32)}
        builds, memory = {}, {}
        for name, tree in trees.items():  # one after the other: the resident-memory growth is the tree's
            before, builds[name], stored_tokens, index = resident_bytes(), 0.0, 0, 0
            while stored_tokens < size:
                sequence = data["stored"][index]
                start = time.perf_counter()
                tree.extend(index, sequence)
                builds[name] += time.perf_counter() - start
                stored_tokens += len(sequence)
                index += 1
            memory[name] = (resident_bytes() - before) / stored_tokens
        ours, arctic = trees["ours"], trees["arctic"]
        timings = {"ours": [], "arctic": []}
        drafted = {"ours": 0, "arctic": 0}
        for _ in range(5):  # interleaved, so both see the same machine load
            start = time.perf_counter()
            drafted["ours"] = sum(len(ours.speculate(c, 16, 0.1).tokens) for c in data["contexts"])
            timings["ours"].append(time.perf_counter() - start)
            start = time.perf_counter()
            drafted["arctic"] = sum(len(arctic.speculate(c, 16, 1000.0, 0.0, 0.1, False).token_ids) for c in data["contexts"])
            timings["arctic"].append(time.perf_counter() - start)
        results[size] = {
            "stored_tokens": stored_tokens,
            "build": builds,
            "bytes_per_token": memory,
            "proposal": {name: statistics.median(values) / len(data["contexts"]) for name, values in timings.items()},
            "drafted": drafted,
        }
    return results


def arctic_comparison(python: Path, stored, contexts, sizes: Sequence[int] = (100_000, 1_000_000)) -> List[str]:
    if not Path(python).exists():
        return [f"Not compared: {python} does not exist (scripts/build_arctic_suffix_tree.sh builds it)."]
    with tempfile.TemporaryDirectory() as tmp:
        data_file = Path(tmp) / "sequences.json"
        data_file.write_text(json.dumps({"stored": stored, "contexts": contexts, "sizes": list(sizes)}))
        completed = subprocess.run(
            [str(python), __file__, "--proposal-worker", str(data_file)], capture_output=True, text=True
        )
    if completed.returncode != 0:
        return [f"The comparison with Arctic Inference failed in {python}:", "", "    " + completed.stderr.strip()[-500:]]
    results = json.loads(completed.stdout.strip().splitlines()[-1])
    lines = [f"Our tree: `{results.pop('implementation')}`.", "",
        "| stored tokens | ours: per proposal (us) | Arctic: per proposal (us) | proposal time ours / Arctic | "
        "ours: build (s) | Arctic: build (s) | build ours / Arctic | memory per stored token, ours / Arctic (bytes) | "
        "drafted tokens ours / Arctic |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for result in results.values():
        build, proposal, drafted, memory = result["build"], result["proposal"], result["drafted"], result["bytes_per_token"]
        lines.append(
            f"| {result['stored_tokens']:,} | {proposal['ours'] * 1e6:.1f} | {proposal['arctic'] * 1e6:.1f} | "
            f"{proposal['ours'] / proposal['arctic']:.2f} | {build['ours']:.1f} | {build['arctic']:.2f} | "
            f"{build['ours'] / build['arctic']:.1f} | {memory['ours']:,.0f} / {memory['arctic']:,.0f} | "
            f"{drafted['ours']:,} / {drafted['arctic']:,} |"
        )
    first, last = list(results.values())[0], list(results.values())[-1]
    growth = {name: last["proposal"][name] / first["proposal"][name] for name in ("ours", "arctic")}
    lines += ["", f"From {first['stored_tokens']:,} to {last['stored_tokens']:,} stored tokens the time per proposal grows "
              f"{growth['ours']:.2f}x for ours and {growth['arctic']:.2f}x for Arctic's tree."]
    return lines


def machine_load() -> str:
    import os

    try:
        return f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    except OSError:
        return "load unknown"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, help="write the markdown section here")
    parser.add_argument("--arctic-python", type=Path, help="a Python that imports arctic-inference (comparison 3)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a field of the benchmark preset (e.g. problems=8)")
    parser.add_argument("--suffix-tree-only", action="store_true", help="skip the RL rollout benchmark")
    parser.add_argument("--rollouts-only", action="store_true", help="skip the suffix-tree benchmarks")
    parser.add_argument("--pure-python", action="store_true", help="measure the pure-Python suffix tree, not the compiled one")
    parser.add_argument("--proposal-worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pure_python:
        import os

        os.environ["HELM_PLUGINS_PURE_PYTHON_SUFFIX_TREE"] = "1"  # read at import, here and in the worker
    if args.proposal_worker:
        print(json.dumps(proposal_worker(args.proposal_worker)))
        return 0
    command = "python benchmarks/speculative.py --output benchmarks/speculative.md"
    command += "".join(f" --set {override}" for override in args.overrides)
    rollouts: List[str] = []
    if not args.suffix_tree_only:
        load_before = machine_load()
        with tempfile.TemporaryDirectory() as tmp:
            rollouts = rollout_benchmark(Path(tmp), args.overrides)
        rollouts += ["", f"Machine: {load_before} when the run started, {machine_load()} when it ended."]
    else:
        command += " --suffix-tree-only"
    if args.pure_python:
        command += " --pure-python"
    if args.rollouts_only:
        command += " --rollouts-only"
        section = "\n".join(["## Speculative decoding of RL rollouts (helm-plugins speculate)", "", "Produced by:", "",
                             f"    {command}", "", *rollouts])
        print(section)
        if args.output:
            args.output.write_text(section + "\n")
        return 0
    stored, contexts = rollout_texts(1_000_000, 400)
    window = window_benchmark(stored, contexts)
    if args.arctic_python:
        command += f" --arctic-python {args.arctic_python}"
        load_before = machine_load()
        arctic = ["", "Against Arctic Inference's C++ suffix tree (arctic-inference 0.3.0 built from its PyPI sdist by",
                  "`scripts/build_arctic_suffix_tree.sh`), same sequences and contexts, depth 32, 16-token drafts,",
                  "probability threshold 0.1, timings interleaved in one process (median of 5 passes over the contexts;",
                  "Arctic scores every match length and may pick a shorter match, so the drafts differ; memory is the",
                  "growth of resident memory while each tree is built):", ""]
        arctic += arctic_comparison(args.arctic_python, stored, contexts)
        arctic += ["", f"Machine: {load_before} before the comparison, {machine_load()} after it."]
    else:
        arctic = ["", "Arctic Inference's suffix tree was not compared in this run (no --arctic-python)."]
    emit("Speculative decoding of RL rollouts (helm-plugins speculate)", f"{command}   # make bench",
         rollouts
         + ["", "Suffix-tree proposal cost as the stored window grows (depth 32, 400 query contexts, 16-token drafts):", ""]
         + window + ["", *WINDOW_READING] + arctic,
         args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
