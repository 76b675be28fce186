"""`helm-plugins demo`: the offline demo as a report (what `make demo` runs after installing).

Each step runs one command of the package or of HELM (helm-run on one capability's conf, a runner, a report) in
a subprocess whose whole output goes to a log file under the output folder. Two steps run at once (`--jobs`): the
helm-run steps one after another (they share HELM's cache), the runners beside them, each with a share of the
cores. On the terminal each step prints one line as it starts and one with its headline result, wall time and CPU
time when it ends; a progress bar shows the steps done and what is running.
A failed step says why and where its log is; steps that do not depend on it still run, and the command exits
non-zero at the end. The demo ends with a summary table (capability, headline, where to look) and the command
that serves the leaderboard.

    helm-plugins demo                      # everything, into benchmark_output/ and demo_output/
    helm-plugins demo --only synthetic     # one step (and nothing it depends on)
    helm-plugins demo --list               # the steps
"""

import argparse
import json
import math
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

from helm_plugins.cli import add_subcommand

OFFLINE_ENVIRONMENT = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "TOKENIZERS_PARALLELISM": "false",
}


@dataclass
class DemoContext:
    bin: Path
    suite: str
    output_path: Path  # HELM's benchmark_output
    demo_output: Path  # the runners' and reports' folders
    conf_dir: Path
    max_eval_instances: int
    num_threads: int

    @property
    def suite_dir(self) -> Path:
        return self.output_path / "runs" / self.suite


@dataclass
class Step:
    """One command of the demo: `command(ctx)` is its argv, `headline(ctx)` reads its result files."""

    name: str
    capability: str
    command: Callable[[DemoContext], List[str]]
    headline: Callable[[DemoContext], str]
    where: Callable[[DemoContext], str]
    needs: Sequence[str] = ()
    expected_runs: Optional[Callable[[DemoContext], int]] = None
    in_summary: bool = True
    resource: Optional[str] = None  # steps holding the same resource never run at once (helm-run: HELM's cache)
    after_all: bool = False  # starts only when every step listed before it has ended (summarize)


@dataclass
class StepResult:
    step: Step
    status: str  # "ok", "failed", "skipped"
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # user + system time of the step's processes (load-independent, unlike `seconds`)
    headline: str = ""
    reason: str = ""
    log: Optional[Path] = None


# ----- reading results -----


def _run_dirs(ctx: DemoContext, prefix: str) -> List[Path]:
    if not ctx.suite_dir.is_dir():
        return []
    return sorted(p for p in ctx.suite_dir.iterdir() if p.name.startswith(prefix) and (p / "stats.json").is_file())


def per_instance_values(run_dir: Path, name: str, split: str = "test") -> Dict[tuple, float]:
    """{(instance id, trial): value} of stat `name` on `split` (no perturbation), from HELM's
    per_instance_stats.json."""
    path = run_dir / "per_instance_stats.json"
    values = {}
    if not path.is_file():
        return values
    for instance in json.loads(path.read_text()):
        for stat in instance.get("stats", []):
            metric = stat["name"]
            if metric["name"] == name and metric.get("split") == split and "perturbation" not in metric \
                    and stat.get("count"):
                values[instance["instance_id"], instance.get("train_trial_index", 0)] = stat["sum"] / stat["count"]
    return values


def instance_values(run_dir: Path, name: str, split: str = "test") -> List[float]:
    """The per-instance values of stat `name` on `split` (no perturbation), in file order."""
    return list(per_instance_values(run_dir, name, split).values())


def mean_interval(values: Sequence[float], level: float = 0.95) -> str:
    """`mean [low, high]` over instances: Wilson's interval for 0/1 values, Student's t otherwise."""
    from helm_plugins.common.intervals import t_interval, wilson_interval

    count = len(values)
    if count == 0:
        return "n/a"
    mean = sum(values) / count
    if count == 1:
        return f"{mean:.3g}"
    if all(v in (0.0, 1.0) for v in values):
        low, high = wilson_interval(sum(values), count, level)
    else:
        low, high = t_interval(values, level)
    return f"{mean:.3g} [{low:.3g}, {high:.3g}]"


def run_stat_headline(ctx: DemoContext, prefix: str, metric: str, label: str, split: str = "test",
                      contains: str = "") -> str:
    """`label mean [95% interval] (n=instances)` for the first run named `prefix...contains...` with that stat."""
    for run in _run_dirs(ctx, prefix):
        if contains not in run.name:
            continue
        values = instance_values(run, metric, split)
        if values:
            return f"{label} {mean_interval(values)} (n={len(values)})"
    return f"no {metric} in {prefix}* runs"


def _json(path: Path) -> dict:
    return json.loads(path.read_text())


# ----- the steps -----


def _helm_run(conf: str) -> Callable[[DemoContext], List[str]]:
    def command(ctx: DemoContext) -> List[str]:
        return [str(ctx.bin / "helm-run"), "--conf-paths", str(ctx.conf_dir / conf), "--priority", "1",
                "--suite", ctx.suite, "--output-path", str(ctx.output_path),
                "--max-eval-instances", str(ctx.max_eval_instances), "--num-threads", str(ctx.num_threads)]

    return command


