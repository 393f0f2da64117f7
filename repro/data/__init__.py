"""Datasets, all loaded without network access and without torchvision.

``fashion_mnist``: the IDX files of Debian's ``dataset-fashion-mnist`` (or a user folder).
Further readers (CIFAR, ImageNet, the gettext translation corpus, WMT'14) live beside it.
"""
from repro.data.errors import DatasetNotFound
from repro.data.fashion_mnist import FASHION_CLASSES, load_fashion_mnist

__all__ = ["DatasetNotFound", "FASHION_CLASSES", "load_fashion_mnist"]
