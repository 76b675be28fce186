"""Runner configs: pydantic models read from a YAML preset and/or file, then `key.sub=value` overrides.

Unknown keys are rejected with their dotted path; values of overrides are read as YAML (numbers, lists, ...).
"""

from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Type, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

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
        _set_path(tree, key.strip(), yaml.safe_load(raw))
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
        tree = _merge(tree, yaml.safe_load(source.read_text()) or {})
    tree = _merge(tree, parse_overrides(overrides))
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