def _conf_entries(conf: str) -> Callable[[DemoContext], int]:
    def count(ctx: DemoContext) -> int:
        from helm.benchmark.presentation.run_entry import read_run_entries

        return sum(1 for e in read_run_entries([str(ctx.conf_dir / conf)]).entries if e.priority <= 1)

    return count


def _plugins(*args: str) -> Callable[[DemoContext], List[str]]:
    def command(ctx: DemoContext) -> List[str]:
        values = {"suite": ctx.suite, "out": str(ctx.demo_output), "o": str(ctx.output_path)}
        return [str(ctx.bin / "helm-plugins")] + [a.format(**values) for a in args]

    return command


def _runs_with_stats(ctx: DemoContext, prefix: str) -> List[tuple]:
    """(run name, {stat: value}) of the suite's runs named `prefix...`; stats written without a value (a quantity
    that does not exist for that run, e.g. an extrapolation error at a size that was not held out) are left out."""
    from helm_plugins.common.results import read_stats

    return [(run.name, {k: v for k, v in read_stats(run).items() if v is not None}) for run in _run_dirs(ctx, prefix)]


def _synthetic_headline(ctx: DemoContext) -> str:
    arithmetic = run_stat_headline(ctx, "hp_synthetic_arithmetic", "final_number_exact_match", "arithmetic exact match")
    fact = run_stat_headline(ctx, "hp_synthetic_fact_world", "exact_match", "closed-book facts accuracy",
                             contains="closed_book=True,method=separate")
    return f"{arithmetic}; {fact}"


def _groups(run_dir: Path) -> List[str]:
    return json.loads((run_dir / "run_spec.json").read_text()).get("groups", [])


def _structured_prompting_headline(ctx: DemoContext) -> str:
    """tiny-chat under HELM's prompt, Predict, chain of thought and BFRS (accuracy with its interval, parse
    failures), and the exact McNemar p of chain of thought against Predict on the same instances."""
    import numpy as np

    from helm_plugins.structured_prompting.report import mcnemar_p

    prefix = "hp_structured_prompting:benchmark=synthetic_arithmetic"
    chat = {run.name.split(",method=")[1].split(",")[0]: run for run in _run_dirs(ctx, prefix)
            if run.name.endswith("model=helm-plugins_tiny-chat")}
    if not chat:
        return run_stat_headline(ctx, f"{prefix},method=helm", "final_number_exact_match", "HELM's prompt on arithmetic")
    correct = {method: per_instance_values(run, "final_number_exact_match") for method, run in chat.items()}
    parts = []
    for method, label in (("helm", "HELM's prompt"), ("predict", "Predict"), ("cot", "CoT"), ("bfrs", "BFRS")):
        if method in chat:
            failures = instance_values(chat[method], "sp_parse_failure")
            part = f"{label} {mean_interval(list(correct[method].values()))}"
            parts.append(part + (f" ({sum(failures):.0f} parse failures)" if failures else ""))
    if "cot" in chat and "predict" in chat:
        shared = sorted(set(correct["cot"]) & set(correct["predict"]))
        cot, predict = (np.array([correct[m][i] for i in shared]) for m in ("cot", "predict"))
        only_cot, only_predict = int(np.sum((cot > 0.5) & (predict <= 0.5))), int(np.sum((predict > 0.5) & (cot <= 0.5)))
        parts.append(f"CoT vs Predict {only_cot} / {only_predict} discordant, exact McNemar p "
                     f"{mcnemar_p(cot, predict):.2g}")
    n = max(len(values) for values in correct.values())
    return f"tiny-chat on arithmetic (n={n}): " + ", ".join(parts)


def _ceiling_headline(ctx: DemoContext) -> str:
    """Per benchmark and model: the best DSPy method's score and its held-out gain over HELM's prompt, with intervals."""
    report = _json(ctx.demo_output / "ceiling" / "ceiling.json")
    parts = []
    for cell in report["cells"]:
        if cell.get("gain") is None:
            continue
        failed = [m for m, rate in cell.get("request_failure_rate", {}).items() if m != "helm" and rate >= 1.0]
        low, high = cell["gain_ci"]
        part = (f"{cell['benchmark']} on {cell['model'].split('/')[-1]}: ceiling {cell['ceiling']:.3g} "
                f"({cell['ceiling_method']}), gain over HELM's prompt {cell['gain']:+.3g} [{low:+.3g}, {high:+.3g}]")
        if failed:
            part += f" ({len(failed)} DSPy methods had only failed requests)"
        parts.append(part)
    return "; ".join(parts) if parts else "no benchmark with both HELM's prompt and a DSPy method"


