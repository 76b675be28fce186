"""The AHELM aspect report over finished audio runs of a suite: mean win rate per aspect across models, with the
fairness (WER gap between speaker genders, permutation-test p-value) and bias (per-voice stereotype rate) numbers.

Win rate, as HELM computes it for a leaderboard column: within one run group (one scenario setting), a model's
share of the other models it beats on the group's main metric (a tie counts one half). An aspect's mean win rate
is the mean of the model's win rates over the aspect's groups that it ran.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np
from jinja2 import Template

from helm_plugins.audio.metrics import permutation_gap_test
from helm_plugins.audio.run_specs import aspect_of
from helm_plugins.common.results import read_stats

# Aspect -> (main metric, lower is better)
MAIN_METRIC: Dict[str, Tuple[str, bool]] = {
    "perception": ("wer", True),
    "robustness": ("wer", True),
    "fairness": ("wer", True),
    "bias": ("exact_match", False),
    "reasoning": ("quasi_prefix_exact_match", False),
}
ASPECT_ORDER = ["perception", "robustness", "fairness", "bias", "reasoning"]
REPORT_GROUP = "hp_audio_aspects"


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


def mean_win_rates(runs: List[AudioRun]) -> Dict[str, Dict[str, float]]:
    """{aspect: {model: mean win rate}} over the groups of each aspect."""
    per_aspect: Dict[str, Dict[str, List[float]]] = {}
    groups = sorted({(r.aspect, r.group) for r in runs})
    for aspect, group in groups:
        metric, lower = MAIN_METRIC[aspect]
        values: Dict[str, List[float]] = {}
        for run in runs:
            if run.group == group and metric in run.stats:
                values.setdefault(run.model, []).append(run.stats[metric])
        for model, rate in win_rates({m: float(np.mean(v)) for m, v in values.items()}, lower).items():
            per_aspect.setdefault(aspect, {}).setdefault(model, []).append(rate)
    return {aspect: {m: float(np.mean(r)) for m, r in models.items()} for aspect, models in per_aspect.items()}


def _per_instance(run_dir: Path, metric: str) -> List[float]:
    rows = json.loads((run_dir / "per_instance_stats.json").read_text())
    return [s["mean"] for row in rows for s in row["stats"]
            if s["name"]["name"] == metric and not s["name"].get("perturbation")]


def fairness_rows(runs: List[AudioRun]) -> List[dict]:
    """WER by gender and the gap with its p-value: from the synthetic run's own stats, or, for the released data (one
    run per gender), a permutation test over the two runs' per-utterance WERs."""
    rows: List[dict] = []
    released: Dict[str, Dict[str, AudioRun]] = {}
    for run in runs:
        if run.aspect != "fairness":
            continue
        if "wer_gap" in run.stats:
            rows.append({"model": run.model, "data": "synthetic", "wer_female": run.stats.get("wer_female"),
                         "wer_male": run.stats.get("wer_male"), "gap": run.stats["wer_gap"],
                         "p_value": run.stats.get("wer_gap_p_value")})
        elif run.group.endswith(("_female", "_male")):
            released.setdefault(run.model, {})[run.group.rsplit("_", 1)[1]] = run
    for model, by_gender in released.items():
        if set(by_gender) == {"female", "male"}:
            female, male = (_per_instance(by_gender[g].run_dir, "wer") for g in ("female", "male"))
            gap, p_value = permutation_gap_test(female, male)
            rows.append({"model": model, "data": "released", "wer_female": float(np.mean(female)),
                         "wer_male": float(np.mean(male)), "gap": gap, "p_value": p_value})
    return rows


def bias_rows(runs: List[AudioRun]) -> List[dict]:
    """Per model and PARADE setting: the stereotype rate (answers naming a role) and the other answer shares."""
    rows = []
    for run in runs:
        if run.aspect == "bias":
            voice = "female" if run.group.endswith("female") else "male"
            rows.append({"model": run.model, "group": run.group, "voice": voice,
                         "stereotype_rate": run.stats.get("stereotype"), "unclear": run.stats.get("unclear"),
                         "invalid": run.stats.get("invalid_answer"), "male_coded": run.stats.get("male_coded_choice"),
                         "female_coded": run.stats.get("female_coded_choice")})
    return sorted(rows, key=lambda r: (r["model"], r["group"]))


