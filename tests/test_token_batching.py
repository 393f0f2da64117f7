"""Token-count batching (HAT / fairseq): line index, lengths, the packer against a plain loop, update-freq,
and the batch stream in the NLP study's collate format."""
from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
import sentencepiece as spm
import torch

from repro.data import token_batching as tb
from repro.data.errors import DataError
from repro.data.subwords import train_model
from repro.data.token_batching import (HAT_GLOBAL_TOKENS, LineIndex, ParallelText, TokenBatchConfig,
                                       TokenBatchStream, dropped_pairs, pack_batches, token_batches,
                                       token_lengths, update_freq)

WORDS = "the cat sat on a mat dog ran far über straße café naïve 日本 state-of-the-art quickly".split()


def naive_batches(src: list[int], tgt: list[int], max_tokens: int, seed: int, limit: int) -> list[list[int]]:
    """Sorted by (src, tgt, place in the seeded permutation), long pairs left out, then a plain greedy loop."""
    perm = np.random.default_rng(seed).permutation(len(src)).tolist()
    place = {i: k for k, i in enumerate(perm)}
    order = sorted((i for i in range(len(src)) if max(src[i], tgt[i]) <= limit),
                   key=lambda i: (src[i], tgt[i], place[i]))
    batches: list[list[int]] = []
    batch: list[int] = []
    for i in order:
        width = max([max(src[j], tgt[j]) for j in batch + [i]])
        if batch and (len(batch) + 1) * width > max_tokens:
            batches.append(batch)
            batch = []
        batch.append(i)
    if batch:
        batches.append(batch)
    return batches