def _judges_headline(ctx: DemoContext) -> str:
    """UQ validators meta-evaluated on tiny-chat: precision with its interval and the confusion counts per strategy,
    verdict tags on judge replies; then the SpecEval plumbing checks' counts."""
    from helm_plugins.common.intervals import wilson_interval

    parts = []
    for run in _run_dirs(ctx, "hp_uq_meta:"):
        if "plumbing_check" in run.name:
            continue
        strategy = run.name.split("strategy=")[1].split(",")[0].split("*")[0]
        counts = {k: sum(instance_values(run, f"uq_{k}")) for k in ("tp", "fp", "fn", "tn")}
        accepted = counts["tp"] + counts["fp"]
        precision = f"{counts['tp'] / accepted:.2f}" if accepted else "n/a"
        if accepted:
            low, high = wilson_interval(counts["tp"], accepted)
            precision += f" [{low:.2f}, {high:.2f}]"
        requests = sum(instance_values(run, "judge_requests"))
        malformed = sum(instance_values(run, "judge_malformed_verdicts"))
        parts.append(f"{strategy} validator precision {precision} (TP/FP/FN/TN {counts['tp']:.0f}/{counts['fp']:.0f}/"
                     f"{counts['fn']:.0f}/{counts['tn']:.0f}; verdict tags on {requests - malformed:.0f} of "
                     f"{requests:.0f} replies)")
    runs = [r for r in _run_dirs(ctx, "hp_") if "hp_judges_plumbing" in _groups(r)]
    requests = sum(v for r in runs for v in instance_values(r, "judge_requests"))
    malformed = sum(v for r in runs for v in instance_values(r, "judge_malformed_verdicts"))
    parts.append(f"{len(runs)} SpecEval plumbing-check runs: {requests:.0f} judge requests, {malformed:.0f} replies "
                 "without a valid verdict (counted, never guessed)")
    return "tiny-chat UQ meta-evaluation: " + "; ".join(parts)



def bits_per_byte_interval(run_dir: Path, level: float = 0.95, resamples: int = 2000, seed: int = 0) -> str:
    """HELM's pooled bits per byte (-sum log p / sum bytes / ln 2) with a percentile bootstrap over documents."""
    import numpy as np

    logprob = np.array(instance_values(run_dir, "logprob"))
    num_bytes = np.array(instance_values(run_dir, "num_bytes"))
    if len(logprob) == 0 or len(logprob) != len(num_bytes):
        return "n/a"
    value = -logprob.sum() / num_bytes.sum() / math.log(2)
    rng = np.random.default_rng(seed)
    index = rng.integers(0, len(logprob), size=(resamples, len(logprob)))
    samples = -logprob[index].sum(axis=1) / num_bytes[index].sum(axis=1) / math.log(2)
    low, high = np.quantile(samples, [(1 - level) / 2, (1 + level) / 2])
    return f"{value:.3g} [{low:.3g}, {high:.3g}]"


def _statistics_headline(ctx: DemoContext) -> str:
    fairness = run_stat_headline(ctx, "hp_fairness", "exact_match", "yes/no fairness items accuracy")
    parts = [fairness]
    for run in _run_dirs(ctx, "hp_text_loss:"):
        if "subgroup=" in run.name:
            subgroup = run.name.split("subgroup=")[1].split(",")[0]
            parts.append(f"{subgroup} dialect bits/byte {bits_per_byte_interval(run)}")
    return "; ".join(parts)


def _audio_headline(ctx: DemoContext) -> str:
    for run in _run_dirs(ctx, "hp_audio_asr:"):
        if "snr_db" not in run.name and run.name.endswith("model=helm-plugins_pocketsphinx"):
            values = instance_values(run, "wer_score")
            return f"pocketsphinx WER on clean speech {mean_interval(values)} (n={len(values)})"
    return "no clean-speech hp_audio_asr run"


def _speculative_headline(ctx: DemoContext) -> str:
    runs = [(name, stats) for name, stats in _runs_with_stats(ctx, "hp_speculate:") if "tokens_per_pass" in stats]
    if not runs:
        return "no hp_speculate runs"
    def interval(stats, name):
        low, high = stats.get(f"{name}_ci_low"), stats.get(f"{name}_ci_high")
        return f"{stats[name]:.2f}" + (f" [{low:.2f}, {high:.2f}]" if low is not None else "")

    parts = []
    for name, stats in sorted(runs, key=lambda run: -run[1]["tokens_per_pass"]):
        drafter = name.split("drafter=")[1].split(",")[0]
        batch = f", measured batch speedup {interval(stats, 'batch_speedup')}" if "batch_speedup" in stats else ""
        parts.append(f"{drafter} {interval(stats, 'tokens_per_pass')}{batch}")
    seeds = int(runs[0][1].get("seeds", 1))
    over = f"over {seeds} seeds" if seeds > 1 else "over problems"
    return f"tokens per forward pass (95% CI {over}; same rollouts for every drafter): " + "; ".join(parts)


