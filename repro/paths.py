"""Where things live: the repository, the committed figures, the ignored build folder.

Results go where the user asked. ``python -m repro run-all`` (what ``make reproduce`` calls) writes
the committed ``figures/`` (or ``--out DIR``); a notebook run any other way (Jupyter, ``jupyter
nbconvert --execute``) writes ``build/figures-interactive/`` unless given ``out_dir`` or
``$REPRO_OUT``. Both follow the checkout being run (the git repository holding the working
directory, which for a notebook kernel is the notebook's folder), not the one ``repro`` was
installed from; outside any checkout, the installed one.
"""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
DATA_DIR = REPO_ROOT / "data"
REPORTED_DIR = DATA_DIR / "reported"


def checkout_root(start: Path | None = None) -> Path:
    """The checkout holding ``start`` (default: the working directory): the nearest folder above it
    with both ``.git`` and ``repro/``; else the checkout ``repro`` is imported from."""
    here = Path(start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        if (d / ".git").exists() and (d / "repro").is_dir():
            return d
    return REPO_ROOT


def figures_dir() -> Path:
    """The committed artifact folder: ``$REPRO_OUT`` if set (tests point it at a temporary folder),
    else the checkout's ``figures/``."""
    return Path(os.environ.get("REPRO_OUT") or checkout_root() / "figures")


def interactive_out_dir() -> Path:
    """Where a notebook run outside ``run-all`` writes: ``$REPRO_OUT``, else ``build/figures-interactive``."""
    return Path(os.environ.get("REPRO_OUT") or build_dir() / "figures-interactive")


def build_dir() -> Path:
    """Ignored folder for executed notebooks and caches: ``$REPRO_BUILD`` or the checkout's ``build/``."""
    return Path(os.environ.get("REPRO_BUILD") or checkout_root() / "build")


def cache_dir() -> Path:
    """Cache of expensive steps: ``$REPRO_CACHE`` or ``build/cache``."""
    return Path(os.environ.get("REPRO_CACHE") or build_dir() / "cache")
