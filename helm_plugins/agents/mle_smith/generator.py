"""MLE-Smith's generator: raw data -> verified ML-engineering tasks in MLE-Dojo's format (arXiv 2510.07307).

    Brainstormer  reads the data's profile and proposes up to 3 candidates (target, task type, metric, columns to
                  drop, rationale); labels come from the data, given or derived (a column above its median).
    Designer      builds the package: description, prepare.py (deterministic split, ids in random order, random
                  valid sample submission), metric.py, task.json.
    Refactor      rewrites the package into the shared schema (metric class, prepare signature).
    Verification  Assertions (before and after Refactor, and on the prepared files), Reviews, Execution
                  (verification.py). A failure goes back to the stage that caused it with the error, up to
                  `max_retries` times; a candidate that fails Execution goes back to the Brainstormer (the next
                  candidate).

Each stage is a HELM model deployment (`model=...`: prompts in prompts/*.jinja, calls through HELM's AutoClient
with its cache and retries, tokens and cost recorded), or, with no model, a template stage that makes the same
kinds of tasks from the data's schema (rules for the Brainstormer, templates/*.jinja for the Designer, a schema
conformance pass for Refactor; rule-based checks stand in for the LLM Reviews). Every stage's outcome, reason,
time and cost goes to `<out>/generation.json` (all candidates, rejected ones included) and to each accepted task's
`info/generation.json`.
"""

import json
import re
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

import jinja2
import numpy as np
import pandas as pd
from pydantic import BaseModel, Field, ValidationError

from helm_plugins.agents.mle_smith import verification as V
from helm_plugins.common import mle_tasks

HERE = Path(__file__).parent
METRICS = {  # metric helper -> (title, higher is better, value kind)
    "accuracy": ("accuracy", True, "label"), "macro_f1": ("macro F1", True, "label"),
    "roc_auc": ("ROC AUC", True, "probability"), "rmse": ("RMSE", False, "number"), "mae": ("MAE", False, "number"),
}
TARGET_HINTS = ("target", "label", "class", "y", "outcome", "price", "churn", "sentiment", "species", "progression")


class GeneratorConfig(BaseModel):
    model: str = ""  # HELM deployment of the Brainstormer, Designer and Refactor ("" = template mode)
    review_model: str = ""  # HELM deployment of the Reviews ("" = `model`; none at all = rule-based checks)
    max_candidates: int = Field(3, ge=1, le=10)
    max_tasks_per_source: int = Field(1, ge=1)
    max_retries: int = Field(2, ge=0)
    test_fraction: float = Field(0.25, gt=0.05, lt=0.9)
    seed: int = 0
    local_path: str = "prod_env"  # HELM's local path: credentials, model_deployments.yaml, cache
    max_tokens: int = Field(2000, ge=64)


class Candidate(BaseModel):
    target: str
    derived: bool = False  # the label is `source_column` above its median
    task_type: str
    metric: str
    drop_columns: List[str] = Field(default_factory=list)
    rationale: str = ""
    source_column: str = ""

    def model_post_init(self, _):
        if not self.source_column:
            self.source_column = self.target


class Candidates(BaseModel):
    candidates: List[Candidate]


@dataclass
class Draft:
    description: str
    prepare_source: str
    metric_source: str
    info: mle_tasks.TaskInfo


@dataclass
class Profile:
    dataset: str
    n_rows: int
    columns: List[Dict[str, Any]]

    def column(self, name: str) -> Optional[Dict[str, Any]]:
        return next((c for c in self.columns if c["name"] == name), None)


def profile_frame(frame: pd.DataFrame, dataset: str) -> Profile:
    columns = []
    for name in frame.columns:
        values = frame[name]
        n_unique = int(values.nunique())
        if pd.api.types.is_numeric_dtype(values):
            kind = "number"
        elif values.astype(str).str.len().mean() > 25 and n_unique > len(frame) / 2:
            kind = "text"
        else:
            kind = "category"
        id_like = n_unique == len(frame) and kind != "text" and (
            kind == "category" or bool((values.sort_values().diff().dropna() == 1).all()))
        examples = [str(v)[:30] for v in values.dropna().unique()[:3]]
        columns.append({"name": str(name), "kind": kind, "n_unique": n_unique, "missing": float(values.isna().mean()),
                        "examples": examples, "id_like": bool(id_like)})
    return Profile(dataset, len(frame), columns)