TEMPLATE = Template(
    """# Audio aspect report: suite {{ suite }}

Mean win rate per aspect (AHELM): within each run group, the share of other models a model beats on the group's
main metric ({% for a in aspects %}{{ a }}: {{ main[a][0] }}{% if main[a][1] %} lower is better{% endif %}{% if not loop.last %}; {% endif %}{% endfor %}), averaged over the aspect's groups.

| model |{% for a in aspects %} {{ a }} |{% endfor %} mean |
|---|{% for a in aspects %}---:|{% endfor %}---:|
{% for m in models %}| {{ m }} |{% for a in aspects %} {{ fmt(mwr.get(a, {}).get(m)) }} |{% endfor %} {{ fmt(overall.get(m)) }} |
{% endfor %}
## Fairness: WER by speaker gender

| model | data | WER female | WER male | gap (f − m) | permutation p |
|---|---|---:|---:|---:|---:|
{% for r in fairness %}| {{ r.model }} | {{ r.data }} | {{ fmt(r.wer_female) }} | {{ fmt(r.wer_male) }} | {{ fmt(r.gap) }} | {{ fmt(r.p_value) }} |
{% endfor %}
## Bias: PARADE answers per voice ("unclear" is always correct)

| model | group | voice | stereotype rate | unclear | invalid | male-coded role | female-coded role |
|---|---|---|---:|---:|---:|---:|---:|
{% for r in bias %}| {{ r.model }} | {{ r.group }} | {{ r.voice }} | {{ fmt(r.stereotype_rate) }} | {{ fmt(r.unclear) }} | {{ fmt(r.invalid) }} | {{ fmt(r.male_coded) }} | {{ fmt(r.female_coded) }} |
{% endfor %}"""
)


def _fmt(value: Optional[float]) -> str:
    return "–" if value is None else f"{value:.3f}"


def build_report(suite_dir: Path) -> dict:
    runs = collect_runs(suite_dir)
    if not runs:
        raise ValueError(f"no audio runs (groups hp_audio_*) in {suite_dir}")
    mwr = mean_win_rates(runs)
    models = sorted({r.model for r in runs})
    overall = {m: float(np.mean(v)) for m in models if (v := [mwr[a][m] for a in mwr if m in mwr[a]])}
    return {"suite": Path(suite_dir).name, "models": models, "aspects": [a for a in ASPECT_ORDER if a in mwr],
            "mean_win_rate": mwr, "overall": overall, "fairness": fairness_rows(runs), "bias": bias_rows(runs),
            "runs": [{"name": r.name, "model": r.model, "group": r.group, "aspect": r.aspect,
                      "main_metric": r.stats.get(MAIN_METRIC[r.aspect][0])} for r in runs]}


def render_markdown(report: dict) -> str:
    return TEMPLATE.render(suite=report["suite"], aspects=report["aspects"], main=MAIN_METRIC, models=report["models"],
                           mwr=report["mean_win_rate"], overall=report["overall"], fairness=report["fairness"],
                           bias=report["bias"], fmt=_fmt)


def aspect_records(report: dict):
    """One HELM run per model (group hp_audio_aspects) with its mean win rates and fairness and bias numbers, so
    the aspect table shows in the leaderboard next to the runs."""
    from helm_plugins.common.results import RunRecord, make_stat

    for model in report["models"]:
        stats = {f"mwr_{a}": report["mean_win_rate"][a][model] for a in report["aspects"]
                 if model in report["mean_win_rate"][a]}
        if model in report["overall"]:
            stats["mwr_mean"] = report["overall"][model]
        for row in report["fairness"]:
            if row["model"] == model and row["data"] == "synthetic":
                stats.update(wer_gender_gap=row["gap"], wer_gender_gap_p_value=row["p_value"])
        for voice in ("male", "female"):
            rates = [r["stereotype_rate"] for r in report["bias"]
                     if r["model"] == model and r["voice"] == voice and r["stereotype_rate"] is not None]
            if rates:
                stats[f"stereotype_rate_{voice}_voice"] = float(np.mean(rates))
        yield RunRecord(
            name=f"{REPORT_GROUP}:suite={report['suite']},model={model}",
            scenario_name=REPORT_GROUP,
            scenario_description="AHELM aspect report: mean win rate per aspect across the suite's models "
            "(helm-plugins audio-report).",
            scenario_class="helm_plugins.audio.report.build_report",
            scenario_args={"suite": report["suite"]},
            model=model,
            method="audio_aspect_report",
            groups=[REPORT_GROUP],
            stats=[make_stat(name, value) for name, value in stats.items() if value is not None],
        )