def _pretrain_headline(ctx: DemoContext) -> str:
    runs = _runs_with_stats(ctx, "hp_pretrain:recipe=demo")
    if not runs:
        return "no hp_pretrain run"
    stats = runs[0][1]
    return (f"validation loss {stats['val_loss@valid']:.3f} after {stats['train_tokens@train']:,.0f} tokens "
            f"(one seed), {stats['tokens_per_second@train']:,.0f} tokens/s")


def _provenance_headline(ctx: DemoContext) -> str:
    parts = []
    for name, stats in _runs_with_stats(ctx, "hp_provenance:"):
        model = name.split("model=")[1].replace("helm-plugins_provenance-", "")
        if "+reference" in model and "provenance_log10_p" in stats:
            parts.append(f"{model.split('+')[0]} {stats['provenance_log10_p']:.2f}")
    return "query test log10 p (with reference): " + ", ".join(parts) if parts else "no hp_provenance runs"


def _fairness_headline(ctx: DemoContext) -> str:
    for _, stats in _runs_with_stats(ctx, "hp_fairness_frontier:"):
        if "extrapolation_mean_abs_error" in stats:
            return f"frontier extrapolated to the largest size: mean |BCE error| {stats['extrapolation_mean_abs_error']:.4f}"
    return "no hp_fairness_frontier runs"


def _entce_headline(ctx: DemoContext) -> str:
    for name, stats in _runs_with_stats(ctx, "hp_entropy_calibration:temperature=1"):
        if "entce" in stats:
            return (f"tiny-default EntCE at T=1 {stats['entce']:+.3f} "
                    f"[{stats['entce'] - 1.96 * stats['entce_stderr']:+.3f}, "
                    f"{stats['entce'] + 1.96 * stats['entce_stderr']:+.3f}]")
    return "no hp_entropy_calibration run at temperature 1"


def _hal_headline(ctx: DemoContext) -> str:
    report = _json(ctx.output_path / "hal_report" / ctx.suite / "report.json")
    by_benchmark: Dict[str, list] = {}
    for run in report["runs"]:
        by_benchmark.setdefault(run["benchmark"], []).append(run)
    parts, expensive_on = [], 0
    for benchmark, runs in sorted(by_benchmark.items()):
        on = sum(1 for r in runs if r.get("on_cost_frontier"))
        priced = [r for r in runs if r.get("total_cost_usd") is not None]
        if priced and max(priced, key=lambda r: r["total_cost_usd"]).get("on_cost_frontier"):
            expensive_on += 1
        parts.append(f"{benchmark} {on} of {len(runs)}")
    return (f"runs on the accuracy-cost frontier: {', '.join(parts)}; the most expensive run is on it in "
            f"{expensive_on} of {len(by_benchmark)} benchmarks (planted)")


def _mle_smith_headline(ctx: DemoContext) -> str:
    report = _json(ctx.output_path / "mle_report" / ctx.suite / "report.json")
    agreement = report.get("agreement")
    if not agreement:
        return "one task pool only: no agreement"
    pearson, spearman = agreement["pearson"], agreement["spearman"]
    tasks = " + ".join(f"{len(p['tasks'])} {name}" for name, p in report["pools"].items())
    return (f"Elo agreement of {len(report['agents'])} agents on {tasks} tasks: Pearson {pearson['estimate']:.3f} "
            f"[{pearson['low']:.3f}, {pearson['high']:.3f}], Spearman {spearman['estimate']:.3f} "
            f"[{spearman['low']:.3f}, {spearman['high']:.3f}]")


def _optimizers_headline(ctx: DemoContext) -> str:
    summary = _json(ctx.demo_output / "optimizers-demo" / "study.json")
    rows = [r for r in summary["table"] if r["optimizer"] != "adamw" and r["speedup"]["estimate"] is not None]
    if not rows:
        return "no speedups (every run diverged?)"
    largest = max(r["multiple"] for r in rows)
    parts = []
    for row in rows:
        if row["multiple"] == largest:
            low, high = (f"{v:.2f}" if v is not None else "inf" for v in (row["speedup"]["low"], row["speedup"]["high"]))
            parts.append(f"{row['optimizer']}@{row['size']} {row['speedup']['estimate']:.2f}x [{low}, {high}]")
    return f"speedup over tuned AdamW at {largest:g}x Chinchilla: " + ", ".join(parts)


def _rl_mle_headline(ctx: DemoContext) -> str:
    summary = _json(ctx.demo_output / "rl-mle-demo" / "study.json")
    parts = []
    for row in summary["ablation"]:
        change = row["relative_late_score_pct"]
        if change["mean"] is not None and change["low"] is not None:
            parts.append(f"{row['arm']} {change['mean']:+.1f}% [{change['low']:+.1f}, {change['high']:+.1f}]")
    return (f"late training score vs {summary['reference_arm']} ({len(summary['config']['seeds'])} seeds x "
            f"{len(summary['tasks'])} tasks): " + (", ".join(parts) or "n/a"))