# ----------------------------------------------------------------------------------------------- model access

@dataclass
class StageModel:
    """One HELM deployment used by the stages (Judge from the project's judge plumbing: cache, retries, cost)."""

    judge: Any
    calls: List[Dict[str, Any]] = field(default_factory=list)

    def __post_init__(self):
        from helm_plugins.common.judges import Templates

        self.templates = Templates(HERE / "prompts")

    @property
    def deployment(self) -> str:
        return self.judge.deployment

    def render(self, template: str, shrink=(), **variables) -> str:
        """The prompt; with a context window (a small local model), the `shrink` variables are cut to fit it."""
        if shrink and getattr(self.judge, "_window", None) is not None:
            return self.judge.fit(self.templates, template, shrink, **variables)[0]
        return self.templates.render(template, **variables)

    def ask(self, prompt: str, seed: str, stage: str):
        start = time.monotonic()
        reply = self.judge.ask(prompt, seed)
        self.calls.append({"stage": stage, "model": self.deployment, "prompt_tokens": reply.prompt_tokens,
                           "completion_tokens": reply.completion_tokens, "cost_usd": reply.cost_usd,
                           "seconds": round(time.monotonic() - start, 3), "success": reply.success,
                           "error": reply.error})
        return reply


def helm_stage_model(deployment: str, local_path: str, max_tokens: int) -> StageModel:
    """A deployment through HELM's AutoClient with the local path's credentials, deployments and cache."""
    import os

    import helm_plugins.plugin  # noqa: F401  (the package's deployments)
    from helm.benchmark.config_registry import register_builtin_configs_from_helm_package, register_configs_from_directory
    from helm.clients.auto_client import AutoClient
    from helm.common.cache_backend_config import SqliteCacheBackendConfig
    from helm.common.general import get_credentials

    from helm_plugins.common.judges import Judge

    register_builtin_configs_from_helm_package()
    if os.path.isdir(local_path):
        register_configs_from_directory(local_path)
    cache = os.path.join(local_path, "cache")
    os.makedirs(cache, exist_ok=True)
    client = AutoClient(get_credentials(local_path), cache, SqliteCacheBackendConfig(cache))
    return StageModel(Judge(client, deployment, temperature=0.0, max_tokens=max_tokens))


BLOCK = re.compile(r"```\s*(description|python\s+prepare|python\s+metric|prepare|metric)[^\n]*\n(.*?)```", re.DOTALL)


def parse_blocks(text: str) -> Dict[str, str]:
    blocks = {}
    for label, body in BLOCK.findall(text or ""):
        blocks[label.split()[-1]] = body.strip() + "\n"
    return blocks


# --------------------------------------------------------------------------------------------- Brainstormer

def template_candidates(profile: Profile, config: GeneratorConfig) -> List[Candidate]:
    """Rules over the schema: low-cardinality columns -> classification (binary: probability with ROC AUC),
    numeric columns -> regression and the derived "above the median" label; ids and free text are never labels."""
    usable = [c for c in profile.columns if not c["id_like"] and c["kind"] != "text" and c["n_unique"] > 1
              and c["missing"] < 0.5]
    text = [c["name"] for c in profile.columns if c["kind"] == "text"]
    ids = [c["name"] for c in profile.columns if c["id_like"]]

    def rank(column):
        name = column["name"].lower()
        return (0 if any(h == name or name.startswith(h + "_") or name.endswith("_" + h) for h in TARGET_HINTS) else 1,
                -list(profile.columns).index(column))

    candidates = []
    for column in sorted(usable, key=rank):
        name, n = column["name"], column["n_unique"]
        others = [c for c in usable if c["name"] != name]
        if not others and not text:
            continue  # nothing to predict it from
        if 2 <= n <= 20 and n <= profile.n_rows / 10:
            if n == 2:
                candidates.append(Candidate(target=name, task_type="probability", metric="roc_auc", drop_columns=ids,
                                            rationale=f"{name} is binary: rank cases by probability"))
            else:
                metric = "macro_f1" if len(candidates) % 2 else "accuracy"
                candidates.append(Candidate(target=name, task_type="classification", metric=metric, drop_columns=ids,
                                            rationale=f"{name} has {n} classes"))
        elif column["kind"] == "number" and n > 20:
            metric = "mae" if len(candidates) % 2 else "rmse"
            candidates.append(Candidate(target=name, task_type="regression", metric=metric, drop_columns=ids,
                                        rationale=f"{name} is a continuous quantity"))
            candidates.append(Candidate(target=f"{name}_high", derived=True, source_column=name,
                                        task_type="probability", metric="roc_auc", drop_columns=ids,
                                        rationale=f"whether {name} is above its median"))
    return candidates[:config.max_candidates]


