"""Machine-learning engineering tasks in MLE-Dojo's layout: load, prepare, solve and score them in the sandbox.

A task is a folder:

    <task>/
      info/description.txt      what to predict, the files, the metric, the submission format (shown to agents)
      info/task.json            TaskInfo: name, id_column, target_columns, task_type, modality, metric,
                                higher_is_better, raw_source, origin (fields validated by pydantic)
      utils/prepare.py          def prepare(raw: Path, public: Path, private: Path) -> None
      utils/metric.py           one subclass of CompetitionMetrics with evaluate(y_true, y_pred) -> float
                                (and optionally its own validate_submission)
      raw/                      the raw data (written from info/task.json's raw_source when absent)
      public/                   after prepare: train.csv, test.csv, sample_submission.csv (what an agent sees)
      private/                  after prepare: test_answer.csv (never shown to an agent), reference_scores.json

The metric module imports its base class from this module:

    from helm_plugins.common.mle_tasks import CompetitionMetrics, InvalidSubmissionError

    class IrisMetrics(CompetitionMetrics):
        id_column, target_columns, value_kind = "id", ["species"], "label"
        def __init__(self):
            super().__init__(higher_is_better=True)
        def evaluate(self, y_true, y_pred):
            y_true, y_pred = self.align(y_true, y_pred)
            return float((y_true["species"].astype(str) == y_pred["species"].astype(str)).mean())

API (stable; additions only):

    tasks = load_tasks(HUMAN_POOL)                   # the hand-designed pool shipped with the package
    tasks = load_tasks(folder)                       # every sub-folder with info/task.json, sorted by name
    task = load_task(path)                           # one task; TaskFormatError names the file and field
    work = copy_task(task, dest)                     # a writable copy (the shipped pools are read-only)
    ensure_raw(work)                                 # raw/ from raw_source ("sklearn:load_iris", "synthetic:...")
    prep = prepare_task(work, sandbox)               # runs prepare.py in the sandbox -> PrepareResult
    run = run_solution(work, program_text, dir, sandbox)    # a program over public/ only -> SolutionResult
    scores = score_submissions(work, {"a": path}, sandbox)  # validate + evaluate in the sandbox -> SubmissionScore
    refs = reference_scores(work, sandbox)           # constant and gradient-boosting ladder scores (cached)
    ladder_program(task.info, "constant"|"linear"|"gbm")    # the sklearn ladder's solution programs (text)
    normalise(raw, refs)                             # (s - s_const) / (s_gbm - s_const); higher is better

Submission validation (CompetitionMetrics.validate_submission) raises InvalidSubmissionError naming the problem:
wrong number of rows, missing or extra columns, duplicate / missing / unknown ids, missing values (NaN),
non-numeric or out-of-range numbers. Every program the task or an agent provides (prepare.py, metric.py, a
solution) runs in `helm_plugins.common.sandbox` (no network, time and memory limits, one writable directory);
the sandbox sees this package read-only so a metric can import its base class.
"""

import json
import math
import os
import shutil
import sys
import tempfile
import textwrap
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Literal, Mapping, Optional, Sequence

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field, ValidationError, model_validator

from helm_plugins.common.sandbox import Sandbox, SandboxLimits, SandboxResult

PUBLIC_FILES = ("train.csv", "test.csv", "sample_submission.csv")
PRIVATE_FILES = ("test_answer.csv",)
LADDER = ("constant", "linear", "gbm")
TASK_TYPES = ("classification", "regression", "probability")
HUMAN_POOL = Path(__file__).parent / "mle_task_pool"  # the hand-designed tasks shipped with the package
PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])  # the folder holding helm_plugins/
SANDBOX_ENV = {"PYTHONPATH": PACKAGE_PARENT, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
               "OPENBLAS_NUM_THREADS": "1", "JOBLIB_MULTIPROCESSING": "0", "PYTHONWARNINGS": "ignore"}


class TaskFormatError(ValueError):
    """A task folder does not follow the layout; the message names the file and the field."""


class InvalidSubmissionError(ValueError):
    """A submission cannot be scored (wrong rows, ids, columns or values); the message says which."""


# ------------------------------------------------------------------------------------------------ metric base

