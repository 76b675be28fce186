"""Runner configs: pydantic models read from a YAML preset and/or file, then `key.sub=value` overrides.

Unknown keys are rejected with their dotted path; values of overrides are read as YAML (numbers, lists, ...).
A malformed YAML file is reported with its file, line, column and the parser's problem; NaN and infinities
(YAML's `.nan`, `.inf`) are rejected wherever they appear.
"""

from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Type, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from helm_plugins.common.jsonl import find_non_finite

M = TypeVar("M", bound=BaseModel)


def _set_path(tree: Dict[str, Any], dotted_key: str, value: Any) -> None:
    *parents, leaf = dotted_key.split(".")
    for key in parents:
        node = tree.setdefault(key, {})
        if not isinstance(node, dict):
            raise ValueError(f"override {dotted_key!r}: {key!r} is not a section")
        tree = node
    tree[leaf] = value


def parse_overrides(overrides: Iterable[str]) -> Dict[str, Any]:
    """`["model.n_layer=4", "optimizer.betas=[0.9, 0.99]"]` -> nested dict; values are read as YAML."""
    tree: Dict[str, Any] = {}
    for override in overrides:
        key, sep, raw = override.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"override {override!r} is not of the form key=value (e.g. model.n_layer=4)")
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError as error:
            raise ValueError(f"override {override!r}: the value is not valid YAML ({_problem(error)})") from None
        _set_path(tree, key.strip(), value)
    return tree


def _problem(error: yaml.YAMLError) -> str:
    problem = getattr(error, "problem", None) or str(error)
    context = getattr(error, "context", None)
    return f"{problem} {context}" if context else problem


def read_yaml_mapping(path: Path) -> Dict[str, Any]:
    """A YAML file of config keys; errors name the file, the line and column, and the problem."""
    try:
        tree = yaml.safe_load(Path(path).read_text())
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise ValueError(f"{where}: not valid YAML ({_problem(error)})") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not UTF-8 text; expected a YAML config file") from None
    if tree is None:
        return {}
    if not isinstance(tree, dict):
        raise ValueError(f"{path}: expected a mapping of config keys (key: value lines), got a {type(tree).__name__}")
    return tree


def _merge(base: Dict[str, Any], update: Dict[str, Any]) -> Dict[str, Any]:
    merged = dict(base)
    for key, value in update.items():
        merged[key] = _merge(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict) else value
    return merged


def preset_names(presets_dir: Path) -> List[str]:
    return sorted(p.stem for p in Path(presets_dir).glob("*.yaml"))


def load_yaml_config(
    model: Type[M], presets_dir: Path, preset: Optional[str], config_file: Optional[Path], overrides: Iterable[str] = ()
) -> M:
    """Preset (by name) or config file, then overrides; raises ValueError naming the bad key."""
    tree: Dict[str, Any] = {}
    for source in ([Path(presets_dir) / f"{preset}.yaml"] if preset else []) + ([Path(config_file)] if config_file else []):
        if not source.is_file():
            raise ValueError(f"no config file {source} (presets: {', '.join(preset_names(presets_dir))})")
        tree = _merge(tree, read_yaml_mapping(source))
    tree = _merge(tree, parse_overrides(overrides))
    bad = find_non_finite(tree)
    if bad:
        raise ValueError(f"invalid {model.__name__} config: {bad[0]} is {bad[1]}; numbers must be finite")
    try:
        return model.model_validate(tree)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'config'}: {e['msg']}" for e in error.errors())
        raise ValueError(f"invalid {model.__name__} config: {problems}") from None


def with_overrides(config: M, overrides: Dict[str, Any]) -> M:
    """A copy of `config` with dotted keys replaced (`{"optimizer.lr": 0.01}`), validated again."""
    tree = config.model_dump(mode="json")
    for dotted_key, value in overrides.items():
        _set_path(tree, dotted_key, value)
    try:
        return type(config).model_validate(tree)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'config'}: {e['msg']}" for e in error.errors())
        raise ValueError(f"invalid {type(config).__name__} config: {problems}") from None
