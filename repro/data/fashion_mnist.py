"""Fashion-MNIST (28x28 grey images, 10 classes, 60k train / 10k test) from its IDX ``.gz`` files.

Looked for in ``$REPRO_FASHION_MNIST`` alone when it is set, else ``data/fashion-mnist/`` then Debian's
``/usr/share/datasets/fashion-mnist`` (package ``dataset-fashion-mnist``). Unreadable files raise
:class:`~repro.data.errors.DataError` naming the file; :func:`verify` also checks counts and sha256.
"""
from __future__ import annotations

import gzip
import hashlib
import zlib
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import TensorDataset

from repro.data.errors import DataError, DatasetNotFound, search_dirs
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
COUNTS = {"train": 60000, "test": 10000}
# sha256 of the original files: computed from Debian's dataset-fashion-mnist 0.0~git20200523.55506a9-1
# (/usr/share/datasets/fashion-mnist), which ships zalandoresearch/fashion-mnist's data/fashion/*.gz
# unchanged (their README lists the md5 of the same files).
SHA256 = {"train-images-idx3-ubyte.gz": "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
          "train-labels-idx1-ubyte.gz": "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
          "t10k-images-idx3-ubyte.gz": "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
          "t10k-labels-idx1-ubyte.gz": "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05"}
REFETCH = "replace it with the original file (reinstall dataset-fashion-mnist, or copy it again)"
# Per-pixel statistics of the training set, used to standardise inputs.
MEAN, STD = 0.2860, 0.3530


def find_root() -> Path:
    """The first folder holding all four IDX files; else :class:`DatasetNotFound`."""
    dirs, note = search_dirs(None, ENV_VAR, [DATA_DIR / "fashion-mnist", DEBIAN_DIR])
    for d in dirs:
        if all((d / f).exists() for pair in FILES.values() for f in pair):
            return d
    raise DatasetNotFound("Fashion-MNIST", dirs, HOW_TO_GET + note)


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (optionally gzipped): magic (0, 0, dtype, ndim), big-endian dims, data."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError, zlib.error) as err:
        raise DataError(path, f"cannot be decompressed ({type(err).__name__}: {err})", REFETCH) from err
    if len(raw) < 4 or raw[:3] != b"\0\0\x08":
        magic = raw[:4].hex() or "missing"
        raise DataError(path, f"is not an unsigned-byte IDX file (magic {magic})", REFETCH)
    ndim = raw[3]
    if len(raw) < 4 + 4 * ndim:
        raise DataError(path, f"is truncated inside its header ({len(raw)} bytes)", REFETCH)
    dims = np.frombuffer(raw, dtype=">u4", count=ndim, offset=4).astype(int)
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise DataError(path, f"header says {tuple(dims)} but holds {data.size} values", REFETCH)
    return data.reshape(tuple(dims))


def read_split(root: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 28, 28) and labels (N,) of one split, their shapes and label range checked."""
    image_path, label_path = root / FILES[split][0], root / FILES[split][1]
    images, labels = read_idx(image_path), read_idx(label_path)
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise DataError(image_path, f"holds images of shape {images.shape[1:]}, not (28, 28)", REFETCH)
    if labels.ndim != 1 or len(labels) != len(images) or labels.max(initial=0) > 9:
        raise DataError(label_path, f"holds {labels.shape} labels up to {labels.max(initial=0)} for "
                        f"{len(images)} images (want one label in 0-9 each)", REFETCH)
    return images, labels


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def verify(root: Path) -> list[DataError]:
    """Every problem of the four files in ``root``: unreadable, wrong shape or count, unknown sha256."""
    problems = []
    for split, count in COUNTS.items():
        try:
            images, _ = read_split(root, split)
        except DataError as err:
            problems.append(err)
            continue
        if len(images) != count:
            problems.append(DataError(root / FILES[split][0], f"holds {len(images)} images, not {count}",
                                      REFETCH))
    for name, digest in SHA256.items():
        if not problems and sha256(root / name) != digest:
            problems.append(DataError(root / name, f"has sha256 {sha256(root / name)}, not the original's "
                                      f"{digest}", REFETCH))
    return problems


def load_fashion_mnist(split: str = "train", subset: int = 0, *, normalize: bool = True,
                       seed: int = 0) -> TensorDataset:
    """Images as float tensors (N, 1, 28, 28), standardised; labels as int64.

    ``subset`` > 0 keeps a fixed, class-stratified random subset of that size (seeded).
    """
    if split not in FILES:
        raise ValueError(f"unknown split {split!r}; valid splits: {sorted(FILES)}")
    images, labels = read_split(find_root(), split)
    labels = labels.astype(np.int64)
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
