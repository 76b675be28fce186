"""UQ results of a suite: one row per run (pass rates of hp_uq runs; validator precision, recall, accuracy and the
generator–validator gap of hp_uq_meta runs); the cross-validator table (per validator, i.e. judge and strategy: its
precision and recall on labelled answers and the ranking of the answer models its pass rates imply, since rankings
flip across validators); and the accepted answers of hp_uq runs exported as JSONL for human review."""

import json
from pathlib import Path
from typing import Dict, List, Optional

COLUMNS = ["uq_pass", "uq_validator_precision", "uq_validator_recall", "uq_validator_accuracy", "uq_answer_accuracy",
           "uq_generator_validator_gap", "judge_requests", "judge_malformed_verdicts", "judge_cost_usd"]


def run_stats(run_dir: Path) -> Dict[str, float]:
    return {s["name"]["name"]: s["mean"] for s in json.loads((run_dir / "stats.json").read_text())
            if s["name"].get("split") == "test" and not s["name"].get("perturbation") and "mean" in s}


def fmt(value: Optional[float]) -> str:
    return "–" if value is None else f"{value:.3f}"


def uq_table(suite_dir: Path) -> str:
    rows: List[str] = []
    for run_dir in sorted(list(suite_dir.glob("hp_uq:*")) + list(suite_dir.glob("hp_uq_meta:*"))):
        if not (run_dir / "stats.json").is_file():
            continue
        spec = json.loads((run_dir / "run_spec.json").read_text())
        args = spec["annotators"][0]["args"]
        stats = run_stats(run_dir)
        model = spec["adapter_spec"]["model"]
        rows.append(f"| {run_dir.name.split(':')[0]} | {model} | {args['judge'] or model} | {args['strategy'].replace('|', chr(92) + '|')} | "
                    + " | ".join(fmt(stats.get(c)) for c in COLUMNS) + " |")
    if not rows:
        raise ValueError(f"no finished hp_uq or hp_uq_meta runs in {suite_dir}")
    header = "| run | model | judge | strategy | " + " | ".join(c.replace("uq_", "") for c in COLUMNS) + " |"
    return "\n".join([header, "|" + "---|" * (4 + len(COLUMNS))] + rows)


def _validator(spec: dict) -> tuple:
    args = spec["annotators"][0]["args"]
    return (args["judge"] or "self", args["strategy"])


def cross_validator_table(suite_dir: Path) -> str:
    """Per validator (judge, strategy): precision and recall from its hp_uq_meta runs (pooled by mean over runs)
    and the answer models of its hp_uq runs ranked by pass rate."""
    meta: Dict[tuple, List[Dict[str, float]]] = {}
    passes: Dict[tuple, Dict[str, float]] = {}
    for run_dir in sorted(suite_dir.glob("hp_uq*:*")):
        if not (run_dir / "stats.json").is_file():
            continue
        spec = json.loads((run_dir / "run_spec.json").read_text())
        key, stats = _validator(spec), run_stats(run_dir)
        if run_dir.name.startswith("hp_uq_meta:"):
            meta.setdefault(key, []).append(stats)
        elif stats.get("uq_pass") is not None:
            passes.setdefault(key, {})[spec["adapter_spec"]["model"]] = stats["uq_pass"]
    if not meta and not passes:
        raise ValueError(f"no finished hp_uq or hp_uq_meta runs in {suite_dir}")

    def pooled(key: tuple, name: str) -> Optional[float]:
        values = [s[name] for s in meta.get(key, []) if s.get(name) is not None]
        return sum(values) / len(values) if values else None

    lines = ["| judge | strategy | precision | recall | answer models ranked by pass rate |", "|---|---|---|---|---|"]
    for key in sorted(set(meta) | set(passes)):
        ranking = sorted(passes.get(key, {}).items(), key=lambda item: -item[1])
        ranked = " > ".join(f"{model} ({rate:.3f})" for model, rate in ranking) or "–"
        lines.append(f"| {key[0]} | {key[1].replace('|', chr(92) + '|')} | {fmt(pooled(key, 'uq_validator_precision'))} | "
                     f"{fmt(pooled(key, 'uq_validator_recall'))} | {ranked} |")
    return "\n".join(lines)


def accepted_answers(suite_dir: Path) -> List[dict]:
    """Every answer a validator accepted in the suite's hp_uq runs, with its question, for human review."""
    rows = []
    for run_dir in sorted(suite_dir.glob("hp_uq:*")):
        state_path = run_dir / "scenario_state.json"
        if not state_path.is_file():
            continue
        spec = json.loads((run_dir / "run_spec.json").read_text())
        judge, strategy = _validator(spec)
        for state in json.loads(state_path.read_text())["request_states"]:
            annotation = (state.get("annotations") or {}).get("uq_validator") or {}
            if not annotation.get("accepted"):
                continue
            extra = state["instance"].get("extra_data") or {}
            rows.append({"run": run_dir.name, "model": spec["adapter_spec"]["model"], "judge": judge,
                         "strategy": strategy, "question_id": extra.get("question_id"), "title": extra.get("title"),
                         "body": extra.get("body"), "site": extra.get("site"), "license": extra.get("license"),
                         "answer": annotation.get("answer_judged"), "stage_results": annotation.get("stage_results")})
    return rows