def _infinite_compute_headline(ctx: DemoContext) -> str:
    summary = _json(ctx.demo_output / "infinite-compute-demo" / "study.json")

    def shown(interval: dict) -> str:
        if interval.get("infinite"):
            return "inf"
        if interval.get("estimate") is None:
            return "n/a"
        low, high = (f"{v:.3g}" if v is not None and v < 1e6 else "inf" for v in (interval["low"], interval["high"]))
        return f"{interval['estimate']:.3g} [{low}, {high}]"

    recipes, joint = summary["recipes"], summary["joint"]
    supported = sum(claim["supported"] for claim in summary["claims"])
    return (f"asymptote E: standard {shown(recipes['standard']['asymptote'])}, regularized "
            f"{shown(recipes['regularized']['asymptote'])}, joint limit {shown(joint['asymptote'])}; joint D'/D "
            f"{shown(joint['data_efficiency'])}; {supported} of {len(summary['claims'])} paper claims supported at this scale")


def _summarize_headline(ctx: DemoContext) -> str:
    groups = ctx.suite_dir / "groups"
    count = len(list(groups.glob("*.json"))) if groups.is_dir() else 0
    runs = len(_run_dirs(ctx, ""))
    log = ctx.demo_output / "logs"
    unmatched = sum(path.read_text(errors="replace").count("does not have any stat matched")
                    for path in log.glob("*-summarize.log"))
    return f"{runs} runs in {count} leaderboard groups; {unmatched} schema columns without a stat"


def _file(*parts: str) -> Callable[[DemoContext], str]:
    def where(ctx: DemoContext) -> str:
        return str(ctx.demo_output.joinpath(*parts))

    return where


def _suite_where(ctx: DemoContext) -> str:
    return str(ctx.suite_dir)


