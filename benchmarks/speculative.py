"""Speculative decoding of RL rollouts: DAS against its baselines, and the drafter's cost as its window grows.

    python benchmarks/speculative.py --output benchmarks/speculative.md     (make bench: into BENCHMARKS.md)

1. `helm-plugins speculate --preset benchmark`: 32 arithmetic problems x 8 rollouts x 5 RL steps at
   temperature 1, the embedded model as policy (updated GRPO-style between steps), every drafter on the same
   policy of each step.
2. Proposal time of the suffix tree (max_depth 32) per drafted token, for windows of 10k to 1M stored tokens
   of rollout text, on the same query contexts.
3. With --arctic-python (a Python that imports arctic-inference, see scripts/build_arctic_suffix_tree.sh):
   proposal and build time of our pure-Python tree against Arctic Inference's C++ suffix tree on the same
   stored sequences and contexts, run in that Python.
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import List, Sequence

from ratios import emit

REPO = Path(__file__).resolve().parents[1]


def rollout_benchmark(work: Path) -> List[str]:
    from helm_plugins.runners.speculative.config import load_speculate_config
    from helm_plugins.runners.speculative.runner import run_speculation

    config = load_speculate_config("benchmark", None, [])
    summaries = {s.name: s for s in run_speculation(config, work / "speculate", progress=True)}
    stats = {name: summary.stats() for name, summary in summaries.items()}
    lines = [
        "| drafter | budget | tokens/pass | tokens/pass, step 3 | acceptance | makespan (passes) | wall time (s) | wall speedup | modeled batch speedup |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for spec in config.drafters:
        s, summary = stats[spec.name], summaries[spec.name]
        lines.append(
            f"| {spec.name} | {spec.budget} | {s['tokens_per_pass']:.2f} | {summary.epochs[2].tokens_per_pass:.2f} | "
            f"{s['acceptance_rate']:.2f} | {s['makespan_passes']:.1f} | {s['rollout_seconds']:.1f} | "
            f"{s['speedup_vs_no_speculation']:.2f} | {s['modeled_batch_speedup']:.2f} |"
        )
    das, das_uniform, ngram, suffix = stats["das"], stats["das-uniform"], stats["ngram"], stats["suffix-global"]
    third = summaries["das"].epochs[2].tokens_per_pass
    wall_cut = 1 - das["rollout_seconds"] / stats["none"]["rollout_seconds"]
    targets = [
        ("DAS tokens per pass by the third step", f"{third:.2f}", ">= 2.0", third >= 2.0),
        ("DAS / n-gram, tokens per pass", f"{das['tokens_per_pass'] / ngram['tokens_per_pass']:.2f}", ">= 1.3",
         das["tokens_per_pass"] >= 1.3 * ngram["tokens_per_pass"]),
        ("DAS / global suffix tree, tokens per pass (same uniform budget)",
         f"{das_uniform['tokens_per_pass'] / suffix['tokens_per_pass']:.2f}", ">= 1.0",
         das_uniform["tokens_per_pass"] >= suffix["tokens_per_pass"]),
        ("DAS / global suffix tree, tokens per pass (DAS with its length-aware budget)",
         f"{das['tokens_per_pass'] / suffix['tokens_per_pass']:.2f}", ">= 1.0", das["tokens_per_pass"] >= suffix["tokens_per_pass"]),
        ("DAS rollout wall time cut vs no speculation", f"{wall_cut:.0%}", ">= 30%", wall_cut >= 0.3),
    ]
    lines += ["", "| target | measured | wanted | met |", "|---|---|---|---|"]
    lines += [f"| {name} | {value} | {want} | {'yes' if met else 'no'} |" for name, value, want, met in targets]
    lines += ["", *reading(stats)]
    return lines


def reading(stats: dict) -> List[str]:
    """How to read the table, with the numbers of this run."""
    das, suffix, uniform = stats["das"], stats["suffix-global"], stats["das-uniform"]
    keeping = [name for name, s in stats.items() if name != "none" and round(s["modeled_batch_speedup"], 2) >= 1.0]
    text = (
        "Reading the table: tokens/pass counts every emitted token over every decoding pass. DAS's length-aware "
        "budget drafts nothing for requests expected to finish within the step's makespan, by design: its "
        f"tokens/pass is {das['tokens_per_pass']:.2f} against {suffix['tokens_per_pass']:.2f} for the global tree, "
        f"its acceptance {das['acceptance_rate']:.2f} against {suffix['acceptance_rate']:.2f}. With the same uniform "
        f"budget the per-problem trees (das-uniform) give {uniform['tokens_per_pass']:.2f} tokens/pass against the "
        f"global tree's {suffix['tokens_per_pass']:.2f}. Wall time is measured on sequences decoded one at a time on "
        "the CPU, where drafting costs almost nothing; the modeled batch speedup prices a lockstep batch engine "
        "instead (c_base per pass of the slowest rollout plus c_tok per processed token, both fitted on the policy "
        "on this CPU), where wasted drafts cost compute: drafters keeping a modeled batch speedup of at least 1.00: "
        f"{', '.join(keeping) or 'none'}."
    )
    if "das-cost-model" in stats:
        text += (
            f" The closed-form budget (das-cost-model) reaches {stats['das-cost-model']['tokens_per_pass']:.2f} "
            f"tokens/pass against {das['tokens_per_pass']:.2f} for the length classes; its acceptance curve is "
            "fitted only on the requests it lets draft."
        )
    return textwrap.wrap(text, width=105)


WINDOW_READING = [
    "A proposal walks at most depth x (match lengths) nodes and then follows each node's best child, so its",
    "work does not depend on the window; what grows with more stored tokens is memory traffic (a larger",
    "tree misses the CPU caches more).",
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

    lines = ["| stored tokens | tree nodes | build (s) | proposal time per drafted token (us) | per proposal (us) |", "|---|---|---|---|---|"]
    tree = WindowedSuffixTree(max_depth=32, window=10**9)
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
        lines.append(
            f"| {tree.num_tokens:,} | {tree.num_nodes:,} | {build:.1f} | {seconds / max(drafted, 1) * 1e6:.1f} | "
            f"{seconds / len(contexts) * 1e6:.1f} |"
        )
    return lines


def proposal_worker(data_file: Path) -> dict:
    """Runs in the Python that has arctic-inference: both trees over the same sequences, interleaved timings."""
    sys.path.insert(0, str(REPO))
    from arctic_inference.suffix_decoding._C import SuffixTree as ArcticTree

    from helm_plugins.runners.speculative.suffix_tree import SuffixTree

    data = json.loads(Path(data_file).read_text())
    results = {}
    for size in data["sizes"]:
        ours, arctic, stored_tokens, index = SuffixTree(max_depth=32), ArcticTree(32), 0, 0
        builds = {"ours": 0.0, "arctic": 0.0}
        while stored_tokens < size:
            sequence = data["stored"][index]
            start = time.perf_counter()
            ours.extend(index, sequence)
            builds["ours"] += time.perf_counter() - start
            start = time.perf_counter()
            arctic.extend(index, sequence)
            builds["arctic"] += time.perf_counter() - start
            stored_tokens += len(sequence)
            index += 1
        timings = {"ours": [], "arctic": []}
        drafted = {"ours": 0, "arctic": 0}
        for _ in range(3):
            start = time.perf_counter()
            drafted["ours"] = sum(len(ours.speculate(c, 16, 0.1).tokens) for c in data["contexts"])
            timings["ours"].append(time.perf_counter() - start)
            start = time.perf_counter()
            drafted["arctic"] = sum(len(arctic.speculate(c, 16, 1000.0, 0.0, 0.1, False).token_ids) for c in data["contexts"])
            timings["arctic"].append(time.perf_counter() - start)
        results[size] = {
            "stored_tokens": stored_tokens,
            "build": builds,
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
    lines = [
        "| stored tokens | ours: build (s) | Arctic: build (s) | ours: per proposal (us) | Arctic: per proposal (us) | "
        "proposal time ours / Arctic | drafted tokens ours / Arctic |",
        "|---|---|---|---|---|---|---|",
    ]
    for result in results.values():
        build, proposal, drafted = result["build"], result["proposal"], result["drafted"]
        lines.append(
            f"| {result['stored_tokens']:,} | {build['ours']:.1f} | {build['arctic']:.2f} | {proposal['ours'] * 1e6:.1f} | "
            f"{proposal['arctic'] * 1e6:.1f} | {proposal['ours'] / proposal['arctic']:.1f} | "
            f"{drafted['ours']:,} / {drafted['arctic']:,} |"
        )
    first, last = list(results.values())[0], list(results.values())[-1]
    growth = {name: last["proposal"][name] / first["proposal"][name] for name in ("ours", "arctic")}
    lines += ["", f"From {first['stored_tokens']:,} to {last['stored_tokens']:,} stored tokens the time per proposal grows "
              f"{growth['ours']:.2f}x for ours and {growth['arctic']:.2f}x for Arctic's tree."]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, help="write the markdown section here")
    parser.add_argument("--arctic-python", type=Path, help="a Python that imports arctic-inference (comparison 3)")
    parser.add_argument("--proposal-worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.proposal_worker:
        print(json.dumps(proposal_worker(args.proposal_worker)))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        rollouts = rollout_benchmark(Path(tmp))
    stored, contexts = rollout_texts(1_000_000, 400)
    window = window_benchmark(stored, contexts)
    command = "python benchmarks/speculative.py --output benchmarks/speculative.md"
    if args.arctic_python:
        command += f" --arctic-python {args.arctic_python}"
        arctic = ["", "Against Arctic Inference's C++ suffix tree (arctic-inference 0.3.0 built from its PyPI sdist by",
                  "`scripts/build_arctic_suffix_tree.sh`), same sequences and contexts, depth 32, 16-token drafts,",
                  "probability threshold 0.1 (Arctic scores every match length and may pick a shorter match, so",
                  "the drafts differ):", ""]
        arctic += arctic_comparison(args.arctic_python, stored, contexts)
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
