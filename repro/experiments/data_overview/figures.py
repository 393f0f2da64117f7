"""Figures of notebook 00: a grid of Fashion-MNIST samples per class, sentence lengths of the corpus."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from torch.utils.data import TensorDataset

from repro.data import FASHION_CLASSES, PAIRS, load_pairs


def fashion_samples(train: TensorDataset, test: TensorDataset, per_class: int = 8) -> plt.Figure:
    """The first ``per_class`` training images of every class, one row per class."""
    x, y = train.tensors
    fig, axes = plt.subplots(10, per_class, figsize=(6, 7.5))
    for c in range(10):
        idx = np.flatnonzero(y.numpy() == c)[:per_class]
        for j, ax in enumerate(axes[c]):
            ax.imshow(x[idx[j], 0], cmap="gray_r")
            ax.set_xticks([])
            ax.set_yticks([])
        axes[c, 0].set_ylabel(FASHION_CLASSES[c], rotation=0, ha="right", fontsize=7)
    fig.suptitle(f"Fashion-MNIST training samples ({len(train)} train / {len(test)} test in this profile)")
    return fig


def corpus_lengths(cap: int) -> plt.Figure:
    """Histograms of words per sentence of each language pair's training split (``cap`` pairs)."""
    fig, axes = plt.subplots(1, len(PAIRS), figsize=(9, 3), sharey=True)
    for ax, pair in zip(axes, PAIRS):
        train_pairs = load_pairs(pair, "train", cap)
        bins = np.arange(0, 52, 2)
        for side, lang in enumerate(pair.split("-")):
            ax.hist([len(p[side].split()) for p in train_pairs], bins=bins, alpha=0.6, label=lang)
        ax.set_title(f"{pair} train ({len(train_pairs)} pairs)")
        ax.set_xlabel("words per sentence")
        ax.legend()
    axes[0].set_ylabel("sentences")
    return fig