STEPS: List[Step] = [
    Step("synthetic", "Synthetic tasks on the embedded model", _helm_run("demo.conf"), _synthetic_headline,
         _suite_where, expected_runs=_conf_entries("demo.conf"), resource="helm"),
    Step("structured-prompting", "Structured prompting (DSPy)", _helm_run("structured_prompting.conf"),
         _structured_prompting_headline, _suite_where, expected_runs=_conf_entries("structured_prompting.conf"), resource="helm", in_summary=False),
    Step("ceiling", "Structured prompting (DSPy)", _plugins("ceiling", "--suite", "{suite}", "-o", "{o}", "--output",
                                                            "{out}/ceiling"),
         _ceiling_headline, _file("ceiling", "ceiling.md"), needs=["structured-prompting"]),
    Step("judges", "LLM judges (UQ, SpecEval)", _helm_run("judges.conf"), _judges_headline, _suite_where,
         expected_runs=_conf_entries("judges.conf"), resource="helm"),
    Step("uq-report", "LLM judges (UQ, SpecEval)", _plugins("uq-report", "--suite", "{suite}", "-o", "{o}"),
         lambda ctx: "written", lambda ctx: str(ctx.suite_dir / "uq_report.md"), needs=["judges"], in_summary=False),
    Step("spec-matrix", "LLM judges (UQ, SpecEval)", _plugins("spec-matrix", "--suite", "{suite}", "-o", "{o}"),
         lambda ctx: "written", lambda ctx: str(ctx.suite_dir / "spec_matrix"), needs=["judges"], in_summary=False),
    Step("statistics", "Statistics through helm-run", _helm_run("statistics.conf"), _statistics_headline, _suite_where,
         expected_runs=_conf_entries("statistics.conf"), resource="helm"),
    Step("audio", "Audio (AHELM)", _helm_run("audio.conf"), _audio_headline, _suite_where,
         expected_runs=_conf_entries("audio.conf"), resource="helm"),
    Step("audio-report", "Audio (AHELM)", _plugins("audio-report", "--suite", "{suite}", "-o", "{o}", "--output",
                                                   "{out}/audio-report"),
         lambda ctx: "written", _file("audio-report", "audio_report.md"), needs=["audio"], in_summary=False),
    Step("agents", "Agents (HAL)", _helm_run("agents.conf"), lambda ctx: "done", _suite_where,
         expected_runs=_conf_entries("agents.conf"), resource="helm", in_summary=False),
    Step("hal-report", "Agents (HAL)", _plugins("hal-report", "--suite", "{suite}", "-o", "{o}"), _hal_headline,
         lambda ctx: str(ctx.output_path / "hal_report" / ctx.suite / "leaderboard.md"), needs=["agents"]),
    Step("speculative-runs", "Speculative decoding (DAS)", _helm_run("speculative.conf"),
         lambda ctx: "done", _suite_where, expected_runs=_conf_entries("speculative.conf"), resource="helm", in_summary=False),
    Step("speculate", "Speculative decoding (DAS)",
         _plugins("speculate", "--preset", "demo", "--suite", "{suite}", "-o", "{o}", "--output",
                  "{out}/speculate-demo", "--no-progress"),
         _speculative_headline, _file("speculate-demo")),
    Step("pretrain", "Pretraining runner",
         _plugins("pretrain", "--recipe", "demo", "--suite", "{suite}", "-o", "{o}", "--output", "{out}/pretrain-demo",
                  "--fresh", "--no-progress"),
         _pretrain_headline, _file("pretrain-demo")),
    Step("optimizers", "Pretraining optimizers",
         _plugins("optimizers", "--preset", "demo", "--suite", "{suite}", "-o", "{o}", "--output",
                  "{out}/optimizers-demo", "--no-progress",
                  # the preset's larger size only: half the sweep (the preset's d24 rows are in the docs)
                  "--set", "sizes=[{{name: d32, n_layer: 1, n_head: 2, n_embd: 32}}]"),
         _optimizers_headline, _file("optimizers-demo", "speedup.png")),
    Step("provenance", "Model provenance",
         _plugins("provenance", "--demo", "--suite", "{suite}", "-o", "{o}", "--output", "{out}/provenance-demo",
                  "--no-progress"),
         _provenance_headline, _file("provenance-demo", "provenance.png")),
    Step("fairness-frontier", "Fairness frontier",
         _plugins("fairness-frontier", "--demo", "--suite", "{suite}", "-o", "{o}", "--output",
                  "{out}/fairness-frontier-demo", "--no-progress"),
         _fairness_headline, _file("fairness-frontier-demo", "fairness_frontier.png")),
    Step("entce", "Entropy calibration",
         _plugins("entce", "--demo", "--suite", "{suite}", "-o", "{o}", "--output", "{out}/entce-demo", "--no-progress"),
         _entce_headline, _file("entce-demo", "entropy_calibration.png")),
    Step("mle-smith", "MLE-Smith (generated ML tasks)", _helm_run("mle_smith.conf"), lambda ctx: "done", _suite_where,
         expected_runs=_conf_entries("mle_smith.conf"), in_summary=False, resource="helm"),
    Step("mle-report", "MLE-Smith (generated ML tasks)", _plugins("mle-report", "--suite", "{suite}", "-o", "{o}"),
         _mle_smith_headline, lambda ctx: str(ctx.output_path / "mle_report" / ctx.suite / "leaderboard.md"),
         needs=["mle-smith"]),
    Step("rl-mle", "RL for ML-engineering agents",
         _plugins("rl-mle", "--preset", "demo", "--suite", "{suite}", "-o", "{o}", "--output", "{out}/rl-mle-demo",
                  "--no-progress"),
         _rl_mle_headline, _file("rl-mle-demo", "curves.png")),
    Step("infinite-compute", "Pre-training under infinite compute",
         _plugins("infinite-compute", "--preset", "demo", "--suite", "{suite}", "-o", "{o}", "--output",
                  "{out}/infinite-compute-demo", "--no-progress"),
         _infinite_compute_headline, _file("infinite-compute-demo", "infinite_compute.png")),
    Step("summarize", "Leaderboard",
         _plugins("summarize", "--suite", "{suite}", "-o", "{o}",
                  "--plots", "hp_structured_prompting={out}/ceiling", "--plots", "hp_audio={out}/audio-report",
                  "--plots", "hp_provenance={out}/provenance-demo",
                  "--plots", "hp_fairness_frontier={out}/fairness-frontier-demo",
                  "--plots", "hp_entropy_calibration={out}/entce-demo",
                  "--plots", "hp_judges={o}/runs/{suite}/spec_matrix",
                  "--plots", "hp_pretraining_optimizers={out}/optimizers-demo",
                  "--plots", "hp_rl_mle={out}/rl-mle-demo",
                  "--plots", "hp_infinite_compute={out}/infinite-compute-demo",
                  "--plots", "hp_agents={o}/hal_report/{suite}",
                  "--plots", "hp_mle_smith={o}/mle_report/{suite}"),
         _summarize_headline, lambda ctx: str(ctx.suite_dir / "groups"), after_all=True),
]


# ----- running -----


def _format_seconds(seconds: float) -> str:
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes}m{rest:02d}s" if minutes else f"{rest}s"


def _count_finished_runs(ctx: DemoContext, since: float) -> int:
    if not ctx.suite_dir.is_dir():
        return 0
    count = 0
    for run in ctx.suite_dir.iterdir():
        stats = run / "stats.json"
        try:
            if stats.stat().st_mtime >= since:
                count += 1
        except OSError:
            continue
    return count


def _last_line(log: Path) -> str:
    try:
        lines = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    for line in reversed(lines):
        if "error" in line.lower() or "exception" in line.lower():
            return line[:300]
    return lines[-1][:300] if lines else ""


