"""A small name -> object registry: duplicate names are errors, unknown names get "did you mean"."""

import difflib
import importlib
from typing import Dict, Generic, List, TypeVar, Union

T = TypeVar("T")


class Registry(Generic[T]):
    """Entries are objects or lazy "package.module:attribute" strings, imported on first `get`."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: Dict[str, Union[T, str]] = {}

    def register(self, name: str, entry: Union[T, str]) -> None:
        if name in self._entries:
            raise ValueError(f"a {self.kind} named {name!r} is already registered")
        self._entries[name] = entry

    def __call__(self, name: str):
        """Decorator form: `@registry("name")` registers the decorated object."""

        def wrap(obj):
            self.register(name, obj)
            return obj

        return wrap

    def get(self, name: str) -> T:
        if name not in self._entries:
            close = difflib.get_close_matches(name, self._entries, n=3)
            hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
            raise ValueError(f"unknown {self.kind} {name!r}.{hint} Known: {', '.join(self.names())}")
        entry = self._entries[name]
        if isinstance(entry, str):
            module_name, _, attribute = entry.partition(":")
            entry = getattr(importlib.import_module(module_name), attribute)
            self._entries[name] = entry
        return entry

    def names(self) -> List[str]:
        return sorted(self._entries)

    def __contains__(self, name: str) -> bool:
        return name in self._entries
