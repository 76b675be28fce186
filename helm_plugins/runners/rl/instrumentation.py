"""Environment instrumentation: stage markers in a solution program, read back from its stdout as partial credit.

A solution program goes through five stages: imports, load data, build model, train, predict. Before a program
runs, an AST pass inserts `print("@@stage <nonce> <i> <stage>", flush=True)` after the last statement of each stage
(deterministic), or a frozen LM behind a HELM deployment does it (the paper's way) and the AST check accepts its
edit only if it changed nothing but marker prints. The nonce is drawn per run, after the policy wrote the program,
so a program cannot print markers it has not earned; markers count only as a prefix of the stage order:

    program = instrument(source, nonce)
    reached = markers_reached(stdout, nonce)          # 0..5
    reward = failure_credit(reached)                  # -10 + 0.1 * reached, for a failed run
"""

import ast
import re
import secrets
from typing import Callable, Dict, List, Optional, Sequence, Set

STAGES = ("imports", "load_data", "build_model", "train", "predict")
MARKER_PREFIX = "@@stage"
FAILURE_REWARD = -10.0
CREDIT_PER_MARKER = 0.1

LOAD_CALLS = {"read_csv", "read_parquet", "read_json", "read_table", "read_excel", "loadtxt", "genfromtxt", "load",
              "open", "read_feather", "fetch_openml"}
TRAIN_CALLS = {"fit", "partial_fit", "train", "fit_predict", "backward"}
PREDICT_CALLS = {"predict", "predict_proba", "decision_function", "to_csv", "savetxt", "predict_log_proba"}
MODEL_CONSTRUCTOR = re.compile(
    r"(Classifier|Regressor|Regression|Model|Pipeline|Net|SVC|SVR|Ridge|Lasso|ElasticNet|Booster|Sequential|"
    r"^make_pipeline|^Linear|Dummy\w*)$")


def new_nonce() -> str:
    return secrets.token_hex(6)


def _call_names(node: ast.AST) -> List[str]:
    names = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            function = sub.func
            if isinstance(function, ast.Attribute):
                names.append(function.attr)
            elif isinstance(function, ast.Name):
                names.append(function.id)
    return names


def statement_stages(statement: ast.stmt) -> Set[str]:
    """The stages a statement takes part in (a set: `LogisticRegression().fit(X, y)` builds and trains)."""
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return {"imports"}
    names = _call_names(statement)
    stages = set()
    if any(n in LOAD_CALLS for n in names):
        stages.add("load_data")
    if any(MODEL_CONSTRUCTOR.search(n) for n in names):
        stages.add("build_model")
    if any(n in TRAIN_CALLS for n in names):
        stages.add("train")
    if any(n in PREDICT_CALLS for n in names):
        stages.add("predict")
    return stages


def is_marker(statement: ast.stmt) -> bool:
    """A `print("@@stage ...")` statement (an inserted marker, or a program's imitation of one)."""
    if not (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call)):
        return False
    call = statement.value
    if not (isinstance(call.func, ast.Name) and call.func.id == "print" and call.args):
        return False
    first = call.args[0]
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return first.value.startswith(MARKER_PREFIX)
    if isinstance(first, ast.JoinedStr):
        return any(isinstance(v, ast.Constant) and str(v.value).startswith(MARKER_PREFIX) for v in first.values[:1])
    return False


def _marker(nonce: str, index: int) -> ast.stmt:
    text = f"{MARKER_PREFIX} {nonce} {index} {STAGES[index]}"
    return ast.parse(f"print({text!r}, flush=True)").body[0]


def _bodies(module: ast.Module) -> List[List[ast.stmt]]:
    """Statement lists instrumented: the module, `def main` bodies and `if __name__ == "__main__":` blocks."""
    bodies = [module.body]
    for statement in module.body:
        if isinstance(statement, ast.FunctionDef) and statement.name == "main":
            bodies.append(statement.body)
        if isinstance(statement, ast.If) and "__name__" in ast.unparse(statement.test):
            bodies.append(statement.body)
    return bodies


def _strip(body: List[ast.stmt]) -> List[ast.stmt]:
    return [s for s in body if not is_marker(s)]


def _instrument_body(body: List[ast.stmt], nonce: str, done: Set[int]) -> List[ast.stmt]:
    body = _strip(body)
    last: Dict[int, int] = {}
    for position, statement in enumerate(body):
        for stage in statement_stages(statement):
            last[STAGES.index(stage)] = position
    after: Dict[int, List[int]] = {}
    floor = -1
    for index in range(len(STAGES)):  # marker i goes after stages <= i are complete, so markers print in order
        if index in last and index not in done:
            floor = max(floor, last[index])
            after.setdefault(floor, []).append(index)
            done.add(index)
    result: List[ast.stmt] = []
    for position, statement in enumerate(body):
        result.append(statement)
        result.extend(_marker(nonce, index) for index in after.get(position, []))
    return result