class CompetitionMetrics:
    """Base of a task's metric (MLE-Dojo's interface). Subclasses set the class attributes and `evaluate`.

    id_column: the submission's id column; target_columns: the predicted columns; value_kind: "label" (any
    value), "number" (finite numbers) or "probability" (numbers in [0, 1]).
    """

    id_column: str = "id"
    target_columns: Sequence[str] = ()
    value_kind: str = "label"

    def __init__(self, higher_is_better: bool = True):
        self.higher_is_better = bool(higher_is_better)

    def evaluate(self, y_true: pd.DataFrame, y_pred: pd.DataFrame) -> float:
        raise NotImplementedError

    def align(self, y_true: pd.DataFrame, y_pred: pd.DataFrame):
        """Both frames sorted by id, with a fresh index (rows then correspond)."""
        key = self.id_column
        y_true = y_true.assign(**{key: y_true[key].astype(str)}).sort_values(key).reset_index(drop=True)
        y_pred = y_pred.assign(**{key: y_pred[key].astype(str)}).sort_values(key).reset_index(drop=True)
        return y_true, y_pred

    def validate_submission(self, submission: Any, ground_truth: Any) -> str:
        """Raise InvalidSubmissionError with the reason, or return "Submission is valid."."""
        if not isinstance(submission, pd.DataFrame):
            raise InvalidSubmissionError(f"the submission must be a table (DataFrame), got {type(submission).__name__}")
        key = self.id_column
        expected = [key] + [c for c in (self.target_columns or [c for c in ground_truth.columns if c != key])]
        missing = [c for c in expected if c not in submission.columns]
        extra = [c for c in submission.columns if c not in expected]
        if missing:
            raise InvalidSubmissionError(f"missing column(s) {missing}; expected exactly {expected}")
        if extra:
            raise InvalidSubmissionError(f"unexpected column(s) {extra}; expected exactly {expected}")
        if len(submission) != len(ground_truth):
            raise InvalidSubmissionError(f"the submission has {len(submission)} rows, expected {len(ground_truth)} "
                                         "(one per test row)")
        ids = submission[key].astype(str)
        duplicated = sorted(set(ids[ids.duplicated()]))
        if duplicated:
            raise InvalidSubmissionError(f"duplicate id(s) in column {key!r}: {_few(duplicated)}")
        truth = set(ground_truth[key].astype(str))
        absent, unknown = sorted(truth - set(ids)), sorted(set(ids) - truth)
        if absent:
            raise InvalidSubmissionError(f"{len(absent)} test id(s) missing from column {key!r}: {_few(absent)}")
        if unknown:
            raise InvalidSubmissionError(f"{len(unknown)} unknown id(s) in column {key!r}: {_few(unknown)}")
        for column in expected[1:]:
            values = submission[column]
            bad = values.isna()
            if bad.any():
                raise InvalidSubmissionError(f"column {column!r} has {int(bad.sum())} missing value(s) (NaN), first "
                                             f"at row(s) {_few(list(np.flatnonzero(bad.to_numpy())))}")
            if self.value_kind in ("number", "probability"):
                numbers = pd.to_numeric(values, errors="coerce")
                bad = numbers.isna() | ~np.isfinite(numbers.to_numpy(dtype=float, na_value=np.nan))
                if bad.any():
                    raise InvalidSubmissionError(f"column {column!r} must hold finite numbers; {int(bad.sum())} "
                                                 f"value(s) are not, e.g. {values[bad].iloc[0]!r}")
                if self.value_kind == "probability" and ((numbers < 0) | (numbers > 1)).any():
                    raise InvalidSubmissionError(f"column {column!r} holds probabilities, which must be in [0, 1]")
        return "Submission is valid."


def _few(items: Sequence[Any], n: int = 5) -> str:
    items = list(items)
    return ", ".join(map(str, items[:n])) + (f" (and {len(items) - n} more)" if len(items) > n else "")


# ------------------------------------------------------------------------------------------------ task layout

class TaskInfo(BaseModel):
    """info/task.json."""

    name: str = Field(min_length=1)
    id_column: str = "id"
    target_columns: List[str] = Field(min_length=1)
    task_type: Literal["classification", "regression", "probability"]
    modality: Literal["tabular", "text"] = "tabular"
    text_column: Optional[str] = None  # the text feature of a text task
    positive_label: Optional[str] = None  # a probability task's positive class (default: the last label sorted)
    metric: str = Field(min_length=1)  # the metric's name for people, e.g. "accuracy", "RMSE"
    higher_is_better: bool
    raw_source: Optional[str] = None  # "sklearn:<load_function>" or "synthetic:<generator>[?seed=N]"
    origin: Literal["human", "generated"] = "human"
    notes: Dict[str, Any] = Field(default_factory=dict)  # free metadata (generation stages, data set, ...)

    @model_validator(mode="after")
    def _consistent(self):
        if self.modality == "text" and not self.text_column:
            raise ValueError("a text task needs text_column")
        if self.id_column in self.target_columns:
            raise ValueError(f"id_column {self.id_column!r} is also a target column")
        return self


