"""Named objects registered where they are defined, looked up by name, listed by pattern (timm's
``register_model`` / ``list_models``).

    @register("space", "shiftaddnas-nlp")
    class ShiftAddNASNLPSpace(SearchSpace): ...

    get("space", "shiftaddnas-nlp")     # the class
    list_names("zoo", "resnet*")       # sorted names matching an fnmatch pattern

The bottom layer of the package: it imports nothing from :mod:`repro`.
"""
from __future__ import annotations

from fnmatch import fnmatchcase
from types import MappingProxyType
from typing import Any, Callable, Mapping, TypeVar

T = TypeVar("T")

_TABLES: dict[str, dict[str, Any]] = {}


def register(kind: str, name: str | None = None) -> Callable[[T], T]:
    """Decorator: register the object under ``kind`` as ``name`` (default: its ``__name__``).

    A name already taken by another object is an error (registering the same object again is not).
    """
    def deco(obj: T) -> T:
        key = name if name is not None else getattr(obj, "__name__", None)
        if not key:
            raise ValueError(f"register({kind!r}): give a name for {obj!r} (it has no __name__)")
        table = _TABLES.setdefault(kind, {})
        if key in table and table[key] is not obj:
            raise ValueError(f"{kind} {key!r} is already registered to {table[key]!r}")
        table[key] = obj
        return obj
    return deco


def table(kind: str) -> Mapping[str, Any]:
    """A live, read-only view of ``kind``'s names and objects, in registration order (empty until the
    first registration)."""
    return MappingProxyType(_TABLES.setdefault(kind, {}))


def kinds() -> list[str]:
    """The kinds that have at least one registered name."""
    return sorted(k for k, t in _TABLES.items() if t)


def list_names(kind: str, pattern: str = "*") -> list[str]:
    """Sorted names of ``kind`` matching the fnmatch ``pattern`` (case-sensitive); none: ``[]``."""
    return sorted(n for n in _TABLES.get(kind, {}) if fnmatchcase(n, pattern))


def get(kind: str, name: str) -> Any:
    """The object registered under ``kind`` as ``name``; an unknown one names the valid ones."""
    if kind not in _TABLES:
        raise KeyError(f"unknown kind {kind!r}; valid kinds: {', '.join(kinds()) or '(none registered)'}")
    try:
        return _TABLES[kind][name]
    except KeyError:
        raise KeyError(f"unknown {kind} {name!r}; valid names: {', '.join(list_names(kind))}") from None
