"""CIFAR-10 / CIFAR-100 from the "python version" pickles (https://www.cs.toronto.edu/~kriz/cifar.html).

Expected files (the extracted tarballs)::

    cifar-10-batches-py/data_batch_1 ... data_batch_5, test_batch, batches.meta
    cifar-100-python/train, test, meta

looked for inside (or as) the ``root`` argument, else ``$REPRO_CIFAR``, else ``data/cifar`` (a user-set
place is used alone: a wrong one is an error, never replaced by another copy). Each pickle is
a dict with ``data`` (N x 3072 uint8, channel-major 3 x 32 x 32) and ``labels`` (CIFAR-10) or
``fine_labels`` (CIFAR-100, the 100-class task of both ShiftNAS papers); keys may be bytes (the
original Python 2 pickles) or str (re-pickled under Python 3). An unreadable pickle raises
:class:`~repro.data.errors.DataError` naming it.
"""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import TensorDataset

from repro.data.errors import DataError, DatasetNotFound, search_dirs
from repro.paths import DATA_DIR

ENV_VAR = "REPRO_CIFAR"
FOLDERS = {"cifar10": "cifar-10-batches-py", "cifar100": "cifar-100-python"}
FILES = {"cifar10": {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]},
         "cifar100": {"train": ["train"], "test": ["test"]}}
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
    """The first folder holding every pickle of ``name``; else :class:`DatasetNotFound`."""
    if name not in FOLDERS:
        raise ValueError(f"unknown CIFAR variant {name!r}; valid: {', '.join(FOLDERS)}")
    dirs, note = candidate_dirs(name, root)
    for d in dirs:
        if all((d / f).exists() for files in FILES[name].values() for f in files):
            return d
    raise DatasetNotFound(f"{name.upper().replace('CIFAR', 'CIFAR-')}", dirs, HOW_TO_GET + note)


def read_batch(path: Path, label_key: str) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 3, 32, 32) uint8 and labels (N,) int64 of one pickle (bytes or str keys)."""
    try:
        with open(path, "rb") as fh:
            batch = pickle.load(fh, encoding="bytes")
    except Exception as err:  # truncated or not a pickle: several exception types
        raise DataError(path, f"is not a readable pickle ({type(err).__name__}: {err})", REEXTRACT) from err
    batch = {k.decode() if isinstance(k, bytes) else k: v for k, v in batch.items()} \
        if isinstance(batch, dict) else {}
    missing = [k for k in ("data", label_key) if k not in batch]
    if missing:
        raise DataError(path, f"has no {' or '.join(missing)} entry (keys: {sorted(batch)})", REEXTRACT)
    data = np.asarray(batch["data"], dtype=np.uint8)
    labels = np.asarray(batch[label_key], dtype=np.int64)
    if data.ndim != 2 or data.shape[1] != 3072 or len(labels) != len(data):
        raise DataError(path, f"holds data of shape {data.shape} and {len(labels)} labels "
                        "(want N x 3072 and N labels)", REEXTRACT)
    return data.reshape(-1, 3, 32, 32), labels


def verify(name: str, root: str | Path | None = None) -> str:
    """Read every pickle of ``name``; a summary line, or :class:`DataError` naming the bad file."""
    base = find_root(name, root)
    counts = {}
    for split, files in FILES[name].items():
        labels = np.concatenate([read_batch(base / f, LABEL_KEY[name])[1] for f in files])
        if labels.min() < 0 or labels.max() >= CLASSES[name] or (
                split == "train" and len(np.unique(labels)) != CLASSES[name]):
            raise DataError(base / files[0], f"{split} labels cover {len(np.unique(labels))} classes in "
                            f"{labels.min()}-{labels.max()} (want all {CLASSES[name]})",
                            REEXTRACT)
        counts[split] = len(labels)
    return f"{base} ({CLASSES[name]} classes; " + ", ".join(f"{s} {n}" for s, n in counts.items()) + ")"


def load_cifar(name: str = "cifar10", split: str = "train", root: str | Path | None = None, *,
               normalize: bool = True) -> TensorDataset:
    """Images as float tensors (N, 3, 32, 32) in [0, 1] (standardised per channel if ``normalize``)."""
    base = find_root(name, root)
    if split not in FILES[name]:
        raise ValueError(f"unknown split {split!r}; valid splits: {', '.join(FILES[name])}")
    parts = [read_batch(base / f, LABEL_KEY[name]) for f in FILES[name][split]]
    x = torch.from_numpy(np.concatenate([p[0] for p in parts]).astype(np.float32) / 255.0)
    if normalize:
        x = (x - torch.tensor(MEAN[name]).view(1, 3, 1, 1)) / torch.tensor(STD[name]).view(1, 3, 1, 1)
    return TensorDataset(x, torch.from_numpy(np.concatenate([p[1] for p in parts])))
