"""ImageNet (ILSVRC-2012) as a class-per-folder tree from a user-supplied path (``paper`` profile).

Layout (the usual one; the validation images sorted into class folders too)::

    <root>/train/n01440764/*.JPEG ...
    <root>/val/n01440764/*.JPEG ...

``<root>`` is the ``root`` argument, else ``$REPRO_IMAGENET``, else ``data/imagenet`` (a user-set one
is used alone: a wrong one is an error, never replaced by another copy). Classes are
the sorted folder names of ``train/``, so labels agree between splits. This module finds, checks
(:func:`verify`) and decodes (:func:`decode`, a corrupt file named); the dataset with its transforms
(DeiT's recipe through timm and torchvision) is :func:`repro.data.vision.imagenet_dataset`.
"""
from __future__ import annotations

from pathlib import Path


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


def _images(folder: Path, classes: list[str]) -> list[Path]:
    """The image files of ``folder``'s class folders, in class then name order."""
    return [p for c in classes if (folder / c).is_dir() for p in sorted((folder / c).iterdir())
            if p.suffix.lower() in EXTENSIONS]


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
        images = _images(base / split, classes[split])
        empty = sorted(set(classes[split]) - {p.parent.name for p in images})
        if empty:
            raise DataError(base / split / empty[0], f"holds no {'/'.join(EXTENSIONS)} image "
                            f"({len(empty)} such class folders)", "copy the class's images into it")
        decode(images[0])
        sizes[split] = len(images)
    return f"{base} ({len(classes['train'])} classes; train {sizes['train']}, val {sizes['val']} images)"