def check_candidate(candidate: Candidate, profile: Profile) -> str:
    """Why a candidate is unusable ("" if it is usable)."""
    source = profile.column(candidate.source_column)
    if source is None:
        return f"target column {candidate.source_column!r} is not in the data"
    if source["id_like"] or source["kind"] == "text":
        return f"{candidate.source_column!r} is an identifier or free text, not a label"
    if source["n_unique"] < 2:
        return f"{candidate.source_column!r} is constant"
    if candidate.metric not in METRICS:
        return f"metric {candidate.metric!r} is not one of {', '.join(METRICS)}"
    if candidate.task_type not in V.METRIC_TASK_TYPES[candidate.metric]:
        return f"metric {candidate.metric} does not suit a {candidate.task_type} task"
    if candidate.task_type == "regression" and source["kind"] != "number":
        return f"{candidate.source_column!r} is not numeric: it cannot be a regression target"
    if candidate.derived and source["kind"] != "number":
        return f"a derived label needs a numeric column; {candidate.source_column!r} is not"
    if candidate.task_type == "probability" and not candidate.derived and source["n_unique"] != 2:
        return f"a probability task needs a binary label; {candidate.source_column!r} has {source['n_unique']} values"
    return ""


def brainstorm(profile: Profile, config: GeneratorConfig, model: Optional[StageModel], log: Dict[str, Any]):
    start = time.monotonic()
    stage = {"stage": "brainstormer", "mode": "model" if model else "template"}
    if model is None:
        proposed = template_candidates(profile, config)
    else:
        lines = "\n".join(f"- {c['name']} | {c['kind']} | {c['n_unique']} distinct | {c['missing']:.2f} missing | "
                          f"{', '.join(c['examples'])}" for c in profile.columns)
        prompt = model.render("brainstorm", shrink="column_lines", dataset=profile.dataset, n_rows=profile.n_rows,
                              column_lines=lines, max_candidates=config.max_candidates, metrics=list(METRICS))
        reply = model.ask(prompt, f"brainstorm/{profile.dataset}/{config.seed}", "brainstormer")
        from helm_plugins.common.judges import parse_json_verdict

        verdict = parse_json_verdict(reply.text, Candidates) if reply.success else None
        stage["reply"] = reply.text[:2000]
        if verdict is None or not verdict.ok:
            stage["error"] = reply.error if verdict is None else f"{verdict.status}: {verdict.error}"
            proposed = []
        else:
            proposed = verdict.value.candidates[:config.max_candidates]
    accepted, rejected = [], []
    for candidate in proposed:
        problem = check_candidate(candidate, profile)
        (rejected if problem else accepted).append({**candidate.model_dump(), "problem": problem})
    stage.update(proposed=len(proposed), accepted=[c["target"] for c in accepted], rejected=rejected,
                 seconds=round(time.monotonic() - start, 3))
    if not accepted:
        if stage.get("error"):
            reason = f"the model proposed no valid candidate ({stage['error']})"
        else:
            reason = "; ".join(r["problem"] for r in rejected) or \
                "no column is a usable label (constant, identifier or free text)"
        stage["outcome"] = "no usable target: " + reason
    log["stages"].append(stage)
    return [Candidate(**{k: v for k, v in c.items() if k != "problem"}) for c in accepted]


# ------------------------------------------------------------------------------------------------- Designer

_TEMPLATES = jinja2.Environment(loader=jinja2.FileSystemLoader(str(HERE / "templates")),
                                undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:40] or "task"


def task_info(candidate: Candidate, profile: Profile, source: Optional[str], name: str,
              extra_drop: List[str] = ()) -> mle_tasks.TaskInfo:
    title, higher, _ = METRICS[candidate.metric]
    text_columns = [c["name"] for c in profile.columns if c["kind"] == "text"]
    numeric_or_category = [c for c in profile.columns if c["kind"] != "text" and c["name"] != candidate.source_column
                           and c["name"] not in candidate.drop_columns and c["name"] not in extra_drop]
    text_only = bool(text_columns) and not numeric_or_category
    return mle_tasks.TaskInfo(
        name=name, id_column="id", target_columns=[candidate.target], task_type=candidate.task_type,
        modality="text" if text_only else "tabular", text_column=text_columns[0] if text_only else None,
        positive_label="1" if candidate.derived else None, metric=title, higher_is_better=higher,
        raw_source=source, origin="generated",
        notes={"metric_function": candidate.metric, "rationale": candidate.rationale, "dataset": profile.dataset},
    )