@dataclass
class MLETask:
    root: Path
    info: TaskInfo
    description: str

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def raw_dir(self) -> Path:
        return self.root / "raw"

    @property
    def public_dir(self) -> Path:
        return self.root / "public"

    @property
    def private_dir(self) -> Path:
        return self.root / "private"

    @property
    def prepare_path(self) -> Path:
        return self.root / "utils" / "prepare.py"

    @property
    def metric_path(self) -> Path:
        return self.root / "utils" / "metric.py"

    @property
    def answers_path(self) -> Path:
        return self.private_dir / "test_answer.csv"

    @property
    def prepared(self) -> bool:
        return all((self.public_dir / f).is_file() for f in PUBLIC_FILES) and self.answers_path.is_file()


def load_task(path: Path) -> MLETask:
    """Read and check one task folder."""
    root = Path(path)
    info_path, description_path = root / "info" / "task.json", root / "info" / "description.txt"
    for required in (info_path, description_path, root / "utils" / "prepare.py", root / "utils" / "metric.py"):
        if not required.is_file():
            raise TaskFormatError(f"task {root}: missing file {required.relative_to(root)}")
    try:
        data = json.loads(info_path.read_text())
    except json.JSONDecodeError as e:
        raise TaskFormatError(f"{info_path}: line {e.lineno}: not valid JSON ({e.msg})") from None
    try:
        info = TaskInfo.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        field_name = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise TaskFormatError(f"{info_path}: field {field_name!r}: {first['msg']}") from None
    description = description_path.read_text().strip()
    if not description:
        raise TaskFormatError(f"{description_path}: the description is empty")
    return MLETask(root.resolve(), info, description)


def load_tasks(folder: Path) -> List[MLETask]:
    """Every task (a sub-folder with info/task.json) under `folder`, sorted by name; names must be unique."""
    folder = Path(folder)
    if not folder.is_dir():
        raise TaskFormatError(f"task folder {folder} does not exist")
    tasks = [load_task(p.parent.parent) for p in sorted(folder.glob("*/info/task.json"))]
    names = [t.name for t in tasks]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise TaskFormatError(f"task folder {folder}: duplicate task name(s) {duplicated}")
    return sorted(tasks, key=lambda t: t.name)


def copy_task(task: MLETask, dest: Path, include_prepared: bool = True) -> MLETask:
    """Copy the task to `dest` (created; must not exist) and load the copy."""
    dest = Path(dest)
    ignore = None if include_prepared else shutil.ignore_patterns("public", "private")
    shutil.copytree(task.root, dest, ignore=ignore)
    return load_task(dest)


def write_task(root: Path, info: TaskInfo, description: str, prepare_source: str, metric_source: str) -> MLETask:
    """Write a task folder from its parts (the generator's and the tests' way to make tasks)."""
    root = Path(root)
    (root / "info").mkdir(parents=True, exist_ok=True)
    (root / "utils").mkdir(parents=True, exist_ok=True)
    (root / "info" / "task.json").write_text(json.dumps(info.model_dump(), indent=2) + "\n")
    (root / "info" / "description.txt").write_text(description.strip() + "\n")
    (root / "utils" / "prepare.py").write_text(prepare_source)
    (root / "utils" / "metric.py").write_text(metric_source)
    return load_task(root)


# ------------------------------------------------------------------------------------------------ raw data

def raw_frame(source: str) -> pd.DataFrame:
    """The raw table named by a raw_source: "sklearn:load_iris" (bundled, never downloaded) or
    "synthetic:<name>[?seed=N]" (helm_plugins.common.mle_tasks.SYNTHETIC)."""
    kind, _, rest = source.partition(":")
    name, _, query = rest.partition("?")
    params = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
    if kind == "sklearn":
        import sklearn.datasets

        loader = getattr(sklearn.datasets, name, None)
        if loader is None or not name.startswith("load_") or name in ("load_files", "load_svmlight_file",
                                                                       "load_svmlight_files", "load_sample_image",
                                                                       "load_sample_images"):
            raise TaskFormatError(f"raw_source {source!r}: not a bundled scikit-learn table loader (load_iris, ...)")
        bunch = loader(as_frame=True)
        frame = bunch.frame.copy()
        names = getattr(bunch, "target_names", None)
        if "target" in frame and names is not None and len(names) and frame["target"].dtype.kind in "iu":
            frame["target"] = [str(names[i]) for i in frame["target"]]
        return frame
    if kind == "synthetic":
        if name not in SYNTHETIC:
            raise TaskFormatError(f"raw_source {source!r}: unknown generator; known: {', '.join(sorted(SYNTHETIC))}")
        return SYNTHETIC[name](int(params.get("seed", 0)))
    raise TaskFormatError(f"raw_source {source!r}: use sklearn:<load_function> or synthetic:<generator>")


