"""Solution programs composed from components: how features are prepared, which model family, what size.

The policy chooses the components; `render_program` writes the Python program an ML-engineering agent would write
for the task (pandas + scikit-learn; the constant baseline needs pandas only). Programs really differ in cost: a
constant prediction runs in about a second, a large forest or boosted ensemble takes many times longer. Some
combinations fail the way agents' programs fail: "raw" features hand strings and missing values to the model and
crash in training.

    program = render_program(components, TaskIO.from_public_dir(public_dir))
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Mapping

import pandas as pd

FEATURES = ["onehot", "numeric", "raw"]
MODELS = ["constant", "linear", "knn", "forest", "boosting", "mlp"]
SIZES = ["small", "large"]
COMPONENTS: Dict[str, List[str]] = {"features": FEATURES, "model": MODELS, "size": SIZES}

# (import line, constructor) per model, kind and size; {seed} is filled in
ESTIMATORS = {
    ("linear", "classification"): ("from sklearn.linear_model import LogisticRegression",
                                   "LogisticRegression(C={C}, max_iter={iters})"),
    ("linear", "regression"): ("from sklearn.linear_model import Ridge", "Ridge(alpha={alpha})"),
    ("knn", "classification"): ("from sklearn.neighbors import KNeighborsClassifier", "KNeighborsClassifier({k})"),
    ("knn", "regression"): ("from sklearn.neighbors import KNeighborsRegressor", "KNeighborsRegressor({k})"),
    ("forest", "classification"): ("from sklearn.ensemble import RandomForestClassifier",
                                   "RandomForestClassifier(n_estimators={trees}, min_samples_leaf=2, random_state=0)"),
    ("forest", "regression"): ("from sklearn.ensemble import RandomForestRegressor",
                               "RandomForestRegressor(n_estimators={trees}, min_samples_leaf=2, random_state=0)"),
    ("boosting", "classification"): ("from sklearn.ensemble import HistGradientBoostingClassifier",
                                     "HistGradientBoostingClassifier(max_iter={rounds}, learning_rate={lr}, "
                                     "early_stopping=False, random_state=0)"),
    ("boosting", "regression"): ("from sklearn.ensemble import HistGradientBoostingRegressor",
                                 "HistGradientBoostingRegressor(max_iter={rounds}, learning_rate={lr}, "
                                 "early_stopping=False, random_state=0)"),
    ("mlp", "classification"): ("from sklearn.neural_network import MLPClassifier",
                                "MLPClassifier(hidden_layer_sizes={hidden}, max_iter={iters}, random_state=0)"),
    ("mlp", "regression"): ("from sklearn.neural_network import MLPRegressor",
                            "MLPRegressor(hidden_layer_sizes={hidden}, max_iter={iters}, random_state=0)"),
}
SIZE_KNOBS = {
    "small": {"C": 1.0, "iters": 100, "alpha": 1.0, "k": 15, "trees": 20, "rounds": 40, "lr": 0.2, "hidden": (32,)},
    "large": {"C": 10.0, "iters": 400, "alpha": 0.1, "k": 5, "trees": 300, "rounds": 400, "lr": 0.05,
              "hidden": (256, 128)},
}
SCALED = {"linear", "knn", "mlp"}  # families that get a StandardScaler in front


@dataclass(frozen=True)
class TaskIO:
    """What a program needs to know about a task's public files (read from them, as an agent would)."""

    public_dir: str
    id_column: str
    targets: tuple
    kind: str  # "classification" or "regression"
    output: str  # "label", "probability" (of the positive class), "class_probabilities", "value"

    @classmethod
    def from_public_dir(cls, public_dir: Path, kind: str = "") -> "TaskIO":
        public_dir = Path(public_dir)
        for name in ("train.csv", "test.csv", "sample_submission.csv"):
            if not (public_dir / name).is_file():
                raise FileNotFoundError(f"task data {public_dir}: no {name} (expected train.csv, test.csv, "
                                        "sample_submission.csv)")
        sample = pd.read_csv(public_dir / "sample_submission.csv", nrows=50)
        train_columns = pd.read_csv(public_dir / "train.csv", nrows=0).columns
        id_column, targets = sample.columns[0], tuple(sample.columns[1:])
        if not targets:
            raise ValueError(f"{public_dir}/sample_submission.csv: needs an id column and at least one target column")
        if len(targets) == 1 and targets[0] in train_columns:
            labels = pd.read_csv(public_dir / "train.csv", usecols=[targets[0]])[targets[0]]
            numeric = pd.api.types.is_numeric_dtype(labels)
            few = labels.nunique() <= max(20, len(labels) // 50)
            inferred = "classification" if (not numeric or (few and (labels.dropna() % 1 == 0).all())) else "regression"
            kind = kind or inferred
            values = sample[targets[0]]
            fractional = pd.api.types.is_float_dtype(values) and values.between(0, 1).all() and (values % 1 != 0).any()
            if kind == "classification":
                output = "probability" if fractional and labels.nunique() == 2 else "label"
            else:
                output = "value"
        else:  # one column per class: probabilities
            kind, output = "classification", "class_probabilities"
        return cls(str(public_dir), id_column, targets, kind, output)


def _features_code(features: str) -> List[str]:
    common = ["features = [c for c in train.columns if c != id_column and c not in targets]"]
    if features == "raw":
        return common + ["X, X_test = train[features], test[features]"]
    if features == "numeric":
        return common + [
            "numeric = [c for c in features if pd.api.types.is_numeric_dtype(train[c])]",
            "X, X_test = train[numeric], test[numeric]",
            "X_test = X_test.fillna(X.median())",
            "X = X.fillna(X.median())",
        ]
    return common + [
        "both = pd.get_dummies(pd.concat([train[features], test[features]]), dummy_na=True).astype(float)",
        "both = both.fillna(both.median())",
        "X, X_test = both.iloc[:len(train)], both.iloc[len(train):]",
    ]


def _target_code(io: TaskIO) -> List[str]:
    if io.output == "class_probabilities":
        return [f"label_column = {_label_column(io)!r}", "y = train[label_column]"]
    return ["y = train[targets[0]]"]


def _label_column(io: TaskIO) -> str:
    """For class-probability submissions the training file names the label column; the first non-feature guess."""
    columns = pd.read_csv(Path(io.public_dir) / "train.csv", nrows=0).columns
    test_columns = set(pd.read_csv(Path(io.public_dir) / "test.csv", nrows=0).columns)
    extra = [c for c in columns if c not in test_columns]
    if not extra:
        raise ValueError(f"{io.public_dir}: train.csv has no column that test.csv lacks (no label column)")
    return extra[0]


def _predict_code(io: TaskIO, constant: bool) -> List[str]:
    lines = ["submission = pd.DataFrame({id_column: test[id_column]})"]
    if constant:
        if io.output == "value":
            return lines + ["submission[targets[0]] = float(y.mean())", "submission.to_csv('submission.csv', index=False)"]
        if io.output == "label":
            return lines + ["submission[targets[0]] = y.mode().iloc[0]", "submission.to_csv('submission.csv', index=False)"]
        if io.output == "probability":
            return lines + ["submission[targets[0]] = float((y == sorted(y.unique())[-1]).mean())",
                            "submission.to_csv('submission.csv', index=False)"]
        return lines + ["shares = y.value_counts(normalize=True)",
                        "for column in targets:",
                        "    submission[column] = float(shares.get(type(y.iloc[0])(column), shares.get(column, 0.0)))",
                        "submission.to_csv('submission.csv', index=False)"]
    if io.output in ("label", "value"):
        return lines + ["submission[targets[0]] = model.predict(X_test)", "submission.to_csv('submission.csv', index=False)"]
    if io.output == "probability":
        return lines + ["submission[targets[0]] = model.predict_proba(X_test)[:, -1]",
                        "submission.to_csv('submission.csv', index=False)"]
    return lines + ["probabilities = model.predict_proba(X_test)",
                    "for index, label in enumerate(model.classes_):",
                    "    submission[str(label)] = probabilities[:, index]",
                    "submission = submission[[id_column] + list(targets)]",
                    "submission.to_csv('submission.csv', index=False)"]


def render_program(components: Mapping[str, str], io: TaskIO) -> str:
    """The solution program for these components (every head of COMPONENTS named)."""
    missing = [h for h in COMPONENTS if h not in components]
    unknown = {h: v for h, v in components.items() if h in COMPONENTS and v not in COMPONENTS[h]}
    if missing or unknown:
        raise ValueError(f"program components: missing {missing}, unknown values {unknown} (options: "
                         f"{json.dumps(COMPONENTS)})")
    model = components["model"]
    constant = model == "constant"
    lines = ["import pandas as pd"]
    if not constant:
        import_line, constructor = ESTIMATORS[(model, io.kind)]
        lines.append(import_line)
        if model in SCALED:
            lines += ["from sklearn.pipeline import make_pipeline", "from sklearn.preprocessing import StandardScaler"]
    lines += [
        "",
        f"DATA = {io.public_dir!r}",
        "train = pd.read_csv(DATA + '/train.csv')",
        "test = pd.read_csv(DATA + '/test.csv')",
        "sample = pd.read_csv(DATA + '/sample_submission.csv')",
        "id_column, targets = sample.columns[0], list(sample.columns[1:])",
    ]
    lines += _target_code(io)
    if io.output == "class_probabilities":
        lines.append("targets = [c for c in targets]")
    lines += _features_code(components["features"]) if not constant else []
    if not constant:
        built = constructor.format(**SIZE_KNOBS[components["size"]])
        lines.append(f"model = make_pipeline(StandardScaler(), {built})" if model in SCALED else f"model = {built}")
        lines.append("model.fit(X, y)")
    else:
        lines.append("print('constant prediction from', len(y), 'training rows')")
    lines += _predict_code(io, constant)
    return "\n".join(lines) + "\n"


def program_key(components: Mapping[str, str]) -> str:
    """A stable name for a component choice ("onehot/forest/large")."""
    return "/".join(components[h] for h in COMPONENTS)
