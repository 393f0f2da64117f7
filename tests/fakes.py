"""Small, deterministic fake datasets in the real on-disk layouts, for tests.

Import as ``from tests.fakes import ...`` or ``from fakes import ...`` (pytest puts both the
repository root, home of ``conftest.py``, and ``tests/`` on ``sys.path``). Every writer returns what
a reader should find, so a test compares against the writer, not against the reader.
"""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

# The first ILSVRC-2012 class folders (tench, goldfish, great white shark, ...), in sorted order.
WNIDS = ("n01440764", "n01443537", "n01484850", "n01491361", "n01494475", "n01496331", "n01498041")
CIFAR_LAYOUT = {
    "cifar10": ("cifar-10-batches-py", [f"data_batch_{i}" for i in range(1, 6)], ["test_batch"],
                "batches.meta", "labels", 10),
    "cifar100": ("cifar-100-python", ["train"], ["test"], "meta", "fine_labels", 100),
}
WMT_WORDS = {"en": ["the", "cat", "sees", "a", "house", "small", "red", "dog"],
             "de": ["die", "Katze", "sieht", "ein", "Haus", "klein", "rot", "Hund"],
             "fr": ["le", "chat", "voit", "une", "maison", "petit", "rouge", "chien"]}


def write_imagenet(root: Path, classes: int = 3, per_class: int = 2,
                   size: int = 40) -> dict[str, list[tuple[Path, str]]]:
    """Real JPEG files ``root/{train,val}/<wnid>/<wnid>_<k>.JPEG`` (seeded noise on a per-class colour);
    returns each split's ``(path, wnid)`` in sorted order."""
    from PIL import Image

    if not 1 <= classes <= len(WNIDS):
        raise ValueError(f"classes must be in 1..{len(WNIDS)}, got {classes}")
    rng = np.random.default_rng(0)
    written: dict[str, list[tuple[Path, str]]] = {}
    for split in ("train", "val"):
        written[split] = []
        for c, wnid in enumerate(WNIDS[:classes]):
            folder = Path(root) / split / wnid
            folder.mkdir(parents=True, exist_ok=True)
            base = np.array([80 * (c % 3), 60 * (c % 4), 255 - 40 * c], dtype=np.int16)
            for k in range(per_class):
                pixels = np.clip(base + rng.integers(-60, 60, size=(size, size + 8 * k, 3)), 0, 255)
                path = folder / f"{wnid}_{k}.JPEG"
                Image.fromarray(pixels.astype(np.uint8)).save(path, format="JPEG", quality=90)
                written[split].append((path, wnid))
    return written


def write_cifar(root: Path, name: str, n_train: int = 8,
                n_test: int = 4) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The python-version pickles of ``name`` under ``root`` (str keys, as the original Python 2 pickles
    load under ``encoding="latin1"``): CIFAR-10's ``n_train`` images spread over its five batches.
    Returns each split's images (N, 32, 32, 3) uint8 (HWC, as torchvision holds them) and labels."""
    folder_name, train_files, test_files, meta_file, label_key, n_classes = CIFAR_LAYOUT[name]
    folder = Path(root) / folder_name
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    expected = {}
    for split, files, n in (("train", train_files, n_train), ("test", test_files, n_test)):
        data = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, n_classes, size=n)]
        for f, rows in zip(files, np.array_split(np.arange(n), len(files))):
            batch = {"batch_label": f"{f} of 1", "data": data[rows], label_key: [labels[i] for i in rows],
                     "filenames": [f"img_{i}.png" for i in rows]}
            if name == "cifar100":
                batch["coarse_labels"] = [labels[i] // 5 for i in rows]
            (folder / f).write_bytes(pickle.dumps(batch))
        expected[split] = (data.reshape(n, 3, 32, 32).transpose(0, 2, 3, 1), np.array(labels))
    meta = ({"label_names": [f"class{i}" for i in range(10)], "num_cases_per_batch": n_train, "num_vis": 3072}
            if name == "cifar10" else
            {"fine_label_names": [f"fine{i}" for i in range(100)],
             "coarse_label_names": [f"coarse{i}" for i in range(20)]})
    (folder / meta_file).write_bytes(pickle.dumps(meta))
    return expected


def write_wmt14(root: Path, pair: str, n: int = 20) -> dict[str, list[tuple[str, str]]]:
    """Raw parallel text ``root/<pair>/{train,valid,test}.{en,de|fr}`` of ``n`` lines each (line ``i``
    of the two files a word-by-word translation); returns each split's ``(english, other)`` pairs."""
    src, tgt = pair.split("-")
    folder = Path(root) / pair
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(2)
    written = {}
    for split in ("train", "valid", "test"):
        rows = [rng.integers(0, len(WMT_WORDS["en"]), size=3 + i % 5) for i in range(n)]
        lines = {lang: [" ".join(WMT_WORDS[lang][w] for w in row) + " ." for row in rows] for lang in (src, tgt)}
        for lang, text in lines.items():
            (folder / f"{split}.{lang}").write_text("".join(line + "\n" for line in text), encoding="utf-8")
        written[split] = list(zip(lines[src], lines[tgt]))
    return written