def random_lengths(seed: int, n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(1, 41, n).astype(np.int32), rng.integers(1, 41, n).astype(np.int32)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pack_batches_equals_a_plain_loop(seed):
    src, tgt = random_lengths(seed)
    src[:3] = [100, 5, 41]          # three pairs over max_positions=40: dropped
    tgt[:3] = [5, 100, 41]
    tgt[3:5] = [40, 1]
    with pytest.warns(UserWarning, match=f"3 of {len(src)} sentence pairs dropped"):
        got = pack_batches(src, tgt, 128, seed=seed, max_positions=40)
    assert [b.tolist() for b in got] == naive_batches(src.tolist(), tgt.tolist(), 128, seed, 40)
    flat = np.concatenate(got)
    assert len(flat) == len(set(flat.tolist())) == len(src) - 3
    assert set(range(3)).isdisjoint(flat.tolist())
    assert dropped_pairs(src, tgt, 128, 40).tolist() == [0, 1, 2]
    assert all(len(b) * max(np.maximum(src[b], tgt[b])) <= 128 for b in got)


def test_max_tokens_also_bounds_without_max_positions():
    src, tgt = np.array([3, 9, 4, 2]), np.array([3, 2, 10, 2])
    with pytest.warns(UserWarning, match="2 of 4"):
        got = pack_batches(src, tgt, 8, seed=0)
    assert sorted(np.concatenate(got).tolist()) == [0, 3]
    assert [b.tolist() for b in got] == [[3, 0]]   # sorted by source length: 2 then 3; 2 x 3 <= 8


def test_token_batches_is_a_seeded_shuffle_of_the_packing():
    src, tgt = random_lengths(7)
    packed = [b.tolist() for b in pack_batches(src, tgt, 256, seed=3)]
    e0 = token_batches(src, tgt, 256, seed=3, epoch=0)
    assert [b.tolist() for b in e0] == [b.tolist() for b in token_batches(src, tgt, 256, seed=3, epoch=0)]
    e1 = token_batches(src, tgt, 256, seed=3, epoch=1)
    assert sorted(b.tolist() for b in e0) == sorted(b.tolist() for b in e1) == sorted(packed)
    assert [b.tolist() for b in e0] != [b.tolist() for b in e1]
    assert [b.tolist() for b in e0] != packed


def test_bad_lengths_are_rejected():
    with pytest.raises(ValueError, match="1-D of one length"):
        pack_batches(np.ones(3), np.ones(4), 10, seed=0)
    with pytest.raises(ValueError, match=">= 1"):
        pack_batches(np.array([0]), np.array([1]), 10, seed=0)


def test_line_index_matches_splitlines(tmp_path, monkeypatch):
    monkeypatch.setattr(tb, "_CHUNK", 5)     # newlines on every side of a chunk boundary
    text = "Grüße aus Köln\n日本語のテキスト 🎉\n\nwindows line\r\nlast one\n\n"
    path = tmp_path / "a.txt"
    path.write_bytes(text.encode("utf-8"))
    index = LineIndex(path)
    assert len(index) == len(text.splitlines()) == 6
    assert [index[i] for i in range(len(index))] == text.splitlines()
    assert index.read(1, 4) == text.splitlines()[1:4]
    assert index[-1] == "" and index[-2] == "last one"
    with pytest.raises(IndexError):
        index[6]
    (tmp_path / "b.txt").write_text("no newline at the end\nlast")
    assert [LineIndex(tmp_path / "b.txt")[i] for i in range(2)] == ["no newline at the end", "last"]
    (tmp_path / "empty.txt").write_text("")
    assert len(LineIndex(tmp_path / "empty.txt")) == 0


def test_line_index_errors_name_the_file(tmp_path):
    with pytest.raises(DataError, match="missing.en"):
        LineIndex(tmp_path / "missing.en")
    (tmp_path / "latin1.de").write_bytes("gut\nGrüße\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"latin1.de: line 2 is not UTF-8"):
        LineIndex(tmp_path / "latin1.de")[1]


def test_parallel_text_with_unequal_line_counts(tmp_path):
    (tmp_path / "train.en").write_text("one\ntwo\nthree\n")
    (tmp_path / "train.de").write_text("eins\nzwei\n")
    with pytest.raises(DataError) as err:
        ParallelText.open(tmp_path / "train.en", tmp_path / "train.de")
    assert str(tmp_path / "train.en") in str(err.value) and str(tmp_path / "train.de") in str(err.value)
    assert "3 lines" in str(err.value) and "target 2" in str(err.value)


def test_update_freq_hand_numbers():
    assert HAT_GLOBAL_TOKENS == 524288
    assert update_freq(HAT_GLOBAL_TOKENS, 4096, 8) == 16       # HAT space0.yml
    assert update_freq(HAT_GLOBAL_TOKENS, 4096, 4) == 32       # HAT README: 128/x for x GPUs
    assert update_freq(HAT_GLOBAL_TOKENS, 4096, 1) == 128
    assert update_freq(4096, 4096, 1) == 1
    with pytest.raises(ValueError, match="3584 x 8 = 28672"):
        update_freq(HAT_GLOBAL_TOKENS, 3584, 8)
    with pytest.raises(ValueError, match="world_size"):
        update_freq(HAT_GLOBAL_TOKENS, 4096, 0)


def test_config_is_validated():
    assert TokenBatchConfig() == TokenBatchConfig(max_tokens=4096, max_positions=256, seed=0)
    for bad, match in [(dict(max_tokens=0), "max_tokens"), (dict(max_positions=1), "max_positions"),
                       (dict(max_tokens=100, max_positions=200), "exceeds max_tokens"), (dict(seed=-1), "seed")]:
        with pytest.raises(ValueError, match=match):
            TokenBatchConfig(**bad)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[ParallelText, spm.SentencePieceProcessor, list[str], list[str]]:
    rng = random.Random(0)
    src = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 12))) for _ in range(50)]
    tgt = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 12))) for _ in range(50)]
    src[7] = " ".join(WORDS * 4)    # far over max_positions: dropped
    sp = spm.SentencePieceProcessor(model_proto=train_model(src + tgt, vocab_size=60))
    root = tmp_path_factory.mktemp("wmt14") / "en-de"
    root.mkdir()
    (root / "train.en").write_text("\n".join(src) + "\n")
    (root / "train.de").write_text("\n".join(tgt) + "\n")
    return ParallelText.open(root / "train.en", root / "train.de"), sp, src, tgt


