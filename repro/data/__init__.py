"""Datasets, all loaded without network access.

``fashion_mnist``: the IDX files of Debian's ``dataset-fashion-mnist`` (or a user folder).
``corpus``: the En-De / En-Fr corpus built from Debian's gettext catalogs (committed in ``data/corpus``).
``subwords``: a joint sentencepiece model per language pair, trained and cached on first use.
``cifar``, ``imagenet``, ``wmt``: CIFAR-10/100, ImageNet and WMT'14 from a user-supplied path (found
and checked); ``vision``: their torchvision datasets and loaders (DeiT / DARTS recipes), imported on
use; ``token_batching``, ``bleu``: WMT'14 token-count batches and the two BLEU scores.
"""
from repro.data.corpus import PAIRS, SPLITS, load_pairs
from repro.data.errors import DataError, DatasetNotFound
from repro.data.fashion_mnist import FASHION_CLASSES, load_fashion_mnist
from repro.data.subwords import subword_model
from repro.data.wmt import load_wmt14

__all__ = ["DataError", "DatasetNotFound", "FASHION_CLASSES", "PAIRS", "SPLITS", "load_fashion_mnist",
           "load_pairs", "load_wmt14", "subword_model"]
