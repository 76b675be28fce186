"""The AHELM aspect report over finished audio runs of a suite: mean win rate per aspect across models with
bootstrap intervals, a plot of them, the fairness tests and the per-voice PARADE stereotype rates.

Win rate, as HELM's summarizer computes it for an aspect group's table: within one run group (one column), a
model's share of the other models it beats on the group's main metric (the schema's `main_name` and its direction;
a tie counts one half; a model's runs in the group are averaged, as HELM does). An aspect's mean win rate is the
mean over the aspect's groups the model ran. helm-summarize computes the same numbers in the aspect groups'
tables (hp_audio_aspect_<aspect>); this report adds intervals: instances are resampled within every run (bootstrap), the
win rates recomputed, and the 2.5 and 97.5 percentiles reported.
"""

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np
from jinja2 import Template

from helm_plugins.audio.metrics import permutation_gap_test
from helm_plugins.audio.run_specs import ASPECT_ORDER, aspect_of
from helm_plugins.audio.synthesis import VOICES
from helm_plugins.common.results import read_stats

BOOTSTRAP_RESAMPLES = 1_000
PLOT_FILE = "audio_aspects.png"


@lru_cache(maxsize=1)
def _schema() -> Tuple[Dict[str, str], Dict[str, bool]]:
    """(run group -> main metric, metric -> lower is better) from the package's schema."""
    import yaml

    from helm_plugins.summarize import schema_path

    schema = yaml.safe_load(schema_path().read_text())
    main = {g["name"]: g["environment"]["main_name"] for g in schema["run_groups"]
            if "main_name" in (g.get("environment") or {})}
    lower = {m["name"]: bool(m.get("lower_is_better")) for m in schema["metrics"]}
    return main, lower


def main_metric(group: str) -> Tuple[str, bool]:
    main, lower = _schema()
    if group not in main:
        raise ValueError(f"run group {group} has no main metric in the schema")
    return main[group], lower.get(main[group], False)


@dataclass(frozen=True)
class AudioRun:
    run_dir: Path
    name: str
    model: str
    group: str
    aspect: str
    stats: Dict[str, float]
    scenario_args: Dict[str, object]


def collect_runs(suite_dir: Path) -> List[AudioRun]:
    """Every finished run of the suite whose group belongs to an audio aspect."""
    suite_dir = Path(suite_dir)
    if not suite_dir.is_dir():
        raise FileNotFoundError(f"suite folder {suite_dir} does not exist (run helm-run with --suite first)")
    runs: List[AudioRun] = []
    for run_spec_path in sorted(suite_dir.glob("*/run_spec.json")):
        run_spec = json.loads(run_spec_path.read_text())
        for group in run_spec.get("groups", []):
            aspect = aspect_of(group)
            if aspect is None or not (run_spec_path.parent / "stats.json").is_file():
                continue
            runs.append(AudioRun(run_spec_path.parent, run_spec["name"], run_spec["adapter_spec"]["model"], group, aspect,
                                 read_stats(run_spec_path.parent), run_spec["scenario_spec"].get("args", {})))
    return runs


def win_rates(values: Dict[str, float], lower_is_better: bool) -> Dict[str, float]:
    """Each model's share of the other models it beats (ties count one half); a lone model gets no win rate."""
    models = [m for m, v in values.items() if v is not None and np.isfinite(v)]
    rates: Dict[str, float] = {}
    if len(models) < 2:
        return rates
    for model in models:
        score = 0.0
        for other in models:
            if other == model:
                continue
            a, b = (values[model], values[other]) if not lower_is_better else (values[other], values[model])
            score += 1.0 if a > b else 0.5 if a == b else 0.0
        rates[model] = score / (len(models) - 1)
    return rates


def _aspect_win_rates(cells: Dict[Tuple[str, str], Dict[str, float]]) -> Dict[str, Dict[str, float]]:
    """cells: (aspect, group) -> {model: value} → {aspect: {model: mean win rate}}."""
    per_aspect: Dict[str, Dict[str, List[float]]] = {}
    for (aspect, group), values in sorted(cells.items()):
        for model, rate in win_rates(values, main_metric(group)[1]).items():
            per_aspect.setdefault(aspect, {}).setdefault(model, []).append(rate)
    return {aspect: {m: float(np.mean(r)) for m, r in models.items()} for aspect, models in per_aspect.items()}


