"""Fashion-MNIST (28x28 grey images, 10 classes, 60k train / 10k test) from its IDX ``.gz`` files.

Looked for, in order: ``$REPRO_FASHION_MNIST``, ``data/fashion-mnist/``, and Debian's
``/usr/share/datasets/fashion-mnist`` (package ``dataset-fashion-mnist``).
"""
from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import TensorDataset

from repro.data.errors import DatasetNotFound
from repro.paths import DATA_DIR

ENV_VAR = "REPRO_FASHION_MNIST"
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
FILES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
         "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}
HOW_TO_GET = ("install Debian's package (`sudo apt-get install dataset-fashion-mnist`), or put the four "
              "IDX .gz files (train-images-idx3-ubyte.gz, ...) into data/fashion-mnist/ or into a folder "
              f"named by ${ENV_VAR}.")
# Per-pixel statistics of the training set, used to standardise inputs.
MEAN, STD = 0.2860, 0.3530


def candidate_dirs() -> list[Path]:
    dirs = [Path(os.environ[ENV_VAR])] if os.environ.get(ENV_VAR) else []
    return dirs + [DATA_DIR / "fashion-mnist", DEBIAN_DIR]


def find_root() -> Path:
    """The first folder holding all four IDX files; else :class:`DatasetNotFound`."""
    dirs = candidate_dirs()
    for d in dirs:
        if all((d / f).exists() for pair in FILES.values() for f in pair):
            return d
    raise DatasetNotFound("Fashion-MNIST", dirs, HOW_TO_GET)


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (optionally gzipped): magic (0, 0, dtype, ndim), big-endian dims, data."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        raw = fh.read()
    if raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path} is not an unsigned-byte IDX file (magic {raw[:4].hex()})")
    ndim = raw[3]
    dims = np.frombuffer(raw, dtype=">u4", count=ndim, offset=4).astype(int)
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path}: header says {tuple(dims)} but holds {data.size} values")
    return data.reshape(tuple(dims))


def load_fashion_mnist(split: str = "train", subset: int = 0, *, normalize: bool = True,
                       seed: int = 0) -> TensorDataset:
    """Images as float tensors (N, 1, 28, 28), standardised; labels as int64.

    ``subset`` > 0 keeps a fixed, class-stratified random subset of that size (seeded).
    """
    if split not in FILES:
        raise ValueError(f"unknown split {split!r}; valid splits: {sorted(FILES)}")
    root = find_root()
    images = read_idx(root / FILES[split][0])
    labels = read_idx(root / FILES[split][1]).astype(np.int64)
    if subset and subset < len(labels):
        rng = np.random.default_rng(seed)
        per_class = [rng.permutation(np.flatnonzero(labels == c)) for c in range(10)]
        take = np.sort(np.concatenate([idx[: subset // 10 + (c < subset % 10)]
                                       for c, idx in enumerate(per_class)]))
        images, labels = images[take], labels[take]
    x = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)
    if normalize:
        x = (x - MEAN) / STD
    return TensorDataset(x, torch.from_numpy(labels))