def ensure_raw(task: MLETask) -> Path:
    """raw/data.csv from the task's raw_source unless raw/ already holds files; returns raw/."""
    if task.raw_dir.is_dir() and any(task.raw_dir.iterdir()):
        return task.raw_dir
    if not task.info.raw_source:
        raise TaskFormatError(f"task {task.name}: raw/ is empty and info/task.json has no raw_source")
    task.raw_dir.mkdir(parents=True, exist_ok=True)
    raw_frame(task.info.raw_source).to_csv(task.raw_dir / "data.csv", index=False)
    return task.raw_dir


def _synthetic_churn(seed: int) -> pd.DataFrame:
    """Customers with a churn label driven non-linearly by tenure, charges and support calls."""
    rng = np.random.default_rng(seed)
    n = 900
    tenure = rng.integers(1, 72, n)
    charges = rng.normal(70, 25, n).clip(15, 150).round(2)
    calls = rng.poisson(1.5, n)
    contract = rng.choice(["monthly", "yearly", "two-year"], n, p=[0.55, 0.3, 0.15])
    logit = -1.0 - 0.05 * tenure + 0.02 * (charges - 70) + 0.6 * (calls >= 3) + 1.2 * (contract == "monthly")
    churn = rng.random(n) < 1 / (1 + np.exp(-logit))
    return pd.DataFrame({"tenure_months": tenure, "monthly_charges": charges, "support_calls": calls,
                         "contract": contract, "churned": np.where(churn, "yes", "no")})


def _synthetic_housing(seed: int) -> pd.DataFrame:
    """Houses with a price from size, rooms, age and an interaction with the district."""
    rng = np.random.default_rng(seed)
    n = 800
    area = rng.normal(120, 40, n).clip(30, 300).round(1)
    rooms = np.maximum(1, (area / 30 + rng.normal(0, 0.8, n)).round()).astype(int)
    age = rng.integers(0, 80, n)
    district = rng.choice(["north", "centre", "south"], n)
    premium = np.select([district == "centre", district == "north"], [1.4, 1.1], 1.0)
    price = (1500 * area * premium - 300 * age * (age > 40) + 4000 * rooms + rng.normal(0, 15000, n)).round(-2)
    return pd.DataFrame({"area_m2": area, "rooms": rooms, "age_years": age, "district": district, "price": price})


def _synthetic_reviews(seed: int) -> pd.DataFrame:
    """Short product reviews whose sentiment follows the words they contain."""
    rng = np.random.default_rng(seed)
    good = ["great", "excellent", "love", "sturdy", "fast", "perfect", "recommend", "happy", "works"]
    bad = ["broken", "slow", "refund", "poor", "disappointed", "cheap", "returned", "awful", "stopped"]
    neutral = ["the", "product", "arrived", "box", "it", "color", "size", "with", "was", "and", "after", "week",
               "battery", "cable", "manual", "price"]
    rows = []
    for _ in range(700):
        positive = rng.random() < 0.5
        words = list(rng.choice(neutral, rng.integers(5, 10)))
        k = rng.integers(1, 4)
        words += list(rng.choice(good if positive else bad, k))
        if rng.random() < 0.3:  # a word of the other side makes it harder
            words += [str(rng.choice(bad if positive else good))]
        rng.shuffle(words)
        rows.append({"review": " ".join(words), "stars": int(rng.integers(4, 6) if positive else rng.integers(1, 3)),
                     "sentiment": "positive" if positive else "negative"})
    return pd.DataFrame(rows)


SYNTHETIC = {"churn": _synthetic_churn, "housing": _synthetic_housing, "reviews": _synthetic_reviews}


# ------------------------------------------------------------------------------------------------ sandbox runs

