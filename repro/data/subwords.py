"""A joint sentencepiece subword model per language pair, trained on the corpus' train split.

``subword_model("en-de", 8000)`` trains a unigram model on both sides of the train split (one
vocabulary shared by source and target, as in the Transformer/HAT setups), caches the model bytes
with :func:`repro.cache.cached` keyed by the corpus sha256 and the vocabulary size, and returns a
loaded ``sentencepiece.SentencePieceProcessor``. Special ids: pad 0, unk 1, bos 2, eos 3.
"""
from __future__ import annotations

import io
from pathlib import Path

import sentencepiece as spm

from repro.cache import Checkpoint, cached
from repro.data import corpus

PAD_ID, UNK_ID, BOS_ID, EOS_ID = 0, 1, 2, 3


def train_model(sentences: list[str], vocab_size: int) -> bytes:
    """The serialized model of a unigram sentencepiece model trained on ``sentences`` (deterministic).

    ``hard_vocab_limit=False`` lets a small corpus end below ``vocab_size`` instead of failing.
    """
    if vocab_size < 8:
        raise ValueError(f"vocab_size must be at least 8 (4 special ids and some pieces), got {vocab_size}")
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences), model_writer=model, vocab_size=vocab_size,
        model_type="unigram", character_coverage=1.0, hard_vocab_limit=False,
        pad_id=PAD_ID, unk_id=UNK_ID, bos_id=BOS_ID, eos_id=EOS_ID,
        input_sentence_size=0, shuffle_input_sentence=False, num_threads=1,
        max_sentence_length=1 << 16, minloglevel=2)
    return model.getvalue()


def subword_model(pair: str, vocab_size: int, *, directory: Path | None = None) -> spm.SentencePieceProcessor:
    """The joint subword model of ``pair`` (``"en-de"`` or ``"en-fr"``), trained once and cached."""
    train = corpus.load_pairs(pair, "train", directory=directory)
    key = {"pair": pair, "vocab_size": vocab_size, "corpus_sha256": corpus.corpus_sha256(pair, directory)}

    def compute(ckpt: Checkpoint) -> bytes:
        return train_model([s for en, xx in train for s in (en, xx)], vocab_size)

    proto = cached(f"spm-{pair}-{vocab_size}", key, compute, code=(train_model,))
    return spm.SentencePieceProcessor(model_proto=proto)


def wmt14_subword_model(pair: str, vocab_size: int, root: str | Path | None = None, *,
                        sample: int = 1_000_000) -> spm.SentencePieceProcessor:
    """The joint subword model of WMT'14 ``pair``, trained once (cached) on ``sample`` training pairs
    drawn evenly through the files (sentencepiece's own recommendation for large corpora is a sample of
    about 1M sentences; HAT uses a 32k joint BPE). The files are read line by line, never whole."""
    from repro.data import wmt

    files = wmt.find_files(pair, "train", root)
    stats = [(str(f.resolve()), f.stat().st_size, f.stat().st_mtime_ns) for f in files]
    key = {"pair": pair, "vocab_size": vocab_size, "sample": sample, "files": stats}

    def compute(ckpt: Checkpoint) -> bytes:
        with files[0].open("rb") as fh:
            n = sum(1 for _ in fh)
        step = max(1, n // max(1, sample))
        sentences: list[str] = []
        for f in files:
            with f.open(encoding="utf-8") as fh:
                sentences += [line.rstrip("\n") for i, line in enumerate(fh) if i % step == 0]
        return train_model([s for s in sentences if s], vocab_size)

    proto = cached(f"spm-wmt14-{pair}-{vocab_size}", key, compute, code=(train_model,))
    return spm.SentencePieceProcessor(model_proto=proto)