def _per_instance(run_dir: Path, metric: str) -> List[float]:
    path = run_dir / "per_instance_stats.json"
    if not path.is_file():
        return []
    rows = json.loads(path.read_text())
    return [s["sum"] / s["count"] for row in rows for s in row["stats"]
            if s["name"]["name"] == metric and not s["name"].get("perturbation") and s["name"].get("split", "test") == "test"
            and s.get("count")]


def _group_values(runs: List[AudioRun]) -> Dict[Tuple[str, str], Dict[str, List[np.ndarray]]]:
    """(aspect, group) -> model -> per-instance main-metric values of each of its runs in the group (a run without
    per-instance values contributes its mean as one value)."""
    values: Dict[Tuple[str, str], Dict[str, List[np.ndarray]]] = {}
    for run in runs:
        metric = main_metric(run.group)[0]
        if metric not in run.stats or run.stats[metric] is None:
            continue
        per_instance = _per_instance(run.run_dir, metric) or [run.stats[metric]]
        values.setdefault((run.aspect, run.group), {}).setdefault(run.model, []).append(np.asarray(per_instance, float))
    return values


def mean_win_rates(runs: List[AudioRun]) -> Dict[str, Dict[str, float]]:
    """{aspect: {model: mean win rate}} from the runs' stats (a model's runs in a group averaged)."""
    cells: Dict[Tuple[str, str], Dict[str, float]] = {}
    for run in runs:
        metric = main_metric(run.group)[0]
        if run.stats.get(metric) is not None:
            cells.setdefault((run.aspect, run.group), {}).setdefault(run.model, []).append(run.stats[metric])
    return _aspect_win_rates({key: {m: float(np.mean(v)) for m, v in models.items()} for key, models in cells.items()})


def bootstrap_intervals(runs: List[AudioRun], resamples: int = BOOTSTRAP_RESAMPLES,
                        seed: int = 0) -> Dict[str, Dict[str, Tuple[float, float]]]:
    """{aspect: {model: (2.5, 97.5 percentile)}} of the mean win rate, instances resampled within each run."""
    values = _group_values(runs)
    rng = np.random.default_rng(seed)
    samples: Dict[str, Dict[str, List[float]]] = {}
    for _ in range(resamples):
        cells = {key: {model: float(np.mean([rng.choice(v, len(v)).mean() for v in arrays]))
                       for model, arrays in models.items()} for key, models in values.items()}
        for aspect, models in _aspect_win_rates(cells).items():
            for model, rate in models.items():
                samples.setdefault(aspect, {}).setdefault(model, []).append(rate)
    return {aspect: {m: (float(np.percentile(s, 2.5)), float(np.percentile(s, 97.5))) for m, s in models.items()}
            for aspect, models in samples.items()}


def group_scores(runs: List[AudioRun]) -> List[dict]:
    """Per group and model: the main metric's mean over instances with a 95% bootstrap interval."""
    rng = np.random.default_rng(0)
    rows = []
    for (aspect, group), models in sorted(_group_values(runs).items(), key=lambda kv: ASPECT_ORDER.index(kv[0][0])):
        metric, lower = main_metric(group)
        for model, arrays in sorted(models.items()):
            pooled = np.concatenate(arrays)
            means = [rng.choice(pooled, len(pooled)).mean() for _ in range(BOOTSTRAP_RESAMPLES)]
            rows.append({"aspect": aspect, "group": group, "model": model, "metric": metric, "lower_is_better": lower,
                         "mean": float(pooled.mean()), "low": float(np.percentile(means, 2.5)),
                         "high": float(np.percentile(means, 97.5)), "n": int(len(pooled))})
    return rows


def _gender(run: AudioRun) -> Optional[str]:
    value = run.scenario_args.get("gender") or run.scenario_args.get("voice")
    if value in ("male", "female"):
        return str(value)
    return VOICES[value].group if value in VOICES else None


