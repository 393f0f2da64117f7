"""CIFAR-10 / CIFAR-100's "python version" pickles (https://www.cs.toronto.edu/~kriz/cifar.html): where
they are and their validation (``python -m repro data check``); :func:`repro.data.vision.cifar_dataset`
reads them, through torchvision.

Expected files (the extracted tarballs)::

    cifar-10-batches-py/data_batch_1 ... data_batch_5, test_batch, batches.meta
    cifar-100-python/train, test, meta

looked for inside (or as) the ``root`` argument, else ``$REPRO_CIFAR``, else ``data/cifar`` (a user-set
place is used alone: a wrong one is an error, never replaced by another copy). Each pickle is read as
torchvision reads it (``encoding="latin1"``, which gives the original Python 2 pickles str keys): a dict
with ``data`` (N x 3072 uint8, channel-major 3 x 32 x 32) and ``labels`` (CIFAR-10) or ``fine_labels``
(CIFAR-100, the 100-class task of both ShiftNAS papers); the meta file names the classes. A file that
is not so raises :class:`~repro.data.errors.DataError` naming it.
"""
from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np

from repro.data.errors import DataError, DatasetNotFound, search_dirs
from repro.paths import DATA_DIR

ENV_VAR = "REPRO_CIFAR"
FOLDERS = {"cifar10": "cifar-10-batches-py", "cifar100": "cifar-100-python"}
FILES = {"cifar10": {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]},
         "cifar100": {"train": ["train"], "test": ["test"]}}
META = {"cifar10": ("batches.meta", "label_names"), "cifar100": ("meta", "fine_label_names")}  # (file, key)
LABEL_KEY = {"cifar10": "labels", "cifar100": "fine_labels"}
CLASSES = {"cifar10": 10, "cifar100": 100}
# Per-channel statistics of the training sets (as in the DARTS code base), used to standardise.
MEAN = {"cifar10": (0.4914, 0.4822, 0.4465), "cifar100": (0.5071, 0.4865, 0.4409)}
STD = {"cifar10": (0.2470, 0.2435, 0.2616), "cifar100": (0.2673, 0.2564, 0.2762)}
HOW_TO_GET = ("download the python versions (cifar-10-python.tar.gz, cifar-100-python.tar.gz) from "
              "https://www.cs.toronto.edu/~kriz/cifar.html, extract them into one folder and pass it as "
              f"`root` (profile field data.cifar_root), set ${ENV_VAR} to it, or extract into data/cifar/.")

REEXTRACT = "extract it again from the python-version tarball (https://www.cs.toronto.edu/~kriz/cifar.html)"


def candidate_dirs(name: str, root: str | Path | None = None) -> tuple[list[Path], str]:
    """Every folder that may hold the pickles (``<place>/<cifar folder>`` and ``<place>`` itself), and
    the note for the error when a user-set place is used alone."""
    places, note = search_dirs(root, ENV_VAR, [DATA_DIR / "cifar"])
    return [d for p in places for d in (p / FOLDERS[name], p)], note


def find_root(name: str, root: str | Path | None = None) -> Path:
    """The first folder holding every pickle of ``name`` and its meta file; else :class:`DatasetNotFound`."""
    if name not in FOLDERS:
        raise ValueError(f"unknown CIFAR variant {name!r}; valid: {', '.join(FOLDERS)}")
    files = [f for split in FILES[name].values() for f in split] + [META[name][0]]
    dirs, note = candidate_dirs(name, root)
    for d in dirs:
        if all((d / f).is_file() for f in files):
            return d
    raise DatasetNotFound(name.upper().replace("CIFAR", "CIFAR-"), dirs, HOW_TO_GET + note)


def _entries(path: Path, keys: tuple[str, ...]) -> dict[str, Any]:
    """The pickle at ``path`` as torchvision loads it, which must be a dict holding ``keys``."""
    try:
        with open(path, "rb") as fh:
            entries = pickle.load(fh, encoding="latin1")
    except Exception as err:  # truncated or not a pickle: several exception types
        raise DataError(path, f"is not a readable pickle ({type(err).__name__}: {err})", REEXTRACT) from err
    if not isinstance(entries, dict):
        raise DataError(path, f"holds a {type(entries).__name__}, not a dict", REEXTRACT)
    missing = [k for k in keys if k not in entries]
    if missing:
        raise DataError(path, f"has no {' or '.join(missing)} entry (keys: {sorted(map(repr, entries))}; "
                        "torchvision reads the original pickles, whose keys are str)", REEXTRACT)
    return entries


def batch_labels(path: Path, label_key: str) -> np.ndarray:
    """The labels (N,) of one data pickle, its images checked to be N x 3072."""
    batch = _entries(path, ("data", label_key))
    data, labels = np.asarray(batch["data"]), np.asarray(batch[label_key], dtype=np.int64)
    if data.ndim != 2 or data.shape[1] != 3072 or len(labels) != len(data):
        raise DataError(path, f"holds data of shape {data.shape} and {len(labels)} labels "
                        "(want N x 3072 and N labels)", REEXTRACT)
    return labels


def verify(name: str, root: str | Path | None = None) -> str:
    """Read every pickle of ``name``; a summary line, or :class:`DataError` naming the bad file."""
    base = find_root(name, root)
    meta_file, meta_key = META[name]
    names = _entries(base / meta_file, (meta_key,))[meta_key]
    if len(names) != CLASSES[name]:
        raise DataError(base / meta_file, f"names {len(names)} classes in {meta_key} (want {CLASSES[name]})",
                        REEXTRACT)
    counts = {}
    for split, files in FILES[name].items():
        labels = np.concatenate([batch_labels(base / f, LABEL_KEY[name]) for f in files])
        if labels.min() < 0 or labels.max() >= CLASSES[name] or (
                split == "train" and len(np.unique(labels)) != CLASSES[name]):
            raise DataError(base / files[0], f"{split} labels cover {len(np.unique(labels))} classes in "
                            f"{labels.min()}-{labels.max()} (want all {CLASSES[name]})",
                            REEXTRACT)
        counts[split] = len(labels)
    return f"{base} ({CLASSES[name]} classes; " + ", ".join(f"{s} {n}" for s, n in counts.items()) + ")"