DEFAULT_LIMITS = SandboxLimits(timeout_s=120, memory_mb=3072, max_file_mb=256)


def make_sandbox(mode: str = "auto") -> Sandbox:
    """A sandbox that can import this package read-only (metrics import their base class from it)."""
    return Sandbox(mode=mode, extra_read_only=(PACKAGE_PARENT,))


def _run(sandbox: Optional[Sandbox], argv: List[str], workdir: Path, limits: Optional[SandboxLimits]) -> SandboxResult:
    sandbox = sandbox or make_sandbox()
    if PACKAGE_PARENT not in [os.path.realpath(p) for p in sandbox.extra_read_only]:
        sandbox = Sandbox(mode=sandbox.mode, extra_read_only=tuple(sandbox.extra_read_only) + (PACKAGE_PARENT,))
    return sandbox.run(argv, workdir, limits or DEFAULT_LIMITS, env=SANDBOX_ENV)


@dataclass
class PrepareResult:
    ok: bool
    reason: str  # "" when ok
    stdout: str = ""
    stderr: str = ""
    wall_s: float = 0.0


PREPARE_RUNNER = """
import importlib.util, sys
from pathlib import Path
spec = importlib.util.spec_from_file_location("prepare", "prepare.py")
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
if not hasattr(module, "prepare"):
    sys.exit("prepare.py defines no function prepare(raw, public, private)")
for d in ("public", "private"):
    Path(d).mkdir(exist_ok=True)
module.prepare(Path("raw"), Path("public"), Path("private"))
"""


def prepare_task(task: MLETask, sandbox: Optional[Sandbox] = None, limits: Optional[SandboxLimits] = None) -> PrepareResult:
    """Run utils/prepare.py in the sandbox on raw/ and put its public/ and private/ into the task folder.

    The sandbox sees a copy of raw/ and prepare.py only. Fails (ok=False, reason) when prepare crashes or does
    not write train.csv, test.csv, sample_submission.csv and test_answer.csv.
    """
    ensure_raw(task)
    with tempfile.TemporaryDirectory(prefix="mle_prepare_") as tmp:
        work = Path(tmp)
        shutil.copytree(task.raw_dir, work / "raw")
        shutil.copy(task.prepare_path, work / "prepare.py")
        (work / "run_prepare.py").write_text(PREPARE_RUNNER)
        result = _run(sandbox, [sys.executable, "run_prepare.py"], work, limits)
        if not result.ok:
            tail = result.stderr.strip().splitlines()[-1:] or [""]
            return PrepareResult(False, f"prepare.py failed ({result.reason}): {tail[0]}", result.stdout,
                                 result.stderr, result.wall_s)
        missing = [f"public/{f}" for f in PUBLIC_FILES if not (work / "public" / f).is_file()]
        missing += [f"private/{f}" for f in PRIVATE_FILES if not (work / "private" / f).is_file()]
        if missing:
            return PrepareResult(False, f"prepare.py did not write {', '.join(missing)}", result.stdout,
                                 result.stderr, result.wall_s)
        for name in ("public", "private"):
            shutil.rmtree(task.root / name, ignore_errors=True)
            shutil.copytree(work / name, task.root / name)
    (task.private_dir / "reference_scores.json").unlink(missing_ok=True)
    return PrepareResult(True, "", result.stdout, result.stderr, result.wall_s)


@dataclass
class SolutionResult:
    ok: bool  # the program exited normally and wrote submission.csv
    reason: str
    submission_path: Optional[Path]
    stdout: str = ""
    stderr: str = ""
    wall_s: float = 0.0


def solution_workdir(task: MLETask, workdir: Path) -> Path:
    """`workdir` with what a solver may see: public/*.csv, description.txt and task.json (no answers)."""
    if not task.prepared:
        raise TaskFormatError(f"task {task.name} is not prepared: run prepare_task first")
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    for name in PUBLIC_FILES:
        shutil.copy(task.public_dir / name, workdir / name)
    shutil.copy(task.root / "info" / "description.txt", workdir / "description.txt")
    public_info = task.info.model_dump(include={"name", "id_column", "target_columns", "task_type", "modality",
                                                "text_column", "positive_label", "metric",
                                                "higher_is_better"})
    (workdir / "task.json").write_text(json.dumps(public_info, indent=2))
    return workdir