def fairness_rows(runs: List[AudioRun]) -> List[dict]:
    """WER by gender and the gap with its p-values: from the synthetic run's own stats (paired test, voices test,
    WER per voice), or, for released data (HELM's librispeech_fairness / fleurs_fairness, one run per gender, other
    speakers in each), an unpaired permutation test over the two runs' per-utterance WERs."""
    rows: List[dict] = []
    released: Dict[Tuple[str, str], Dict[str, AudioRun]] = {}
    for run in runs:
        if run.aspect != "fairness":
            continue
        if "wer_gap" in run.stats:
            rows.append({"model": run.model, "data": run.group, "wer_female": run.stats.get("wer_female"),
                         "wer_male": run.stats.get("wer_male"), "gap": run.stats["wer_gap"],
                         "p_value": run.stats.get("wer_gap_p_value"),
                         "voice_p_value": run.stats.get("wer_gap_voice_p_value"),
                         "per_voice": {k[len("wer_voice_"):]: v for k, v in run.stats.items() if k.startswith("wer_voice_")}})
        elif _gender(run):
            released.setdefault((run.model, run.group), {})[_gender(run)] = run
    for (model, group), by_gender in released.items():
        if set(by_gender) == {"female", "male"}:
            female, male = (_per_instance(by_gender[g].run_dir, "wer_score") for g in ("female", "male"))
            gap, p_value = permutation_gap_test(female, male)
            rows.append({"model": model, "data": group, "wer_female": float(np.mean(female)),
                         "wer_male": float(np.mean(male)), "gap": gap, "p_value": p_value, "voice_p_value": None,
                         "per_voice": {}})
    return rows


def bias_rows(runs: List[AudioRun]) -> List[dict]:
    """Per model and PARADE run: the stereotype rate (answers naming a role) and the other answer shares."""
    rows = []
    for run in runs:
        if run.aspect == "bias":
            rows.append({"model": run.model, "run": run.name, "voice": _gender(run) or "?",
                         "subset": run.scenario_args.get("subset", "?"),
                         "stereotype_rate": run.stats.get("stereotype"), "unclear": run.stats.get("unclear"),
                         "exact_match": run.stats.get("exact_match"), "invalid": run.stats.get("invalid_answer"),
                         "male_coded": run.stats.get("male_coded_choice"),
                         "female_coded": run.stats.get("female_coded_choice")})
    return sorted(rows, key=lambda r: (r["model"], r["subset"], r["voice"]))


TEMPLATE = Template(
    """# Audio aspect report: suite {{ suite }}

Mean win rate per AHELM aspect [95% bootstrap interval over instances]: within each run group, the share of other
models a model beats on the group's main metric, averaged over the aspect's groups (helm-summarize shows the same
numbers in the hp_audio_aspect_<aspect> tables). "–": the aspect has no run in this suite{% if missing %} ({{ missing|join(", ") }}: released data only, see docs/audio.md){% endif %}.

| model |{% for a in aspects %} {{ a }} |{% endfor %} mean |
|---|{% for a in aspects %}---:|{% endfor %}---:|
{% for m in models %}| {{ m }} |{% for a in aspects %} {{ wr(a, m) }} |{% endfor %} {{ fmt(overall.get(m)) }} |
{% endfor %}
## Scores per group (main metric, 95% bootstrap interval)

| aspect | group | model | metric | value | n |
|---|---|---|---|---:|---:|
{% for r in scores %}| {{ r.aspect }} | {{ r.group }} | {{ r.model }} | {{ r.metric }}{% if r.lower_is_better %} ↓{% else %} ↑{% endif %} | {{ fmt(r.mean) }} [{{ fmt(r.low) }}, {{ fmt(r.high) }}] | {{ r.n }} |
{% endfor %}
## Fairness: WER by speaker gender

Synthetic runs: every sentence is read by every voice; p (paired) permutes the gender labels among the voices
within each sentence, p (voices) relabels whole voices (the voice is the unit; with three voices per group it
cannot go below 0.1). Released runs: one run per gender, different speakers, an unpaired permutation test.

| model | data | WER female | WER male | gap (f − m) | p (paired) | p (voices) | WER per voice |
|---|---|---:|---:|---:|---:|---:|---|
{% for r in fairness %}| {{ r.model }} | {{ r.data }} | {{ fmt(r.wer_female) }} | {{ fmt(r.wer_male) }} | {{ fmt(r.gap) }} | {{ fmt(r.p_value) }} | {{ fmt(r.voice_p_value) }} | {% for v, w in r.per_voice.items() %}{{ v }} {{ fmt(w) }}{% if not loop.last %}, {% endif %}{% endfor %} |
{% endfor %}
## Bias: PARADE answers per voice ("unclear" is always correct)

| model | subset | voice | stereotype rate | unclear | invalid | male-coded role | female-coded role |
|---|---|---|---:|---:|---:|---:|---:|
{% for r in bias %}| {{ r.model }} | {{ r.subset }} | {{ r.voice }} | {{ fmt(r.stereotype_rate) }} | {{ fmt(r.unclear) }} | {{ fmt(r.invalid) }} | {{ fmt(r.male_coded) }} | {{ fmt(r.female_coded) }} |
{% endfor %}"""
)