def template_design(candidate: Candidate, profile: Profile, source: Optional[str], config: GeneratorConfig,
                    name: str, extra_drop: List[str]) -> Draft:
    title, higher, kind = METRICS[candidate.metric]
    drop = sorted(set(candidate.drop_columns) | set(extra_drop))
    info = task_info(candidate, profile, source, name, drop)
    if candidate.task_type == "probability" and not candidate.derived:
        values = sorted(str(e) for e in profile.column(candidate.target)["examples"])
        info.positive_label = values[-1] if values else None
    variables = dict(positive_label=info.positive_label or "1",
        name=name, id_column="id", target=candidate.target, source_column=candidate.source_column,
        drop_columns=drop, test_fraction=config.test_fraction, seed=config.seed + 17, derived=candidate.derived,
        id_prefix=slug(candidate.target)[:6] + "_", task_type=candidate.task_type, metric_title=title,
        metric_function=candidate.metric, higher_is_better=higher, value_kind=kind,
        class_name="".join(p.capitalize() for p in name.split("_")) + "Metrics",
    )
    columns = [{"name": "id", "kind": "identifier"}] + [
        {"name": c["name"], "kind": c["kind"]} for c in profile.columns
        if c["name"] not in drop and c["name"] != candidate.source_column] + [
        {"name": candidate.target, "kind": "label 0/1" if candidate.derived else profile.column(candidate.source_column)["kind"]}]
    goal = (f"Predict whether {candidate.source_column} is above its median value (1) or not (0)" if candidate.derived
            else f"Predict {candidate.target}") + f" from the other columns of {profile.dataset}. {candidate.rationale}."
    description = _TEMPLATES.get_template("description.txt.jinja").render(
        title=name.replace("_", " ").capitalize(), goal=goal, n_rows=profile.n_rows, dataset=profile.dataset,
        columns=columns, **variables)
    return Draft(description, _TEMPLATES.get_template("prepare.py.jinja").render(**variables),
                 _TEMPLATES.get_template("metric.py.jinja").render(**variables), info)


def design(candidate, profile, source, config, name, model, feedback, extra_drop, attempt, log) -> Optional[Draft]:
    start = time.monotonic()
    stage = {"stage": "designer", "candidate": candidate.target, "attempt": attempt,
             "mode": "model" if model else "template"}
    if model is None:
        draft = template_design(candidate, profile, source, config, name, extra_drop)
    else:
        prompt = model.render("design", shrink=("column_names", "feedback"), dataset=profile.dataset,
                              n_rows=profile.n_rows, column_names=", ".join(c["name"] for c in profile.columns),
                              candidate=candidate.model_dump(),
                              id_column="id", seed=config.seed + 17, test_fraction=config.test_fraction,
                              feedback=feedback)
        reply = model.ask(prompt, f"design/{name}/{attempt}", "designer")
        blocks = parse_blocks(reply.text)
        missing = [b for b in ("description", "prepare", "metric") if b not in blocks]
        if not reply.success or missing:
            stage.update(outcome="failed", reason=reply.error or f"reply lacks the block(s) {missing}",
                         seconds=round(time.monotonic() - start, 3))
            log["stages"].append(stage)
            return None
        draft = Draft(blocks["description"], blocks["prepare"], blocks["metric"],
                      task_info(candidate, profile, source, name))
    stage.update(outcome="ok", seconds=round(time.monotonic() - start, 3))
    log["stages"].append(stage)
    return draft


# ------------------------------------------------------------------------------------------------- Refactor

def conform(draft: Draft) -> Draft:
    """The deterministic part of Refactor: normalised sources and the metric's class attributes set from task.json."""
    metric = draft.metric_source.replace("from mledojo.metrics.base import", "from helm_plugins.common.mle_tasks import")
    return Draft(draft.description.strip() + "\n", draft.prepare_source.rstrip() + "\n", metric.rstrip() + "\n",
                 draft.info)