def run_solution(task: MLETask, program: str, workdir: Path, sandbox: Optional[Sandbox] = None,
                 limits: Optional[SandboxLimits] = None, output: str = "submission.csv") -> SolutionResult:
    """Run a solution program (Python source) in the sandbox over the public files; it must write `output`."""
    workdir = solution_workdir(task, workdir)
    (workdir / "solution.py").write_text(program)
    submission = workdir / output
    submission.unlink(missing_ok=True)
    result = _run(sandbox, [sys.executable, "solution.py"], workdir, limits)
    if not result.ok:
        tail = result.stderr.strip().splitlines()[-1:] or [""]
        return SolutionResult(False, f"solution failed ({result.reason}): {tail[0]}", None, result.stdout,
                              result.stderr, result.wall_s)
    if not submission.is_file():
        return SolutionResult(False, f"solution did not write {output}", None, result.stdout, result.stderr,
                              result.wall_s)
    return SolutionResult(True, "", submission, result.stdout, result.stderr, result.wall_s)


# ------------------------------------------------------------------------------------------------ scoring

@dataclass
class SubmissionScore:
    valid: bool
    raw_score: Optional[float]  # the metric's value in its own orientation (None when invalid)
    normalized: Optional[float] = None  # (s - s_const) / (s_gbm - s_const); None without references
    error: str = ""  # why the submission is invalid, or "metric error: ..." when the metric itself failed
    higher_is_better: bool = True

    @property
    def metric_failed(self) -> bool:
        return self.error.startswith("metric error")

    def to_json(self) -> Dict[str, Any]:
        return asdict(self)


SCORE_RUNNER = """
import importlib.util, inspect, json, math, sys, traceback
import pandas as pd
from helm_plugins.common.mle_tasks import CompetitionMetrics, InvalidSubmissionError

def load_metric():
    spec = importlib.util.spec_from_file_location("task_metric", "metric.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    classes = [c for c in vars(module).values() if inspect.isclass(c) and issubclass(c, CompetitionMetrics)
               and c is not CompetitionMetrics and c.__module__ == "task_metric"]
    if len(classes) != 1:
        raise TypeError(f"metric.py must define exactly one CompetitionMetrics subclass, found {len(classes)}")
    return classes[0]()

out = {}
try:
    metric = load_metric()
    answers = pd.read_csv("answers.csv")
except Exception as e:
    json.dump({"__metric__": {"error": "metric error: " + f"{type(e).__name__}: {e}"}}, open("scores.json", "w"))
    sys.exit(0)
for name in json.load(open("names.json")):
    try:
        submission = pd.read_csv(f"submissions/{name}.csv")
    except Exception as e:
        out[name] = {"valid": False, "error": f"unreadable CSV: {type(e).__name__}: {e}"}
        continue
    try:
        metric.validate_submission(submission, answers)
    except InvalidSubmissionError as e:
        out[name] = {"valid": False, "error": str(e)}
        continue
    except Exception as e:
        out[name] = {"valid": False, "error": f"metric error: validate_submission raised {type(e).__name__}: {e}"}
        continue
    try:
        value = float(metric.evaluate(answers.copy(), submission.copy()))
    except InvalidSubmissionError as e:
        out[name] = {"valid": False, "error": str(e)}
        continue
    except Exception as e:
        out[name] = {"valid": False, "error": f"metric error: evaluate raised {type(e).__name__}: {e}"}
        continue
    if not math.isfinite(value):
        out[name] = {"valid": False, "error": f"metric error: evaluate returned a non-finite value ({value})"}
        continue
    out[name] = {"valid": True, "raw_score": value}
out["__metric__"] = {"higher_is_better": bool(metric.higher_is_better)}
json.dump(out, open("scores.json", "w"))
"""