class _RunningStep:
    """A step's process, its log and its timing; reaped with os.wait4 so its own CPU time is known."""

    def __init__(self, step: Step, ctx: DemoContext, log: Path, threads: int):
        self.step, self.log = step, log
        self.expected_runs: Optional[int] = None
        if step.expected_runs is not None:
            try:
                self.expected_runs = step.expected_runs(ctx)
            except Exception:  # the count only feeds the progress bar
                self.expected_runs = None
        self.command = step.command(ctx)
        log.parent.mkdir(parents=True, exist_ok=True)
        environment = {**os.environ, **OFFLINE_ENVIRONMENT}
        for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            environment.setdefault(name, str(threads))
        self.start = time.time()
        self._out = open(log, "w")
        self._out.write("$ " + " ".join(self.command) + "\n")
        self._out.flush()
        self.process = subprocess.Popen(self.command, stdout=self._out, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, env=environment)
        self.returncode: Optional[int] = None
        self.cpu_seconds = 0.0
        self.seconds = 0.0

    def poll(self) -> bool:
        """True once the process has ended (its exit code and CPU time are then set)."""
        if self.returncode is not None:
            return True
        pid, status, usage = os.wait4(self.process.pid, os.WNOHANG)
        if pid == 0:
            return False
        self.returncode = os.waitstatus_to_exitcode(status)
        self.process.returncode = self.returncode  # reaped here; keep Popen from waiting again
        self.cpu_seconds = usage.ru_utime + usage.ru_stime
        self.seconds = time.time() - self.start
        self._out.close()
        return True

    def result(self, ctx: DemoContext) -> StepResult:
        step, seconds, cpu, log = self.step, self.seconds, self.cpu_seconds, self.log
        if self.returncode != 0:
            return StepResult(step, "failed", seconds, cpu,
                              reason=f"exit code {self.returncode}: {_last_line(log)}", log=log)
        try:
            headline = step.headline(ctx)
        except Exception as error:  # a report we cannot read is a failed step, not a crash of the demo
            return StepResult(step, "failed", seconds, cpu, reason=f"cannot read its results: {error!r}", log=log)
        return StepResult(step, "ok", seconds, cpu, headline=headline, log=log)


def _threads_per_step(jobs: int) -> int:
    return max(1, (os.cpu_count() or 1) // max(1, jobs))


def _report(echo, prefix: str, result: StepResult) -> None:
    if result.status == "ok":
        echo(f"{prefix}: done in {_format_seconds(result.seconds)} (CPU {_format_seconds(result.cpu_seconds)}) -- "
             f"{result.headline}")
    else:
        echo(f"{prefix}: FAILED after {_format_seconds(result.seconds)} -- {result.reason}\n    log: {result.log}")


def run_demo(steps: Sequence[Step], ctx: DemoContext, progress: bool = True, echo=print,
             jobs: int = 1) -> List[StepResult]:
    """Run the steps, up to `jobs` at once.

    A step starts once the steps it `needs` have ended (it is skipped if one of them failed), no other running step
    holds its `resource` (helm-run steps share HELM's cache), and, for an `after_all` step, every step listed before
    it has ended. Among the steps that may start, the one listed first starts first. Results come back in list order.
    """
    from tqdm import tqdm

    jobs = max(1, jobs)
    logs = ctx.demo_output / "logs"
    selected = {s.name for s in steps}
    index_of = {s.name: i for i, s in enumerate(steps, 1)}
    prefix = {s.name: f"[{index_of[s.name]}/{len(steps)}] {s.name}" for s in steps}
    results: Dict[str, StepResult] = {}
    running: Dict[str, _RunningStep] = {}
    pending = list(steps)
    threads = _threads_per_step(jobs)
    show_bar = progress and sys.stderr.isatty()
    bar = tqdm(total=len(steps), unit="steps", desc="  demo", leave=False, disable=not show_bar, file=sys.stderr,
               bar_format="{desc}: {n_fmt}/{total_fmt} steps [{elapsed}] {postfix}", mininterval=1)

    def startable(step: Step, position: int) -> bool:
        if any(n in selected and n not in results for n in step.needs):
            return False
        if step.resource and any(r.step.resource == step.resource for r in running.values()):
            return False
        if step.after_all and (running or any(p is not step for p in pending[:position])):
            return False
        return True

    try:
        while pending or running:
            for step in list(pending):
                if len(running) >= jobs:
                    break
                if not startable(step, pending.index(step)):
                    continue
                pending.remove(step)
                failed_needs = [n for n in step.needs if n in results and results[n].status != "ok"]
                if failed_needs:
                    results[step.name] = StepResult(step, "skipped",
                                                    reason=f"needs {', '.join(failed_needs)}, which failed")
                    echo(f"{prefix[step.name]}: skipped ({results[step.name].reason})")
                    bar.update(1)
                    continue
                echo(f"{prefix[step.name]}: {step.capability} ...")
                log = logs / f"{index_of[step.name]:02d}-{step.name}.log"
                running[step.name] = _RunningStep(step, ctx, log, threads)
            if show_bar:
                parts = []
                for name, process in running.items():
                    if process.expected_runs:
                        done = min(_count_finished_runs(ctx, process.start), process.expected_runs)
                        parts.append(f"{name} {done}/{process.expected_runs} runs")
                    else:
                        parts.append(name)
                bar.set_postfix_str("running: " + ", ".join(parts), refresh=False)
                bar.refresh()
            time.sleep(0.5 if running else 0.0)
            for name, process in list(running.items()):
                if process.poll():
                    del running[name]
                    results[name] = process.result(ctx)
                    _report(echo, prefix[name], results[name])
                    bar.update(1)
    finally:
        for process in running.values():  # interrupted: do not leave steps running
            process.process.kill()
        bar.close()
    return [results[s.name] for s in steps if s.name in results]


def summary_table(results: Sequence[StepResult], ctx: DemoContext) -> str:
    rows = [("capability", "step", "time (CPU)", "headline", "where to look")]
    for r in results:
        if not r.step.in_summary and r.status == "ok":
            continue
        headline = r.headline if r.status == "ok" else f"{r.status.upper()}: {r.reason}"
        where = r.step.where(ctx) if r.status == "ok" else str(r.log or "")
        rows.append((r.step.capability, r.step.name,
                     f"{_format_seconds(r.seconds)} ({_format_seconds(r.cpu_seconds)})", headline, where))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = []
    for row in rows:
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths)) + "  " + row[3])
        lines.append(" " * (sum(widths) + 6) + "  -> " + row[4] if row is not rows[0] else "")
    return "\n".join(line for line in lines if line.strip())


