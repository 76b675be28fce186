"""UQ results of a suite as one table: pass rates of hp_uq runs and validator precision, recall, accuracy and the
generator–validator gap of hp_uq_meta runs (one row per run: model, judge, strategy)."""

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