def score_submissions(task: MLETask, submissions: Mapping[str, Path], sandbox: Optional[Sandbox] = None,
                      limits: Optional[SandboxLimits] = None, references: Optional["ReferenceScores"] = None,
                      answers_path: Optional[Path] = None) -> Dict[str, SubmissionScore]:
    """Validate and score submissions (name -> CSV path) with the task's metric, all in one sandboxed process.

    A missing file or an invalid submission is scored invalid with the reason; a failing metric gives
    "metric error: ..." for every submission. `references` adds the normalised score. `answers_path` (default
    private/test_answer.csv) lets a verifier score against other answers (e.g. shuffled ones).
    """
    if not task.prepared:
        raise TaskFormatError(f"task {task.name} is not prepared: run prepare_task first")
    results: Dict[str, SubmissionScore] = {}
    names: List[str] = []
    with tempfile.TemporaryDirectory(prefix="mle_score_") as tmp:
        work = Path(tmp)
        (work / "submissions").mkdir()
        for i, (name, path) in enumerate(submissions.items()):
            if path is None or not Path(path).is_file():
                results[name] = SubmissionScore(False, None, error="no submission file",
                                                higher_is_better=task.info.higher_is_better)
                continue
            shutil.copy(path, work / "submissions" / f"s{i}.csv")
            names.append(f"s{i}")
        keys = {f"s{i}": name for i, name in enumerate(submissions)}
        if names:
            shutil.copy(task.metric_path, work / "metric.py")
            shutil.copy(answers_path or task.answers_path, work / "answers.csv")
            (work / "names.json").write_text(json.dumps(names))
            (work / "score.py").write_text(SCORE_RUNNER)
            run = _run(sandbox, [sys.executable, "score.py"], work, limits)
            try:
                scores = json.loads((work / "scores.json").read_text())
            except (OSError, json.JSONDecodeError):
                tail = (run.stderr.strip().splitlines() or [""])[-1]
                scores = {"__metric__": {"error": f"metric error: the scorer did not finish ({run.reason}): {tail}"}}
            meta = scores.pop("__metric__", {})
            higher = bool(meta.get("higher_is_better", task.info.higher_is_better))
            if "error" not in meta and higher != task.info.higher_is_better:
                meta["error"] = (f"metric error: metric.py says higher_is_better={higher} but info/task.json says "
                                 f"{task.info.higher_is_better}")
            for short in names:
                entry = {"valid": False, "error": meta["error"]} if "error" in meta else scores.get(
                    short, {"valid": False, "error": "metric error: no score returned"})
                score = SubmissionScore(bool(entry.get("valid")), entry.get("raw_score"), None,
                                        entry.get("error", ""), task.info.higher_is_better)
                if references is not None and score.valid:
                    score.normalized = normalise(score.raw_score, references)
                results[keys[short]] = score
    return {name: results[name] for name in submissions}


def score_submission(task: MLETask, submission: Path, sandbox: Optional[Sandbox] = None,
                     references: Optional["ReferenceScores"] = None) -> SubmissionScore:
    return score_submissions(task, {"submission": submission}, sandbox, references=references)["submission"]


@dataclass
class ReferenceScores:
    constant: float  # raw score of the constant baseline (most frequent class / mean / class prior)
    gbm: float  # raw score of the gradient-boosting reference
    higher_is_better: bool
    ladder: Dict[str, Optional[float]] = field(default_factory=dict)  # every rung's raw score (None: invalid)
    errors: Dict[str, str] = field(default_factory=dict)

    @property
    def usable(self) -> bool:
        """The reference beats the constant baseline, so the normalisation is defined."""
        gap = self.gbm - self.constant
        return math.isfinite(gap) and (gap > 0 if self.higher_is_better else gap < 0)


def normalise(raw: float, references: ReferenceScores) -> Optional[float]:
    """(s - s_const) / (s_gbm - s_const): 0 = constant baseline, 1 = gradient-boosting reference, higher is better
    in either orientation. None when the references do not separate."""
    if raw is None or not references.usable:
        return None
    return float((raw - references.constant) / (references.gbm - references.constant))


def oriented(raw: Optional[float], higher_is_better: bool) -> float:
    """A score where higher is better (-inf for an invalid submission), for ranking."""
    if raw is None:
        return -math.inf
    return raw if higher_is_better else -raw


def run_ladder(task: MLETask, workdir: Path, sandbox: Optional[Sandbox] = None,
               limits: Optional[SandboxLimits] = None, rungs: Sequence[str] = LADDER):
    """Run the sklearn ladder (one sandboxed program fits every rung) and score its submissions.

    -> (SolutionResult of the program, {rung: SubmissionScore}); a rung without a file is invalid with the reason."""
    plan = [(rung, f"submission_{rung}.csv") for rung in rungs]
    run = run_solution(task, ladder_programs(task.info, plan), Path(workdir), sandbox, limits, output=plan[-1][1])
    files = {rung: Path(workdir) / output for rung, output in plan}
    scores = score_submissions(task, {r: (p if p.is_file() else None) for r, p in files.items()}, sandbox, limits)
    for rung in rungs:
        if not files[rung].is_file() and not run.ok:
            scores[rung].error = run.reason
    return run, scores