def _default_conf_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "run_specs"


def add_parser(subparsers) -> None:
    parser = add_subcommand(subparsers, "demo", "run the offline demo as a report (what make demo runs)", __doc__, run)
    parser.add_argument("--suite", default="demo", help="HELM suite (default: demo)")
    parser.add_argument("-o", "--output-path", type=Path, default=Path("benchmark_output"), help="HELM output path")
    parser.add_argument("--demo-output", type=Path, default=Path("demo_output"),
                        help="folder for the runners' outputs, reports and logs (default: demo_output)")
    parser.add_argument("--conf-dir", type=Path, default=None,
                        help="folder with the package's run_specs/*.conf (default: the source checkout's)")
    parser.add_argument("-m", "--max-eval-instances", type=int, default=100)
    parser.add_argument("-n", "--num-threads", type=int, default=2, help="helm-run's --num-threads")
    parser.add_argument("-j", "--jobs", type=int, default=min(2, os.cpu_count() or 1),
                        help="steps run at once (default: 2, or 1 on a one-core machine); helm-run steps never run "
                             "at once (they share HELM's cache), runners run beside them with "
                             "OMP_NUM_THREADS = cores / jobs")
    parser.add_argument("--only", action="append", default=[], metavar="STEP", help="run only these steps")
    parser.add_argument("--skip", action="append", default=[], metavar="STEP", help="leave these steps out")
    parser.add_argument("--list", action="store_true", help="list the steps and exit")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    names = [s.name for s in STEPS]
    if args.list:
        for step in STEPS:
            print(f"{step.name:22s} {step.capability}")
        return 0
    unknown = [n for n in args.only + args.skip if n not in names]
    if unknown:
        raise ValueError(f"unknown step(s) {', '.join(unknown)}; the steps are: {', '.join(names)}")
    conf_dir = (args.conf_dir or _default_conf_dir()).resolve()
    if not (conf_dir / "demo.conf").is_file():
        raise FileNotFoundError(f"no demo.conf in {conf_dir}: pass --conf-dir with the checkout's run_specs folder")
    steps = [s for s in STEPS if (not args.only or s.name in args.only) and s.name not in args.skip]
    ctx = DemoContext(
        bin=Path(sys.executable).parent, suite=args.suite, output_path=args.output_path.resolve(),
        demo_output=args.demo_output.resolve(), conf_dir=conf_dir, max_eval_instances=args.max_eval_instances,
        num_threads=args.num_threads,
    )
    print(f"helm_plugins demo: {len(steps)} steps, {args.jobs} at a time, suite '{ctx.suite}', logs in "
          f"{ctx.demo_output / 'logs'}", flush=True)
    start = time.time()
    results = run_demo(steps, ctx, progress=not args.no_progress, echo=lambda line: print(line, flush=True),
                       jobs=args.jobs)
    print(f"\nSummary ({_format_seconds(time.time() - start)} in all):\n")
    print(summary_table(results, ctx))
    (ctx.demo_output / "summary.json").write_text(json.dumps(
        [{"step": r.step.name, "capability": r.step.capability, "status": r.status, "seconds": round(r.seconds, 1),
          "cpu_seconds": round(r.cpu_seconds, 1),
          "headline": r.headline, "reason": r.reason, "where": r.step.where(ctx) if r.status == "ok" else str(r.log)}
         for r in results], indent=1))
    failed = [r.step.name for r in results if r.status != "ok"]
    print()
    if failed:
        print(f"{len(failed)} step(s) did not finish: {', '.join(failed)}. Their logs are in {ctx.demo_output / 'logs'}.")
    print("Serve the leaderboard with:")
    server = Path(sys.executable).parent / "helm-server"
    print(f"    {server} --suite {ctx.suite} --output-path {ctx.output_path}")
    print("then open http://localhost:8000/")
    return 1 if failed else 0