def refactor(draft: Draft, model: Optional[StageModel], feedback: str, name: str, attempt: int, log) -> Optional[Draft]:
    start = time.monotonic()
    stage = {"stage": "refactor", "candidate": draft.info.target_columns[0], "attempt": attempt,
             "mode": "model" if model else "template"}
    if model is not None:
        _, _, kind = METRICS[draft.info.notes["metric_function"]]
        prompt = model.render("refactor", shrink=("prepare_source", "metric_source"), id_column=draft.info.id_column, target=draft.info.target_columns[0],
                              value_kind=kind, higher_is_better=draft.info.higher_is_better,
                              prepare_source=draft.prepare_source, metric_source=draft.metric_source, feedback=feedback)
        reply = model.ask(prompt, f"refactor/{name}/{attempt}", "refactor")
        blocks = parse_blocks(reply.text)
        if not reply.success or "prepare" not in blocks or "metric" not in blocks:
            stage.update(outcome="failed", reason=reply.error or "reply lacks the prepare/metric blocks",
                         seconds=round(time.monotonic() - start, 3))
            log["stages"].append(stage)
            return None
        draft = Draft(draft.description, blocks["prepare"], blocks["metric"], draft.info)
    stage.update(outcome="ok", seconds=round(time.monotonic() - start, 3))
    log["stages"].append(stage)
    return conform(draft)


# ------------------------------------------------------------------------------------------------- pipeline

def load_raw(data: str) -> tuple:
    """(frame, dataset name, raw_source or None) for sklearn:/synthetic: sources or a CSV file."""
    if data.startswith(("sklearn:", "synthetic:")):
        name = data.split(":", 1)[1].split("?")[0].replace("load_", "")
        return mle_tasks.raw_frame(data), name, data
    path = Path(data)
    if not path.is_file():
        raise FileNotFoundError(f"--data {data}: no such file (give a CSV file, sklearn:load_<name> or synthetic:<name>)")
    try:
        frame = pd.read_csv(path)
    except Exception as error:
        raise ValueError(f"--data {data}: not a readable CSV ({error})") from None
    return frame, slug(path.stem), None


def _extra_drops(checks: List[V.Check]) -> List[str]:
    """Columns named by leak/shortcut failures (the template Designer drops them on its next attempt)."""
    names = []
    for check in V.failures(checks):
        names += re.findall(r"column '([^']+)'", check.reason)
    return names


