"""The embedded chat model helm-plugins/tiny-chat on the suite's structured-prompting and judge runs.

    python benchmarks/tiny_chat.py --output benchmarks/tiny_chat.md [-m 200] [--suite tiny-chat-eval]

Runs (helm-run, greedy, -m instances of each held-out split) and reports:
1. DSPy on synthetic arithmetic and the fact world: HELM's prompt, zero-shot Predict, zero-shot chain of thought
   and BFRS (3 + 3 demos, 16 candidates) — accuracy with a 95% Wilson interval, parse failures (counted as
   wrong), and exact McNemar p-values of the paired comparisons (CoT vs Predict, BFRS vs CoT, CoT vs HELM).
2. UQ validators on the meta-evaluation set (planted right and wrong worked answers to held-out problems):
   precision with its interval and the confusion counts per strategy, and the share of verdict-bearing judge
   replies that carry a [[Y]]/[[N]] tag.
3. Generation throughput of tiny-chat through HELM's Hugging Face client (tokens/s, uncached requests).
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
BIN = Path(sys.executable).parent
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "LITELLM_LOCAL_MODEL_COST_MAP": "True",
       "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
MODEL = "helm-plugins/tiny-chat"
SP = "hp_structured_prompting:benchmark={benchmark},method={method}{extra},model=" + MODEL
DSPY_MAX_TOKENS = 120  # a worked solution in DSPy's field format takes about 75 tokens of tiny-chat
SP_ENTRIES = [
    SP.format(benchmark=b, method=m, extra="" if m == "helm" else f",max_tokens={DSPY_MAX_TOKENS}")
    for b in ("synthetic_arithmetic", "synthetic_fact_world") for m in ("helm", "predict", "cot", "bfrs")
]
UQ_STRATEGIES = ("vanilla*1|unanimous", "correct*1|unanimous", "factlogic*1|unanimous",
                 "pipeline[cycle*1|unanimous;factlogic*1|unanimous;correct*1|unanimous]")
UQ = "hp_uq_meta:num_questions={n},strategy={strategy},judge_max_tokens=160,model=" + MODEL


def helm_runs(groups: Dict[str, Tuple[List[str], int]], suite: str, output_path: Path, jobs: int) -> Dict[str, float]:
    """One helm-run per group (suite `<suite>-<group>`, its own request cache), `jobs` at a time; wall seconds."""
    from concurrent.futures import ThreadPoolExecutor

    def run(group: str) -> float:
        entries, instances = groups[group]
        start = time.time()
        completed = subprocess.run(
            [str(BIN / "helm-run"), "--run-entries", *entries, "--suite", f"{suite}-{group}", "-o", str(output_path),
             "--local-path", str(output_path / f"prod_env-{group}"), "-m", str(instances), "-n", "1"],
            env=ENV, capture_output=True, text=True)
        if completed.returncode:
            raise RuntimeError(completed.stdout[-3000:] + completed.stderr[-3000:])
        return time.time() - start

    with ThreadPoolExecutor(jobs) as pool:
        return dict(zip(groups, pool.map(run, groups)))


def per_instance(run_dir: Path, metric: str) -> Dict[str, float]:
    values = {}
    for entry in json.loads((run_dir / "per_instance_stats.json").read_text()):
        for stat in entry["stats"]:
            name = stat["name"]
            if name["name"] == metric and not name.get("perturbation") and stat.get("count"):
                values[entry["instance_id"]] = stat["sum"] / stat["count"]
    return values


def run_dirs(suite_dirs: List[Path], prefix: str) -> Dict[str, Path]:
    dirs = {}
    for path in sorted(p for suite_dir in suite_dirs for p in suite_dir.glob("*/run_spec.json")):
        name = json.loads(path.read_text())["name"]
        if name.startswith(prefix):
            dirs[name] = path.parent
    return dirs


def wilson(successes: float, total: int) -> Tuple[float, float]:
    from helm_plugins.common.intervals import wilson_interval

    return wilson_interval(successes, total) if total else (float("nan"), float("nan"))


def structured_prompting_section(suite_dir: List[Path]) -> List[str]:
    import numpy as np

    from helm_plugins.structured_prompting.benchmarks import get_benchmark
    from helm_plugins.structured_prompting.report import mcnemar_p

    lines = []
    for benchmark in ("synthetic_arithmetic", "synthetic_fact_world"):
        metric = get_benchmark(benchmark).main_metric
        runs = run_dirs(suite_dir, f"hp_structured_prompting:benchmark={benchmark},")
        if not runs:
            continue
        scores: Dict[str, Dict[str, float]] = {}
        lines += [f"\n**{benchmark}** ({metric}, {MODEL})\n", "| method | accuracy [95% CI] | correct / n | parse failures |",
                  "|---|---|---|---|"]
        for name, run_dir in runs.items():
            method = name.split("method=")[1].split(",")[0]
            scores[method] = per_instance(run_dir, metric)
            failures = per_instance(run_dir, "sp_parse_failure")
            n, correct = len(scores[method]), sum(scores[method].values())
            low, high = wilson(correct, n)
            parse = f"{sum(failures.values()):.0f} / {len(failures)} ({sum(failures.values()) / len(failures):.1%})" if failures else "—"
            lines.append(f"| {method} | {correct / n:.3f} [{low:.3f}, {high:.3f}] | {correct:.0f} / {n} | {parse} |")
        lines += ["", "| comparison | difference | only first right / only second right | exact McNemar p |", "|---|---|---|---|"]
        for first, second in (("cot", "predict"), ("bfrs", "cot"), ("cot", "helm"), ("bfrs", "helm")):
            if first not in scores or second not in scores:
                continue
            ids = sorted(set(scores[first]) & set(scores[second]))
            a = np.array([scores[first][i] for i in ids]) > 0.5
            b = np.array([scores[second][i] for i in ids]) > 0.5
            lines.append(f"| {first} vs {second} | {a.mean() - b.mean():+.3f} | {int((a & ~b).sum())} / {int((~a & b).sum())} "
                         f"| {mcnemar_p(a.astype(float), b.astype(float)):.2g} |")
    return lines


def verdict_counts(run_dir: Path) -> Tuple[int, int]:
    """(judge replies that should carry a verdict, replies with a valid [[Y]]/[[N]] tag)."""
    state = json.loads((run_dir / "scenario_state.json").read_text())
    expected = tagged = 0
    for request_state in state["request_states"]:
        for call in (request_state.get("annotations") or {}).get("uq_validator", {}).get("calls", []):
            if "verdict_status" in call:
                expected += 1
                tagged += call["verdict_status"] == "ok"
    return expected, tagged


def uq_section(suite_dir: List[Path]) -> List[str]:
    lines = ["\n**UQ validators, meta-evaluation** (planted answers to held-out arithmetic; tiny-chat answers and "
             "judges itself, the run entries' judge temperature 1.0)\n",
             "| strategy | precision [95% CI] | TP / FP / FN / TN | validator accuracy | verdict tags |",
             "|---|---|---|---|---|"]
    for name, run_dir in run_dirs(suite_dir, "hp_uq_meta:").items():
        counts = {k: sum(per_instance(run_dir, f"uq_{k}").values()) for k in ("tp", "fp", "fn", "tn")}
        accepted = counts["tp"] + counts["fp"]
        low, high = wilson(counts["tp"], int(accepted))
        precision = f"{counts['tp'] / accepted:.3f} [{low:.3f}, {high:.3f}]" if accepted else "undefined (no accept)"
        accuracy = per_instance(run_dir, "uq_validator_accuracy")
        expected, tagged = verdict_counts(run_dir)
        strategy = name.split("strategy=")[1].split(",judge=")[0]
        lines.append(f"| {strategy} | {precision} | {counts['tp']:.0f} / {counts['fp']:.0f} / {counts['fn']:.0f} / "
                     f"{counts['tn']:.0f} | {sum(accuracy.values()) / len(accuracy):.3f} | "
                     f"{tagged} / {expected} ({tagged / max(expected, 1):.1%}) |")
    return lines


def throughput(num_requests: int = 20) -> str:
    """Tokens/s of uncached generations through HELM's client (the LocalCheckpointClient of the deployment)."""
    import helm_plugins.plugin  # noqa: F401
    from helm.common.cache import BlackHoleCacheConfig
    from helm.common.request import Request
    from helm.tokenizers.huggingface_tokenizer import HuggingFaceTokenizer

    from helm_plugins.models.clients import LocalCheckpointClient
    from helm_plugins.models.registration import TINY_CHAT_DIR
    from helm_plugins.synthetic.arithmetic import generate_arithmetic_problems
    from helm_plugins.synthetic.prompts import render_arithmetic_prompt

    tokenizer = HuggingFaceTokenizer(BlackHoleCacheConfig(), MODEL, pretrained_model_name_or_path=str(TINY_CHAT_DIR))
    client = LocalCheckpointClient(BlackHoleCacheConfig(), tokenizer, str(TINY_CHAT_DIR), apply_chat_template=True)
    problems = generate_arithmetic_problems(num_requests, 99, "test")
    client.make_request(Request(model=MODEL, model_deployment=MODEL, prompt="warm up", max_tokens=4))
    tokens, start = 0, time.time()
    for problem in problems:
        result = client.make_request(Request(model=MODEL, model_deployment=MODEL, prompt=render_arithmetic_prompt(problem),
                                             max_tokens=100, temperature=0.0))
        tokens += len(result.completions[0].tokens)
    seconds = time.time() - start
    return f"{tokens / seconds:.1f} tokens/s ({tokens} generated tokens in {seconds:.1f} s, {num_requests} requests)"


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, default=REPO / "benchmarks" / "tiny_chat.md")
    parser.add_argument("-o", "--output-path", type=Path, default=Path("benchmark_output"))
    parser.add_argument("--suite", default="tiny-chat-eval")
    parser.add_argument("-m", "--max-eval-instances", type=int, default=200)
    parser.add_argument("--uq-questions", type=int, default=200)
    parser.add_argument("--benchmarks", nargs="+", default=["arithmetic", "fact-world"],
                        choices=["arithmetic", "fact-world"])
    parser.add_argument("--methods", nargs="+", default=["helm", "predict", "cot", "bfrs"])
    parser.add_argument("--bfrs-candidates", type=int, default=16, help="BFRS candidate programs (the paper: 16)")
    parser.add_argument("--uq-strategies", type=int, default=len(UQ_STRATEGIES), help="the first N of UQ_STRATEGIES")
    parser.add_argument("-j", "--jobs", type=int, default=1, help="helm-run processes at a time")
    parser.add_argument("--skip-runs", action="store_true", help="only read the runs already in the suites")
    args = parser.parse_args(argv)
    m, uq = args.max_eval_instances, args.uq_questions
    groups = {}  # one helm-run per entry, so that --jobs can run them side by side
    for entry in SP_ENTRIES:
        benchmark = "arithmetic" if "arithmetic" in entry else "fact-world"
        method = entry.split("method=")[1].split(",")[0]
        if benchmark in args.benchmarks and method in args.methods:
            if method == "bfrs" and args.bfrs_candidates != 16:
                entry = entry.replace("method=bfrs,", f"method=bfrs,candidates={args.bfrs_candidates},")
            groups[f"{benchmark}-{method}"] = ([entry], m)
    for strategy in UQ_STRATEGIES[: args.uq_strategies]:
        groups[f"uq-{strategy.split('*')[0].split('[')[0]}"] = ([UQ.format(n=uq, strategy=strategy)], uq)
    times = {} if args.skip_runs else helm_runs(groups, args.suite, args.output_path, args.jobs)
    suite_dir = [p for p in (args.output_path / "runs").glob(f"{args.suite}-*") if p.is_dir()]
    command = " ".join(sys.argv[1:]) if argv is None else " ".join(argv)
    lines = ["## Embedded chat model (tiny-chat): structured prompting and judges", "",
             f"    python benchmarks/tiny_chat.py {command}", ""]
    lines += structured_prompting_section(suite_dir) + uq_section(suite_dir)
    lines += ["", f"Generation throughput through HELM's client: {throughput()}."]
    if times:
        lines += [""] + [f"helm-run wall time, {k} (run with {args.jobs} at a time on the shared machine): {v:.0f} s."
                         for k, v in times.items()]
    text = "\n".join(lines) + "\n"
    args.output.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
