"""The data of one profile: Fashion-MNIST's splits and the translation corpus with its subword models."""
from __future__ import annotations

import json
from dataclasses import dataclass

import sentencepiece as spm
from torch.utils.data import TensorDataset

from repro.data import PAIRS, load_fashion_mnist, subword_model
from repro.data.corpus import CORPUS_DIR
from repro.profiles import Profile


@dataclass(frozen=True)
class DataOverview:
    """The profile's subsets of Fashion-MNIST, its cap on corpus pairs and its subword vocabulary size."""
    fashion_train_subset: int
    fashion_test_subset: int
    corpus_max_pairs: int
    spm_vocab_size: int

    @classmethod
    def from_profile(cls, profile: Profile) -> "DataOverview":
        d = profile.data
        return cls(d.fashion_train_subset, d.fashion_test_subset, d.corpus_max_pairs, d.spm_vocab_size)


def fashion(study: DataOverview) -> tuple[TensorDataset, TensorDataset]:
    """Fashion-MNIST train and test splits of the profile, unnormalised (pixel values in [0, 1])."""
    return (load_fashion_mnist("train", study.fashion_train_subset, normalize=False),
            load_fashion_mnist("test", study.fashion_test_subset, normalize=False))


def corpus_manifest() -> dict:
    """``data/corpus/manifest.json``: every catalog with its package and version, pairs per split."""
    return json.loads((CORPUS_DIR / "manifest.json").read_text())


def subword_models(study: DataOverview) -> dict[str, spm.SentencePieceProcessor]:
    """The joint sentencepiece model of each language pair (trained on the full train split, cached)."""
    return {pair: subword_model(pair, study.spm_vocab_size) for pair in PAIRS}
