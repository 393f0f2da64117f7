"""Numbers transcribed from the papers: ``data/reported/<artifact-id>.csv``.

Each file starts with ``#`` metadata lines (``# paper: ...``, ``# source: Table 3``, optional
``# note: ...``), then a CSV with the row labels as the paper prints them and units in the header
(``Params (M)``, ``FLOPs (G)``). These values are always labelled *reported*; nothing computed is
ever written into them.
"""
from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from repro.paths import REPORTED_DIR


def path(artifact_id: str, directory: Path | None = None) -> Path:
    return Path(directory or REPORTED_DIR) / f"{artifact_id}.csv"


def metadata(artifact_id: str, directory: Path | None = None) -> dict[str, str]:
    """The ``# key: value`` lines at the top of the file."""
    meta: dict[str, str] = {}
    for line in path(artifact_id, directory).read_text().splitlines():
        if not line.startswith("#"):
            break
        key, _, value = line.lstrip("# ").partition(":")
        meta[key.strip()] = (meta.get(key.strip(), "") + " " + value.strip()).strip()
    return meta


def load(artifact_id: str, directory: Path | None = None) -> pd.DataFrame:
    """The reported table; ``df.attrs`` holds the metadata (paper, source, notes)."""
    p = path(artifact_id, directory)
    if not p.exists():
        known = sorted(q.stem for q in Path(directory or REPORTED_DIR).glob("*.csv"))
        raise FileNotFoundError(f"no reported numbers for {artifact_id!r} at {p}; transcribed: {known}")
    body = "\n".join(line for line in p.read_text().splitlines() if not line.startswith("#"))
    df = pd.read_csv(io.StringIO(body))
    df.attrs.update(metadata(artifact_id, directory))
    return df
