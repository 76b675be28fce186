"""Solution programs composed from components: how features are prepared, which model family, what size.

The policy chooses the components; `render_program` writes the Python program an ML-engineering agent would write
for the task (pandas + scikit-learn; the constant baseline needs pandas only). Programs really differ in cost: a
constant prediction runs in about a second, a large forest or boosted ensemble takes many times longer. Some
combinations fail the way agents' programs fail: "raw" features hand strings and missing values to the model and
crash in training.

    program = render_program(components, TaskIO.from_info(task.info))
    # the program reads train.csv and test.csv and writes submission.csv
"""

import json
from dataclasses import dataclass
from typing import Dict, List, Mapping

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
    """What a program needs to know about a task (its public task.json): id column, target, kind of output."""

    id_column: str
    target: str
    kind: str  # "classification" or "regression" (of the estimator)
    output: str  # "label", "probability" (of the positive class) or "value"
    positive_label: str = ""  # a probability task's positive class ("" = the last label sorted)

    @classmethod
    def from_info(cls, info) -> "TaskIO":
        """From an MLE task's TaskInfo (helm_plugins.common.mle_tasks)."""
        if len(info.target_columns) != 1:
            raise ValueError(f"task {info.name}: the program space covers single-target tasks, this one predicts "
                             f"{info.target_columns}")
        if info.modality != "tabular":
            raise ValueError(f"task {info.name}: the program space covers tabular tasks, this one is {info.modality}")
        kind = "regression" if info.task_type == "regression" else "classification"
        output = {"regression": "value", "classification": "label", "probability": "probability"}[info.task_type]
        return cls(info.id_column, info.target_columns[0], kind, output, info.positive_label or "")


def _features_code(features: str) -> List[str]:
    common = ["features = [c for c in test.columns if c != id_column and c in train.columns]"]
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


def _predict_code(io: TaskIO, constant: bool) -> List[str]:
    lines = ["submission = pd.DataFrame({id_column: test[id_column]})"]
    positive = (f"positive = {io.positive_label!r}" if io.positive_label
                else "positive = sorted(y.astype(str).unique())[-1]")
    if constant:
        if io.output == "value":
            lines.append("submission[target] = float(y.mean())")
        elif io.output == "label":
            lines.append("submission[target] = y.mode().iloc[0]")
        else:
            lines += [positive, "submission[target] = float((y.astype(str) == positive).mean())"]
    elif io.output == "probability":
        lines += [positive, "classes = [str(c) for c in model.classes_]",
                  "submission[target] = model.predict_proba(X_test)[:, classes.index(positive)]"]
    else:
        lines.append("submission[target] = model.predict(X_test)")
    return lines + ["submission.to_csv('submission.csv', index=False)"]


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
        "train = pd.read_csv('train.csv')",
        "test = pd.read_csv('test.csv')",
        f"id_column, target = {io.id_column!r}, {io.target!r}",
        "y = train[target]" + (".astype(float)" if io.kind == "regression" else ""),
    ]
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
