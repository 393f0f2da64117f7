"""Where things live: the repository, the committed figures, the ignored build folder."""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
DATA_DIR = REPO_ROOT / "data"
REPORTED_DIR = DATA_DIR / "reported"


def figures_dir() -> Path:
    """Artifact folder: ``$REPRO_OUT`` if set (tests point it at a temporary folder), else ``figures/``."""
    return Path(os.environ.get("REPRO_OUT") or REPO_ROOT / "figures")


def build_dir() -> Path:
    """Ignored build folder for executed notebooks and caches: ``$REPRO_BUILD`` or ``build/``."""
    return Path(os.environ.get("REPRO_BUILD") or REPO_ROOT / "build")


def cache_dir() -> Path:
    """Cache of expensive steps: ``$REPRO_CACHE`` or ``build/cache``."""
    return Path(os.environ.get("REPRO_CACHE") or build_dir() / "cache")
