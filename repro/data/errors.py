"""The one error every reader raises when its data is missing."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable


class DatasetNotFound(FileNotFoundError):
    """A dataset was not found: the message names every place looked in and how to get it."""

    def __init__(self, name: str, looked_in: Iterable[Path | str], how_to_get: str):
        self.name, self.looked_in, self.how_to_get = name, [str(p) for p in looked_in], how_to_get
        places = "\n".join(f"  - {p}" for p in self.looked_in)
        super().__init__(f"{name} not found. Looked in:\n{places}\nHow to get it: {how_to_get}")
