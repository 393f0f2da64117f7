"""Image input pipelines of the ``paper`` profile: ImageNet and CIFAR through torchvision, DeiT's
augmentation and Mixup/CutMix through timm, and an endless, epoch-seeded batch stream (weight EMA:
:mod:`repro.train.ema`).

* :func:`imagenet_dataset`: ``torchvision.datasets.ImageFolder`` over ``<root>/train`` or
  ``<root>/val`` (:func:`repro.data.imagenet.find_root`); training with DeiT's recipe (Touvron et
  al. 2021, the recipe AutoFormer's released code trains ViT supernets with) or a basic one.
* :func:`cifar_dataset`: ``torchvision.datasets.CIFAR10`` / ``CIFAR100`` with DARTS' augmentation
  (Liu et al. 2019, ``utils._data_transforms_cifar10`` of the released code), Cutout optional.
* :func:`mixup_fn`: DeiT's Mixup/CutMix/label smoothing, from timm.
* :class:`LoaderConfig`, :func:`batch_stream`: a factory of endless batch iterators whose epoch
  ``e`` visits the data in an order that is a pure function of ``(seed, e)``, so a resumed run
  that skips the consumed batches (:func:`repro.train.engine.run`) sees the same data.

Images are read lazily per item (ImageNet) or as torchvision holds them (CIFAR's 50 000 images);
nothing here copies a dataset into memory.
"""
from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import timm.data
import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, Dataset, DistributedSampler
from torchvision import datasets
from torchvision.transforms import InterpolationMode, v2

from repro.data import cifar, imagenet
from repro.data.errors import DataError

RECIPES = ("deit", "basic")
CIFAR_SPLITS = tuple(cifar.FILES["cifar10"])
EVAL_CROP = 0.875  # DeiT's eval_crop_ratio: resize to image_size / 0.875, centre-crop image_size
DEIT_AUGMENT = "rand-m9-mstd0.5-inc1"  # DeiT's RandAugment policy (main.py --aa default)
CUTOUT_LENGTH = 16  # DARTS train.py --cutout_length


def _load_image(path: str):
    """ImageFolder's loader: :func:`repro.data.imagenet.decode`, so a corrupt file is a DataError naming it."""
    return imagenet.decode(Path(path))


def _is_image(path: str) -> bool:
    return path.lower().endswith(imagenet.EXTENSIONS)


class _ImageNetFolder(datasets.ImageFolder):
    """ImageFolder whose classes are the sorted folders of the sibling ``train/`` (labels agree between splits)."""

    def find_classes(self, directory: str) -> tuple[list[str], dict[str, int]]:
        classes = sorted(p.name for p in (Path(directory).parent / "train").iterdir() if p.is_dir())
        return classes, {c: i for i, c in enumerate(classes)}


def imagenet_transform(train: bool, image_size: int = 224, recipe: str = "deit") -> Callable:
    """The transform of one split: DeiT's or a basic training recipe; DeiT's evaluation (bicubic
    resize to ``int(image_size / 0.875)``, centre crop), standardised with ImageNet's MEAN/STD."""
    if recipe not in RECIPES:
        raise ValueError(f"unknown train_recipe {recipe!r}; valid recipes: {', '.join(RECIPES)}")
    if train and recipe == "deit":  # DeiT main.py defaults: --aa, --reprob 0.25, --remode pixel, --color-jitter 0.4
        return timm.data.create_transform(
            input_size=image_size, is_training=True, auto_augment=DEIT_AUGMENT, interpolation="bicubic",
            re_prob=0.25, re_mode="pixel", re_count=1, color_jitter=0.4, mean=imagenet.MEAN, std=imagenet.STD)
    geometry = ([v2.RandomResizedCrop(image_size, antialias=True), v2.RandomHorizontalFlip()] if train else
                [v2.Resize(int(image_size / EVAL_CROP), interpolation=InterpolationMode.BICUBIC, antialias=True),
                 v2.CenterCrop(image_size)])
    return v2.Compose([v2.ToImage(), *geometry, v2.ToDtype(torch.float32, scale=True),
                       v2.Normalize(imagenet.MEAN, imagenet.STD), v2.ToPureTensor()])