def _fmt(value: Optional[float]) -> str:
    return "–" if value is None else f"{value:.3f}"


def build_report(suite_dir: Path, resamples: int = BOOTSTRAP_RESAMPLES) -> dict:
    runs = collect_runs(suite_dir)
    if not runs:
        raise ValueError(f"no audio runs (groups of the audio aspects) in {suite_dir}")
    mwr = mean_win_rates(runs)
    intervals = bootstrap_intervals(runs, resamples)
    models = sorted({r.model for r in runs})
    overall = {m: float(np.mean(v)) for m in models if (v := [mwr[a][m] for a in mwr if m in mwr[a]])}
    return {"suite": Path(suite_dir).name, "models": models, "aspects": list(ASPECT_ORDER),
            "aspects_without_runs": [a for a in ASPECT_ORDER if a not in {r.aspect for r in runs}],
            "mean_win_rate": mwr, "mean_win_rate_interval": intervals, "overall": overall,
            "group_scores": group_scores(runs), "fairness": fairness_rows(runs), "bias": bias_rows(runs),
            "runs": [{"name": r.name, "model": r.model, "group": r.group, "aspect": r.aspect,
                      "main_metric": r.stats.get(main_metric(r.group)[0])} for r in runs]}


def render_markdown(report: dict) -> str:
    def wr(aspect: str, model: str) -> str:
        value = report["mean_win_rate"].get(aspect, {}).get(model)
        if value is None:
            return "–"
        low, high = report["mean_win_rate_interval"].get(aspect, {}).get(model, (None, None))
        return f"{value:.2f}" + (f" [{low:.2f}, {high:.2f}]" if low is not None else "")

    return TEMPLATE.render(suite=report["suite"], aspects=report["aspects"], models=report["models"], wr=wr,
                           missing=report["aspects_without_runs"], overall=report["overall"],
                           scores=report["group_scores"], fairness=report["fairness"], bias=report["bias"], fmt=_fmt)


def plot_report(report: dict, path: Path) -> Path:
    """Two panels: mean win rate per aspect and model with its bootstrap interval; each group's main metric per
    model with its 95% interval."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    models, aspects = report["models"], report["aspects"]
    scores = report["group_scores"]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(max(8, 1.1 * len(aspects)), 8.5), constrained_layout=True)
    width = 0.8 / max(1, len(models))
    x = np.arange(len(aspects))
    for i, model in enumerate(models):
        values, errors = [], [[], []]
        for aspect in aspects:
            value = report["mean_win_rate"].get(aspect, {}).get(model)
            low, high = report["mean_win_rate_interval"].get(aspect, {}).get(model, (value, value))
            values.append(np.nan if value is None else value)
            errors[0].append(0 if value is None else value - low)
            errors[1].append(0 if value is None else high - value)
        top.bar(x + (i - (len(models) - 1) / 2) * width, values, width, yerr=errors, capsize=3, label=model)
    top.set_xticks(x, [a + (" (no run)" if a in report["aspects_without_runs"] else "") for a in aspects],
                   rotation=20, ha="right")
    top.set_ylim(0, 1.05)
    top.set_ylabel("mean win rate ↑")
    top.set_title(f"AHELM aspects, suite {report['suite']} (95% bootstrap intervals over instances)")
    top.legend(fontsize=8)
    groups = list(dict.fromkeys((r["aspect"], r["group"], r["metric"], r["lower_is_better"]) for r in scores))
    gx = np.arange(len(groups))
    for i, model in enumerate(models):
        by_group = {(r["aspect"], r["group"]): r for r in scores if r["model"] == model}
        rows = [by_group.get((a, g)) for a, g, _, _ in groups]
        values = [np.nan if r is None else r["mean"] for r in rows]
        errors = [[0 if r is None else r["mean"] - r["low"] for r in rows], [0 if r is None else r["high"] - r["mean"] for r in rows]]
        bottom.bar(gx + (i - (len(models) - 1) / 2) * width, values, width, yerr=errors, capsize=3, label=model)
    bottom.set_xticks(gx, [f"{g}: {m} {'↓' if lower else '↑'}" for a, g, m, lower in groups], fontsize=7, rotation=25,
                      ha="right")
    bottom.set_ylabel("main metric of the group")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