def reference_scores(task: MLETask, sandbox: Optional[Sandbox] = None, limits: Optional[SandboxLimits] = None,
                     refresh: bool = False) -> ReferenceScores:
    """The constant and gradient-boosting scores of the task (cached in private/reference_scores.json)."""
    cache = task.private_dir / "reference_scores.json"
    if cache.is_file() and not refresh:
        return ReferenceScores(**json.loads(cache.read_text()))
    with tempfile.TemporaryDirectory(prefix="mle_ladder_") as tmp:
        _, scores = run_ladder(task, Path(tmp), sandbox, limits)
    refs = ReferenceScores(
        constant=scores["constant"].raw_score if scores["constant"].valid else math.nan,
        gbm=scores["gbm"].raw_score if scores["gbm"].valid else math.nan,
        higher_is_better=task.info.higher_is_better,
        ladder={r: s.raw_score for r, s in scores.items()},
        errors={r: s.error for r, s in scores.items() if s.error},
    )
    cache.write_text(json.dumps(asdict(refs), indent=2))
    return refs


# ------------------------------------------------------------------------------------------------ the sklearn ladder

LADDER_PROGRAM = '''
"""The sklearn ladder ({rungs}): reads the public files, writes {outputs}."""
import json
import numpy as np
import pandas as pd

info = json.load(open("task.json"))
train, test = pd.read_csv("train.csv"), pd.read_csv("test.csv")
sample = pd.read_csv("sample_submission.csv")
key, targets, kind = info["id_column"], info["target_columns"], info["task_type"]
features = [c for c in test.columns if c != key and c in train.columns]


def design(frames):
    if info["modality"] == "text":
        from sklearn.feature_extraction.text import TfidfVectorizer
        vectorizer = TfidfVectorizer(max_features=400, min_df=2)
        vectorizer.fit(frames[0][info["text_column"]].astype(str))
        return [vectorizer.transform(f[info["text_column"]].astype(str)).toarray() for f in frames]
    both = pd.concat([f[features] for f in frames], keys=range(len(frames)))
    both = pd.get_dummies(both, dummy_na=False).astype(float)
    both = both.fillna(both.mean()).fillna(0.0)
    return [both.xs(i).to_numpy() for i in range(len(frames))]


def model_for(rung):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    if kind == "regression":
        from sklearn.dummy import DummyRegressor
        from sklearn.ensemble import HistGradientBoostingRegressor
        from sklearn.linear_model import Ridge
        return {{"constant": lambda: DummyRegressor(strategy="mean"),
                "linear": lambda: make_pipeline(StandardScaler(), Ridge(alpha=1.0)),
                "gbm": lambda: HistGradientBoostingRegressor(max_iter=150, random_state=0)}}[rung]()
    from sklearn.dummy import DummyClassifier
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    return {{"constant": lambda: DummyClassifier(strategy="prior"),
            "linear": lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)),
            "gbm": lambda: HistGradientBoostingClassifier(max_iter=150, random_state=0)}}[rung]()


X_train, X_test = design([train, test])
for rung, output in {plan!r}:
    submission = pd.DataFrame({{key: test[key]}})
    for target in targets:
        model = model_for(rung)
        y = train[target]
        model.fit(X_train, y.astype(float) if kind == "regression" else y)
        if kind == "probability":
            classes = [str(c) for c in model.classes_]
            positive = info.get("positive_label") or sorted(classes)[-1]
            proba = model.predict_proba(X_test)
            submission[target] = proba[:, classes.index(positive)] if positive in classes else 0.0
        else:
            submission[target] = model.predict(X_test)
    submission[list(sample.columns)].to_csv(output, index=False)
    print(rung, "wrote", len(submission), "rows to", output)
'''


def ladder_programs(info: TaskInfo, plan: Sequence[tuple]) -> str:
    """One program that fits several rungs on the same features: plan = [(rung, output CSV name), ...]."""
    plan = [(str(rung), str(output)) for rung, output in plan]
    for rung, _ in plan:
        if rung not in LADDER:
            raise ValueError(f"unknown ladder rung {rung!r}; choose one of {', '.join(LADDER)}")
    return textwrap.dedent(LADDER_PROGRAM.format(rungs=", ".join(r for r, _ in plan),
                                                 outputs=", ".join(o for _, o in plan), plan=plan)).lstrip()


def ladder_program(info: TaskInfo, rung: str, output: str = "submission.csv") -> str:
    """The Python source of one rung of the sklearn ladder (constant, linear, gbm) for this task."""
    return ladder_programs(info, [(rung, output)])