def strip_markers(source: str) -> str:
    """The program without marker prints (normalised by the AST round trip)."""
    module = ast.parse(source)
    for body in _bodies(module):
        body[:] = _strip(body)
    return ast.unparse(module)


def instrument(source: str, nonce: str) -> str:
    """Insert the stage markers (replacing any already there); raises SyntaxError for a program that does not parse.

    Idempotent: `instrument(instrument(p, n), n) == instrument(p, n)`."""
    module = ast.parse(source)
    done: Set[int] = set()
    bodies = _bodies(module)
    for body in bodies[1:] + bodies[:1]:  # a main() body holds the real stages; the module keeps the rest
        body[:] = _instrument_body(body, nonce, done)
    return ast.unparse(module) + "\n"


MARKER_LINE = re.compile(r"^@@stage (\w+) (\d) (\w+)\s*$")


def markers_reached(stdout: str, nonce: str) -> int:
    """How many stages, in order from the first, printed their marker with this run's nonce."""
    reached = 0
    for line in stdout.splitlines():
        match = MARKER_LINE.match(line.strip())
        if not match or match.group(1) != nonce:
            continue
        index = int(match.group(2))
        if index == reached and match.group(3) == STAGES[index]:
            reached += 1
            if reached == len(STAGES):
                break
    return reached


def failure_credit(reached: int, failure_reward: float = FAILURE_REWARD,
                   per_marker: float = CREDIT_PER_MARKER) -> float:
    """The reward of a failed run that reached `reached` stage markers."""
    if not 0 <= reached <= len(STAGES):
        raise ValueError(f"markers reached must be in 0..{len(STAGES)}, got {reached}")
    return failure_reward + per_marker * reached


LM_PROMPT = """Insert progress prints into this Python program. After the last statement of each stage, add a line
print("@@stage {nonce} <i> <stage>", flush=True) for these stages in this order: {stages}.
Do not change anything else. Reply with the whole program only.

```python
{source}
```"""


def lm_instrument(source: str, nonce: str, complete: Callable[[str], str]) -> Optional[str]:
    """Markers inserted by a frozen LM (`complete(prompt) -> text`, e.g. a HELM deployment); None when its edit is
    rejected: it does not parse, or it changed the program beyond marker prints."""
    stages = ", ".join(f"{i} {name}" for i, name in enumerate(STAGES))
    reply = complete(LM_PROMPT.format(nonce=nonce, stages=stages, source=source))
    fenced = re.search(r"```(?:python)?\n(.*?)```", reply, re.S)
    candidate = fenced.group(1) if fenced else reply
    try:
        if strip_markers(candidate) != strip_markers(source):
            return None
    except SyntaxError:
        return None
    return candidate if candidate.endswith("\n") else candidate + "\n"


def helm_completer(deployment: str, local_path: str = "prod_env", max_tokens: int = 1024) -> Callable[[str], str]:
    """`complete(prompt)` through HELM's AutoClient (the deployment's client, cache and retries), temperature 0."""
    import os

    import helm_plugins.plugin  # noqa: F401  registers the embedded model
    from helm.benchmark.config_registry import (
        register_builtin_configs_from_helm_package,
        register_configs_from_directory,
    )
    from helm.benchmark.model_deployment_registry import get_model_deployment
    from helm.clients.auto_client import AutoClient
    from helm.common.cache_backend_config import SqliteCacheBackendConfig
    from helm.common.general import get_credentials
    from helm.common.request import Request

    register_builtin_configs_from_helm_package()
    if os.path.isdir(local_path):
        register_configs_from_directory(local_path)
    model = get_model_deployment(deployment).model_name or deployment
    cache = os.path.join(local_path, "cache")
    os.makedirs(cache, exist_ok=True)
    client = AutoClient(get_credentials(local_path), cache, SqliteCacheBackendConfig(cache))

    def complete(prompt: str) -> str:
        result = client.make_request(Request(model=model, model_deployment=deployment, prompt=prompt,
                                             temperature=0.0, max_tokens=max_tokens))
        if not result.success or not result.completions:
            raise RuntimeError(f"instrumentation model {deployment}: request failed ({result.error})")
        return result.completions[0].text

    return complete


def stage_names(reached: int) -> Sequence[str]:
    return STAGES[:reached]
