"""ImageNet (ILSVRC-2012) as a class-per-folder tree from a user-supplied path (``paper`` profile).

Layout (the usual one; the validation images sorted into class folders too)::

    <root>/train/n01440764/*.JPEG ...
    <root>/val/n01440764/*.JPEG ...

``<root>`` is the ``root`` argument, else ``$REPRO_IMAGENET``, else ``data/imagenet`` (a user-set one
is used alone: a wrong one is an error, never replaced by another copy). Classes are
the sorted folder names of ``train/``, so labels agree between splits. Images are decoded with
Pillow (no torchvision): the shorter side resized to ``resize``, then a centre crop of
``image_size`` (``val``) or a random crop and horizontal flip (``train``), standardised per channel.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from repro.data.errors import DataError, DatasetNotFound, search_dirs
from repro.paths import DATA_DIR

ENV_VAR = "REPRO_IMAGENET"
SPLITS = ("train", "val")
EXTENSIONS = (".jpeg", ".jpg", ".png")
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
HOW_TO_GET = ("download ILSVRC-2012 from https://image-net.org (an account is needed), extract train/ and "
              "val/ with one folder per class (for val, e.g. with the valprep.sh script), and pass the "
              f"folder holding them as `root` (profile field data.imagenet_root), set ${ENV_VAR}, or use "
              "data/imagenet/.")


def find_root(split: str, root: str | Path | None = None) -> Path:
    """The first folder whose ``train/`` and ``split/`` hold class folders; else :class:`DatasetNotFound`."""
    dirs, note = search_dirs(root, ENV_VAR, [DATA_DIR / "imagenet"])
    for d in dirs:
        if all((d / s).is_dir() and any(p.is_dir() for p in (d / s).iterdir()) for s in {"train", split}):
            return d
    raise DatasetNotFound("ImageNet", [d / s for d in dirs for s in dict.fromkeys(("train", split))],
                          HOW_TO_GET + note)


def _pil():
    try:
        from PIL import Image
    except ImportError as err:
        raise ImportError("decoding ImageNet needs Pillow, which is not installed: `pip install pillow` "
                          "(matplotlib normally brings it)") from err
    return Image


def decode(path: Path):
    """The RGB Pillow image of ``path``; :class:`DataError` naming it when it cannot be decoded."""
    try:
        with _pil().open(path) as image:
            return image.convert("RGB")
    except Exception as err:  # Pillow raises several types for truncated or foreign files
        raise DataError(path, f"cannot be decoded as an image ({type(err).__name__}: {err})",
                        "delete or replace the file (copy it again from the ILSVRC-2012 archive)") from err


class ImageFolder(Dataset):
    """``(image, label)`` of a class-per-folder tree; images decoded lazily with Pillow."""

    def __init__(self, folder: Path, classes: list[str], image_size: int, resize: int, train: bool):
        if resize < image_size:
            raise ValueError(f"resize ({resize}) must be at least image_size ({image_size})")
        self.classes, self.image_size, self.resize, self.train = classes, image_size, resize, train
        index = {c: i for i, c in enumerate(classes)}
        self.samples = [(p, index[p.parent.name]) for c in classes if (folder / c).is_dir()
                        for p in sorted((folder / c).iterdir()) if p.suffix.lower() in EXTENSIONS]

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        path, label = self.samples[i]
        pil = _pil()
        image = decode(path)
        w, h = image.size
        scale = self.resize / min(w, h)
        image = image.resize((max(self.resize, round(w * scale)), max(self.resize, round(h * scale))),
                             pil.Resampling.BILINEAR)
        x = torch.from_numpy(np.asarray(image, dtype=np.float32) / 255.0).permute(2, 0, 1)
        free_h, free_w = x.shape[1] - self.image_size, x.shape[2] - self.image_size
        if self.train:
            top, left = int(torch.randint(free_h + 1, ())), int(torch.randint(free_w + 1, ()))
        else:
            top, left = free_h // 2, free_w // 2
        x = x[:, top: top + self.image_size, left: left + self.image_size]
        if self.train and bool(torch.rand(()) < 0.5):
            x = x.flip(2)
        x = (x - torch.tensor(MEAN).view(3, 1, 1)) / torch.tensor(STD).view(3, 1, 1)
        return x, label


def load_imagenet(split: str = "train", root: str | Path | None = None, *, image_size: int = 224,
                  resize: int = 256) -> ImageFolder:
    """The ``train`` or ``val`` split as a Dataset of standardised (3, image_size, image_size) tensors."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; valid splits: {', '.join(SPLITS)}")
    base = find_root(split, root)
    _pil()  # fail now, not in the first batch, when Pillow is missing
    classes = sorted(p.name for p in (base / "train").iterdir() if p.is_dir())
    return ImageFolder(base / split, classes, image_size, resize, train=split == "train")


def verify(root: str | Path | None = None) -> str:
    """Both splits: the same class folders, none empty, a sample of each decoded; a summary line."""
    base = find_root("val", root)
    classes = {s: sorted(p.name for p in (base / s).iterdir() if p.is_dir()) for s in SPLITS}
    if classes["train"] != classes["val"]:
        odd = sorted(set(classes["train"]) ^ set(classes["val"]))
        raise DataError(base, f"train/ has {len(classes['train'])} classes and val/ {len(classes['val'])} "
                        f"(in one only: {', '.join(odd[:5])}{' ...' if len(odd) > 5 else ''})",
                        "give both splits the same class folders")
    sizes = {}
    for split in SPLITS:
        ds = ImageFolder(base / split, classes[split], 1, 1, train=False)
        empty = sorted(set(classes[split]) - {p.parent.name for p, _ in ds.samples})
        if empty:
            raise DataError(base / split / empty[0], f"holds no {'/'.join(EXTENSIONS)} image "
                            f"({len(empty)} such class folders)", "copy the class's images into it")
        decode(ds.samples[0][0])
        sizes[split] = len(ds)
    return f"{base} ({len(classes['train'])} classes; train {sizes['train']}, val {sizes['val']} images)"