def imagenet_dataset(split: str, root: str | Path | None = None, *, image_size: int = 224,
                     train_recipe: str = "deit") -> datasets.ImageFolder:
    """ILSVRC-2012 ``train`` or ``val`` as ``(image tensor, label)``; classes are the sorted ``train/`` folders."""
    if split not in imagenet.SPLITS:
        raise ValueError(f"unknown split {split!r}; valid splits: {', '.join(imagenet.SPLITS)}")
    folder = imagenet.find_root(split, root) / split
    transform = imagenet_transform(split == "train", image_size, train_recipe)
    try:
        return _ImageNetFolder(str(folder), transform=transform, loader=_load_image, is_valid_file=_is_image)
    except FileNotFoundError as err:  # torchvision: a class folder of train/ holds no image in this split
        raise DataError(folder, f"has a class without images ({err})",
                        f"give every class folder of train/ at least one {'/'.join(imagenet.EXTENSIONS)} "
                        "image in this split") from err


class Cutout:
    """DARTS' Cutout (``utils.Cutout`` of the released code, after DeVries & Taylor 2017): zero one
    ``length`` x ``length`` square of a (C, H, W) tensor, centred at a uniform pixel, clipped at the
    borders. DARTS draws the centre with numpy; torch's RNG here, which the engine seeds every step."""

    def __init__(self, length: int = CUTOUT_LENGTH):
        if length < 1:
            raise ValueError(f"Cutout length must be >= 1, got {length}")
        self.length = length

    def __call__(self, img: torch.Tensor) -> torch.Tensor:
        h, w = img.shape[-2:]
        y, x = int(torch.randint(h, ())), int(torch.randint(w, ()))
        out = img.clone()
        out[..., max(0, y - self.length // 2): y + self.length // 2,
            max(0, x - self.length // 2): x + self.length // 2] = 0
        return out


def cifar_transform(name: str, train: bool, *, augment: bool = True, cutout: bool = False) -> v2.Compose:
    """DARTS' CIFAR transform: RandomCrop(32, padding=4) and a horizontal flip when training with
    ``augment``, standardised with :data:`repro.data.cifar.MEAN`/``STD``; Cutout(16) last if ``cutout``."""
    geometry = [v2.RandomCrop(32, padding=4), v2.RandomHorizontalFlip()] if train and augment else []
    tail = [Cutout()] if train and cutout else []
    return v2.Compose([v2.ToImage(), *geometry, v2.ToDtype(torch.float32, scale=True),
                       v2.Normalize(cifar.MEAN[name], cifar.STD[name]), v2.ToPureTensor(), *tail])


def _layout(name: str) -> dict[str, Any]:
    """The class attributes that make torchvision's CIFAR reader read :mod:`repro.data.cifar`'s files
    straight from its root, checking that they exist but not their md5 sums (those of the tarball
    would reject re-pickled copies and the test fakes)."""
    meta_file, meta_key = cifar.META[name]
    return {"base_folder": "", "train_list": [[f, None] for f in cifar.FILES[name]["train"]],
            "test_list": [[f, None] for f in cifar.FILES[name]["test"]],
            "meta": {"filename": meta_file, "key": meta_key, "md5": None}}


_CIFAR10 = type("_CIFAR10", (datasets.CIFAR10,), _layout("cifar10"))
_CIFAR100 = type("_CIFAR100", (datasets.CIFAR100,), _layout("cifar100"))
_CIFAR = {"cifar10": _CIFAR10, "cifar100": _CIFAR100}


def cifar_dataset(name: str, split: str, root: str | Path | None = None, *, augment: bool = True,
                  cutout: bool = False) -> datasets.CIFAR10:
    """CIFAR-10/100 ``train`` or ``test`` through torchvision, with :func:`cifar_transform`."""
    if split not in CIFAR_SPLITS:
        raise ValueError(f"unknown split {split!r}; valid splits: {', '.join(CIFAR_SPLITS)}")
    folder = cifar.find_root(name, root)
    transform = cifar_transform(name, split == "train", augment=augment, cutout=cutout)
    try:
        return _CIFAR[name](str(folder), train=split == "train", transform=transform)
    except (KeyError, ValueError, EOFError, pickle.UnpicklingError) as err:  # a bytes-keyed or broken pickle
        raise DataError(folder, f"holds a pickle torchvision cannot read ({type(err).__name__}: {err}; it "
                        "reads the original pickles, whose keys are str)", cifar.REEXTRACT) from err


def mixup_fn(num_classes: int, mixup: float = 0.8, cutmix: float = 1.0,
             label_smoothing: float = 0.1) -> timm.data.Mixup:
    """DeiT's batch mixing (main.py defaults: --mixup 0.8, --cutmix 1.0, --smoothing 0.1, one of
    the two per batch with probability 0.5): ``mix(images, labels)`` -> mixed images, soft labels."""
    return timm.data.Mixup(mixup_alpha=mixup, cutmix_alpha=cutmix, label_smoothing=label_smoothing,
                           num_classes=num_classes)


@dataclass(frozen=True)
class LoaderConfig:
    """How :func:`batch_stream` loads: batch size, worker processes, pinned memory, dropping the
    last short batch of an epoch, and the seed of every epoch's order."""
    batch_size: int
    workers: int = 0
    pin_memory: bool = False
    drop_last: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        for field, least in (("batch_size", 1), ("workers", 0), ("seed", 0)):
            value = getattr(self, field)
            if not isinstance(value, int) or isinstance(value, bool) or value < least:
                raise ValueError(f"LoaderConfig.{field} must be an integer >= {least}, got {value!r}")
        for field in ("pin_memory", "drop_last"):
            if not isinstance(getattr(self, field), bool):
                raise ValueError(f"LoaderConfig.{field} must be True or False, got {getattr(self, field)!r}")


def batch_stream(dataset: Dataset, cfg: LoaderConfig, *, shard: bool = False) -> Callable[[], Iterator[Any]]:
    """A factory of endless iterators over the epochs of ``dataset`` (the engine's ``batches``).

    Epoch ``e`` is shuffled by a ``DistributedSampler`` seeded ``cfg.seed`` with ``set_epoch(e)``:
    its order is a pure function of ``(seed, e)``. ``shard=False`` (default): every rank iterates
    the whole order and :func:`repro.train.engine.run` gives rank ``r`` the micro-batches
    ``i % world == r``. ``shard=True``: the sampler splits each epoch between the ranks of the
    initialised process group instead (for loops that do not split batches themselves).

    Augmentation draws repeat too: worker processes are seeded from ``cfg.seed``; with
    ``workers=0`` they come from the caller's RNG (the engine seeds torch before every step). A
    :class:`DataError` raised in a worker reaches the caller as torch's ``RuntimeError`` whose
    message holds the DataError's (torch rebuilds exceptions from one message only).
    """
    def stream() -> Iterator[Any]:
        sharded = shard and dist.is_available() and dist.is_initialized()
        replicas, rank = (dist.get_world_size(), dist.get_rank()) if sharded else (1, 0)
        sampler = DistributedSampler(dataset, num_replicas=replicas, rank=rank, shuffle=True, seed=cfg.seed)
        loader = DataLoader(dataset, batch_size=cfg.batch_size, sampler=sampler, num_workers=cfg.workers,
                            pin_memory=cfg.pin_memory, drop_last=cfg.drop_last,
                            persistent_workers=cfg.workers > 0,
                            generator=torch.Generator().manual_seed(cfg.seed))
        if len(loader) == 0:
            raise ValueError(f"{len(sampler)} samples per rank make no batch of {cfg.batch_size} with "
                             "drop_last: lower LoaderConfig.batch_size or set drop_last=False")
        epoch = 0
        while True:
            sampler.set_epoch(epoch)
            yield from loader
            epoch += 1

    return stream
