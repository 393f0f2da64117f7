"""Tables of notebook 00: Fashion-MNIST's class balance, the corpus statistics, test examples."""
from __future__ import annotations

import numpy as np
import pandas as pd
import sentencepiece as spm
from torch.utils.data import TensorDataset

from repro.data import FASHION_CLASSES, PAIRS, load_pairs
from repro.data.corpus import statistics


def class_balance(train: TensorDataset, test: TensorDataset) -> pd.DataFrame:
    """Images per class in each split."""
    return pd.DataFrame({"class": FASHION_CLASSES,
                         "train": np.bincount(train.tensors[1].numpy(), minlength=10),
                         "test": np.bincount(test.tensors[1].numpy(), minlength=10)})


def corpus_stats(cap: int, models: dict[str, spm.SentencePieceProcessor], manifest: dict) -> pd.DataFrame:
    """Pairs used (``cap`` per split) and in the corpus, mean words and subwords per sentence, per pair and split."""
    stats = pd.concat([statistics(pair, cap, models[pair].encode) for pair in PAIRS], ignore_index=True)
    stats = stats.rename(columns={"pairs": "pairs used"})
    stats.insert(2, "pairs in corpus", [manifest["pairs"][r.pair][r.split] for r in stats.itertuples()])
    stats["subword vocabulary"] = [models[pair].get_piece_size() for pair in stats["pair"]]
    return stats


def examples(per_pair: int = 4) -> pd.DataFrame:
    """The first test pairs of each language pair."""
    return pd.DataFrame([{"pair": pair, "English": en, "translation": xx}
                         for pair in PAIRS for en, xx in load_pairs(pair, "test", per_pair)])
