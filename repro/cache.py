"""Input-hashed cache for expensive steps, with atomic writes and resumable checkpoints.

``cached(name, key, compute)`` returns the stored result for ``(name, key, code version)`` or runs
``compute(ckpt)`` and stores what it returns. ``ckpt`` is a :class:`Checkpoint` the step may use
to save its state as it goes: after an interruption the next call finds that state and resumes.
An unreadable entry (truncated, empty, garbage) is named in a :class:`CorruptEntryWarning`, renamed to
``<name>.corrupt-<n>`` and recomputed, or resumed from the checkpoint before it.

The code version of a step (:func:`code_version`) hashes the source file of ``compute`` and of every module
of the same package it imports, transitively (top-level and function-level imports alike), plus the files a
module names in ``CACHE_FILES`` (the native kernels' C++ sources): an edit anywhere a result can depend on
recomputes it.
"""
from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
import inspect
import json
import sys
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any, Callable

import torch

from repro.paths import cache_dir


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` to a temporary file beside ``path``, then rename it over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)
    return path


def atomic_save(obj: Any, path: str | Path) -> Path:
    """``torch.save`` to a temporary file in the same folder, then rename over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save(obj, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load(path: str | Path) -> Any:
    return torch.load(Path(path), map_location="cpu", weights_only=False)


class CorruptEntryWarning(UserWarning):
    """A cache entry or checkpoint could not be read; it was moved aside and will be recomputed."""


_UNREADABLE = object()


def move_aside(path: Path, err: BaseException) -> Path:
    """Rename an unreadable ``path`` to ``<name>.corrupt-<n>`` (kept for inspection) and warn, naming both."""
    n = 1
    while (dest := path.with_name(f"{path.name}.corrupt-{n}")).exists():
        n += 1
    os.replace(path, dest)
    warnings.warn(f"unreadable cache file {path} ({type(err).__name__}: {err}); moved aside to {dest.name} "
                  "and recomputing (delete it once inspected)", CorruptEntryWarning, stacklevel=3)
    return dest


def load_or_move_aside(path: Path) -> Any:
    """``load(path)``; ``_UNREADABLE`` when it is missing or unreadable (an unreadable file is moved aside)."""
    if not path.exists():
        return _UNREADABLE
    try:
        return load(path)
    except Exception as err:  # truncated zip, empty file, garbage: torch raises any of several types
        move_aside(path, err)
        return _UNREADABLE


def key_hash(key: Any) -> str:
    """A stable short hash of a JSON-able key (dicts are sorted; dataclasses pass through ``vars``)."""
    blob = json.dumps(key, sort_keys=True, default=lambda o: getattr(o, "__dict__", repr(o)))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _spec_file(name: str) -> Path | None:
    """The ``.py`` file of module ``name``, or None (not a module, e.g. an attribute ``pkg.mod.function``)."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError, AttributeError):
        return None
    origin = spec.origin if spec is not None else None
    return Path(origin) if origin and origin.endswith(".py") else None


def _imported(node: ast.AST, module: str, is_package: bool) -> list[str]:
    """The modules of ``module``'s own top-level package one import statement may load (``from a import b``:
    ``a.b`` if that is a module, else ``a``)."""
    top = module.split(".")[0]
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if alias.name.split(".")[0] == top]
    if not isinstance(node, ast.ImportFrom):
        return []
    base = node.module or ""
    if node.level:
        package = module if is_package else module.rpartition(".")[0]
        base = importlib.util.resolve_name("." * node.level + base, package)
    if base.split(".")[0] != top:
        return []
    return [f"{base}.{alias.name}" if _spec_file(f"{base}.{alias.name}") else base for alias in node.names]


@functools.lru_cache(maxsize=None)
def _closure(module: str) -> tuple[Path, ...]:
    """Source files of ``module`` and of every module of its top-level package it imports, transitively."""
    files: dict[str, Path] = {}
    todo = [module]
    while todo:
        name = todo.pop()
        path = None if name in files else _spec_file(name)
        if path is None:
            continue
        files[name] = path
        for node in ast.walk(ast.parse(path.read_bytes(), filename=str(path))):
            todo += _imported(node, name, path.name == "__init__.py")
    extra = [Path(f) for name in files if name in sys.modules for f in getattr(sys.modules[name], "CACHE_FILES", ())]
    return tuple(files[name] for name in sorted(files)) + tuple(sorted(set(extra)))


def code_version(*objs: Any) -> str:
    """Hash of the source files that define ``objs`` (functions, classes or modules) and of what they import
    from their own package, transitively (:func:`_closure`)."""
    h = hashlib.sha256()
    for obj in objs:
        module = obj.__name__ if inspect.ismodule(obj) else getattr(obj, "__module__", None)
        files = _closure(module) if module else ()
        if files:
            for path in files:
                h.update(path.read_bytes())
            continue
        try:
            h.update(Path(inspect.getsourcefile(obj)).read_bytes())
        except (TypeError, OSError):  # no source file (a notebook cell): its source text, never its address
            try:
                h.update(inspect.getsource(obj).encode())
            except (TypeError, OSError):
                name = getattr(obj, "__qualname__", type(obj).__qualname__)
                h.update(f"{getattr(obj, '__module__', '')}.{name}".encode())
    return h.hexdigest()[:12]


class Checkpoint:
    """Resumable state of one cached step: ``load()`` returns the last readable saved state or ``None``.

    ``save`` keeps the state before it as ``<name>.prev``, so an unreadable last checkpoint resumes
    from the one before it.
    """

    def __init__(self, path: Path):
        self.path = path
        self.previous = path.with_name(path.name + ".prev")

    def load(self) -> Any | None:
        for path in (self.path, self.previous):
            state = load_or_move_aside(path)
            if state is not _UNREADABLE:
                return state
        return None

    def save(self, state: Any) -> None:
        if self.path.exists():
            os.replace(self.path, self.previous)
        atomic_save(state, self.path)

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)
        self.previous.unlink(missing_ok=True)


def cached(name: str, key: Any, compute: Callable[[Checkpoint], Any], *, code: tuple = (),
           directory: Path | None = None) -> Any:
    """The cached result of ``compute`` for this ``name`` and ``key``; computed (resuming) if missing.

    ``code`` lists the functions or modules whose source is part of the key (``compute`` always is).
    """
    root = Path(directory or cache_dir())
    digest = key_hash({"key": key, "code": code_version(compute, *code)})
    result_path = root / f"{name}-{digest}.pt"
    result = load_or_move_aside(result_path)
    if result is not _UNREADABLE:
        return result
    ckpt = Checkpoint(root / f"{name}-{digest}.ckpt")
    result = compute(ckpt)
    atomic_save(result, result_path)
    ckpt.clear()
    return result