def test_token_lengths(corpus):
    text, sp, src, _ = corpus
    assert token_lengths(text.src, sp, 1000).tolist() == [len(sp.encode(s)) + 1 for s in src]
    assert token_lengths(text.src, sp, 5).tolist() == [min(len(sp.encode(s)), 5) + 1 for s in src]


def test_stream_batches_in_collate_format(corpus):
    from repro.experiments.shiftaddnas_nlp.run import collate

    text, sp, src, tgt = corpus
    config = TokenBatchConfig(max_tokens=96, max_positions=48, seed=1)
    with pytest.warns(UserWarning, match="1 of 50"):
        stream = TokenBatchStream(text, sp, config)
    assert stream.dropped == 1
    epoch0 = stream.epoch(0)
    assert len(epoch0) > 5
    with pytest.warns(UserWarning, match="1 of 50"):
        direct = token_batches(stream.src_lens, stream.tgt_lens, 96, seed=1, epoch=0, max_positions=48)
    assert [b.tolist() for b in epoch0] == [b.tolist() for b in direct]
    it = stream()
    for indices in epoch0:
        got = next(it)
        want = collate([(sp.encode(src[i]), sp.encode(tgt[i])) for i in indices.tolist()])
        assert all(g.dtype == torch.long and torch.equal(g, w) for g, w in zip(got, want))
        assert all(g.numel() <= 96 for g in got)
    assert 7 not in np.concatenate(epoch0).tolist()


def test_stream_is_deterministic_and_resumes(corpus):
    text, sp, _, _ = corpus
    config = TokenBatchConfig(max_tokens=96, max_positions=48, seed=2)
    with pytest.warns(UserWarning):
        a, b = TokenBatchStream(text, sp, config), TokenBatchStream(text, sp, config)
    n = len(a)

    def draw(it, k):
        return [torch.cat([t.flatten() for t in next(it)]) for _ in range(k)]

    first = draw(a(), n + 12)                                  # into the second epoch
    assert all(torch.equal(x, y) for x, y in zip(first, draw(b(), n + 12)))
    assert all(torch.equal(x, y) for x, y in zip(first[n - 2:], draw(b(n - 2), 5)))
    assert [x.tolist() for x in a.epoch(0)] != [x.tolist() for x in a.epoch(1)]
    encoded, encode = [], b.encode
    b.encode = lambda indices: encoded.append(indices) or encode(indices)
    for world in (2, 3):  # one DDP rank's share, across the epoch boundary; the others' never encoded
        for rank in range(world):
            encoded.clear()
            share = draw(b(n - 2, rank, world), 4)
            assert all(torch.equal(x, first[n - 2 + rank + k * world]) for k, x in enumerate(share))
            assert len(encoded) == 4
    with pytest.raises(ValueError, match="rank < world"):
        b(0, 2, 2)


def test_stream_rejects_lengths_of_another_model(corpus):
    text, sp, _, _ = corpus
    config = TokenBatchConfig(max_tokens=96, max_positions=48)
    lens = token_lengths(text.src, sp, 48)
    with pytest.raises(ValueError, match="hold 49 / 50 lengths"):
        TokenBatchStream(text, sp, config, src_lens=lens[:-1], tgt_lens=token_lengths(text.tgt, sp, 48))
    with pytest.warns(UserWarning):
        stream = TokenBatchStream(text, sp, config, src_lens=lens + 1, tgt_lens=token_lengths(text.tgt, sp, 48))
    with pytest.raises(ValueError, match="do not match"):
        next(stream())