def build_candidate(candidate: Candidate, profile: Profile, frame: pd.DataFrame, source: Optional[str],
                    out_dir: Path, config: GeneratorConfig, model, reviewer, sandbox, log) -> Optional[Path]:
    base = slug(profile.dataset) + "_" + slug(candidate.target)
    name, n = base, 2
    while (out_dir / name).exists():
        name, n = f"{base}_{n}", n + 1
    route, design_feedback, refactor_feedback, draft, extra_drop = "designer", "", "", None, []
    record: Dict[str, Any] = {"candidate": candidate.model_dump(), "name": name, "attempts": []}
    for attempt in range(1, config.max_retries + 2):
        checks: List[V.Check] = []
        if route == "brainstormer":
            break
        if route == "designer" or draft is None:
            draft = design(candidate, profile, source, config, name, model, design_feedback, extra_drop, attempt, log)
            if draft is None:
                record["attempts"].append({"attempt": attempt, "failed": "designer reply unusable"})
                continue
            checks = V.static_assertions(draft.prepare_source, draft.metric_source, "designer")
            if V.failures(checks):
                design_feedback, route = V.feedback(checks), "designer"
                record["attempts"].append({"attempt": attempt, "checks": [c.to_json() for c in checks]})
                continue
        final = refactor(draft, model, refactor_feedback, name, attempt, log)
        if final is None:
            route = "refactor"
            record["attempts"].append({"attempt": attempt, "failed": "refactor reply unusable"})
            continue
        checks = V.static_assertions(final.prepare_source, final.metric_source, "refactor")
        work = None
        if not V.failures(checks):
            tmp = Path(tempfile.mkdtemp(prefix="mle_smith_"))
            work = mle_tasks.write_task(tmp / name, final.info, final.description, final.prepare_source,
                                        final.metric_source)
            if source is None:
                (work.raw_dir).mkdir(exist_ok=True)
                frame.to_csv(work.raw_dir / "data.csv", index=False)
            start = time.monotonic()
            runtime, details = V.runtime_checks(work, sandbox, config.seed)
            checks += runtime
            log["stages"].append({"stage": "verification", "candidate": candidate.target, "attempt": attempt,
                                  "seconds": round(time.monotonic() - start, 3),
                                  "failed": [c.name for c in V.failures(runtime)]})
            if not V.failures(checks):
                if reviewer is not None:
                    reviews, review_record = V.llm_reviews(work, reviewer, f"review/{name}/{attempt}")
                    record.setdefault("reviews", []).append(review_record)
                else:
                    reviews = V.rule_reviews(work)
                checks += reviews
                record["scores"] = details.get("scores")
                if not V.failures(checks):
                    checks += V.execution_gate(work, details)
        record["attempts"].append({"attempt": attempt, "checks": [c.to_json() for c in checks]})
        failed = V.failures(checks)
        if not failed:
            target = out_dir / name
            shutil.move(str(work.root), str(target))
            shutil.rmtree(work.root.parent, ignore_errors=True)
            record["outcome"] = "accepted"
            (target / "info" / "generation.json").write_text(json.dumps(record, indent=2, default=str))
            from helm_plugins.agents.mle_smith.pools import task_digest

            task = mle_tasks.load_task(target)
            (task.private_dir / "prepared_from.json").write_text(json.dumps({"digest": task_digest(task)}))
            return target
        if work is not None:
            shutil.rmtree(work.root.parent, ignore_errors=True)
        route = failed[0].route
        new_drops = [c for c in _extra_drops(failed) if c not in extra_drop]
        extra_drop += new_drops
        if model is None and not (route == "designer" and new_drops):
            break  # the template stages are deterministic: only a new column to drop can change their output
        if route == "refactor":
            refactor_feedback = V.feedback(checks)
        else:
            design_feedback = V.feedback(checks)
    record["outcome"] = "rejected: " + (V.feedback(checks) if checks else "no usable package")
    log.setdefault("rejected", []).append(record)
    return None


def generate(data: str, out_dir: Path, config: GeneratorConfig, model: Optional[StageModel] = None,
             reviewer: Optional[StageModel] = None, sandbox=None) -> Dict[str, Any]:
    """Tasks from one raw data source into `out_dir`; returns the source's log (also appended to generation.json)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    frame, dataset, source = load_raw(data)
    profile = profile_frame(frame, dataset)
    log: Dict[str, Any] = {"data": data, "dataset": dataset, "rows": len(frame), "stages": [], "accepted": []}
    calls_before = len(model.calls) if model else 0
    review_before = len(reviewer.calls) if reviewer and reviewer is not model else 0
    for candidate in brainstorm(profile, config, model, log):
        if len(log["accepted"]) >= config.max_tasks_per_source:
            break
        path = build_candidate(candidate, profile, frame, source, out_dir, config, model, reviewer, sandbox, log)
        if path is not None:
            log["accepted"].append(path.name)
    calls = (model.calls[calls_before:] if model else []) + (
        reviewer.calls[review_before:] if reviewer and reviewer is not model else [])
    log["cost"] = {"model_calls": len(calls), "prompt_tokens": sum(c["prompt_tokens"] for c in calls),
                   "completion_tokens": sum(c["completion_tokens"] for c in calls),
                   "cost_usd": None if any(c["cost_usd"] is None for c in calls) else
                   round(sum(c["cost_usd"] or 0 for c in calls), 6),
                   "calls": calls}
    log["seconds"] = round(time.monotonic() - start, 3)
    summary = out_dir / "generation.json"
    history = json.loads(summary.read_text()) if summary.is_file() else {"sources": []}
    history["sources"].append(log)
    history["config"] = config.model_dump()
    summary.write_text(json.dumps(history, indent=2, default=str))
    return log


def generate_pool(sources: List[str], out_dir: Path, config: GeneratorConfig, sandbox=None) -> List[Dict[str, Any]]:
    """Every source in turn, with the configured models (none: template mode, rule-based reviews)."""
    model = helm_stage_model(config.model, config.local_path, config.max_tokens) if config.model else None
    review_deployment = config.review_model or config.model
    reviewer = None
    if review_deployment:
        reviewer = model if review_deployment == config.model else helm_stage_model(
            review_deployment, config.local_path, config.max_tokens)
    return [generate(source, out_dir, config, model, reviewer, sandbox) for source in sources]
