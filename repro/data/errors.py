"""The errors every reader raises: data that is missing, or present but unreadable."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable


class DataError(Exception):
    """A dataset file is unreadable or wrong: the message names the file, what is wrong and the fix."""

    def __init__(self, path: Path | str, problem: str, fix: str):
        self.path, self.problem, self.fix = str(path), problem, fix
        super().__init__(f"{path}: {problem}. Fix: {fix}")


class DatasetNotFound(DataError, FileNotFoundError):
    """A dataset was not found: the message names every place looked in and how to get it."""

    def __init__(self, name: str, looked_in: Iterable[Path | str], how_to_get: str):
        self.name, self.looked_in, self.how_to_get = name, [str(p) for p in looked_in], how_to_get
        self.path, self.problem, self.fix = ", ".join(self.looked_in), f"{name} not found", how_to_get
        places = "\n".join(f"  - {p}" for p in self.looked_in)
        Exception.__init__(self, f"{name} not found. Looked in:\n{places}\nHow to get it: {how_to_get}")


def search_dirs(root: Path | str | None, env_var: str, defaults: list[Path]) -> tuple[list[Path], str]:
    """The folders to look in and a note for the error: a user-set location (``root``, else ``$env_var``)
    is the only one, so a wrong one is an error, never silently replaced by another copy."""
    if root:
        return [Path(root)], " (the folder given as `root` is used alone: fix it or pass another)"
    if os.environ.get(env_var):
        return [Path(os.environ[env_var])], f" (${env_var} is set, so no other copy is used: fix or unset it)"
    return list(defaults), ""
