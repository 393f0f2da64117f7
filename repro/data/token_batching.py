"""WMT'14-scale parallel text streamed from disk and batched by token count, as HAT trains (``paper`` profile).

HAT (github mit-han-lab/hardware-aware-transformers) trains with fairseq, and this module follows its
batching, read in that repository:

* ``configs/wmt14.en-de/supertransformer/space0.yml``: ``max-tokens: 4096`` per GPU and
  ``update-freq: 16``; the README: "we train WMT tasks on 8 GPUs. Please adjust ``--update-freq``
  according to GPU numbers (``128/x`` for x GPUs)", so one update sees up to 128 x 4096 tokens
  (:data:`HAT_GLOBAL_TOKENS`, :func:`update_freq`);
* ``fairseq/data/language_pair_dataset.py``: ``ordered_indices`` draws a seeded permutation and
  stable-sorts it by target then source size (sorted by ``(src, tgt)``, random among ties);
  ``num_tokens`` is the longer side; sizes count the appended EOS;
* ``fairseq/tasks/fairseq_task.py`` and ``fairseq/trainer.py``: the permutation is seeded with
  ``--seed`` alone, pairs over ``max_positions`` are dropped (``ignore_invalid_inputs=True`` for
  training), then ``data_utils.batch_by_size`` packs greedily while ``batch size x longest <= max_tokens``;
* ``fairseq/data/iterators.py``: the batches are fixed once and their order is shuffled each epoch
  with ``seed + epoch`` "so that we get reproducible results when resuming from checkpoints".

Deviation: HAT's ``--required-batch-size-multiple`` (default 8) rounds batch sizes down to a
multiple of 8; here every batch is packed as full as the token budget allows.

:class:`LineIndex` holds byte offsets only (8 bytes a line, the text stays on disk);
:func:`token_lengths` encodes a file once, streaming, into one ``int32`` length per line;
:class:`TokenBatchStream` encodes each batch when it is drawn, in the tensor format of
``repro.experiments.shiftaddnas_nlp.run.collate`` (``source + EOS``, ``BOS + target``, ``target + EOS``,
PAD-padded ``long`` tensors).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import sentencepiece as spm
import torch

from repro.data.errors import DataError
from repro.data.subwords import BOS_ID, EOS_ID, PAD_ID

Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor]  # source, target input, target output

#: Tokens per update in HAT's WMT recipe: 8 GPUs x ``max-tokens 4096`` x ``update-freq 16`` (space0.yml, README).
HAT_GLOBAL_TOKENS = 128 * 4096

_CHUNK = 1 << 20      # bytes read at a time while indexing
_ENCODE_LINES = 4096  # lines encoded at a time by token_lengths


class LineIndex:
    """The lines of a UTF-8 text file by number, from their byte offsets (one streaming pass; the text stays on disk).

    A line ends at ``\\n`` (a trailing ``\\r`` is dropped); a last line without ``\\n`` counts, and a
    file ending in ``\\n`` has no empty line after it (as ``str.splitlines``).
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.is_file():
            raise DataError(self.path, "no such file",
                            "pass an existing text file (repro.data.wmt.find_files gives the WMT'14 files)")
        ends = []
        with self.path.open("rb") as fh:
            at = 0
            while chunk := fh.read(_CHUNK):
                ends.append(np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == 0x0A) + (at + 1))
                at += len(chunk)
        starts = np.concatenate([np.zeros(1, dtype=np.int64), *ends]).astype(np.int64)
        if starts[-1] != at:
            starts = np.append(starts, np.int64(at))
        self._offsets = starts  # line i is bytes [offsets[i], offsets[i + 1])
        self._fh = None

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def __getitem__(self, i: int) -> str:
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"line {i} of {self.path}, which has {n} lines")
        i %= n
        return self.read(i, i + 1)[0]

    def read(self, start: int, stop: int) -> list[str]:
        """Lines ``start`` to ``stop - 1``, read in one contiguous piece."""
        if not 0 <= start <= stop <= len(self):
            raise IndexError(f"lines {start}:{stop} of {self.path}, which has {len(self)} lines")
        if self._fh is None:
            self._fh = self.path.open("rb")
        begin = int(self._offsets[start])
        self._fh.seek(begin)
        raw = self._fh.read(int(self._offsets[stop]) - begin)
        cuts = (self._offsets[start:stop + 1] - begin).tolist()
        lines = []
        for k, (a, b) in enumerate(zip(cuts, cuts[1:])):
            piece = raw[a:b].removesuffix(b"\n").removesuffix(b"\r")
            try:
                lines.append(piece.decode("utf-8"))
            except UnicodeDecodeError as e:
                raise DataError(self.path, f"line {start + k + 1} is not UTF-8 ({e.reason})",
                                "re-encode the file as UTF-8 (e.g. iconv -t UTF-8)") from None
        return lines

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_fh": None}

    def __del__(self) -> None:
        if getattr(self, "_fh", None) is not None:
            self._fh.close()


@dataclass(frozen=True)
class ParallelText:
    """Source and target :class:`LineIndex` of one split; line ``i`` of one translates line ``i`` of the other."""
    src: LineIndex
    tgt: LineIndex

    def __post_init__(self) -> None:
        if len(self.src) != len(self.tgt):
            raise DataError(f"{self.src.path} and {self.tgt.path}",
                            f"the source has {len(self.src)} lines and the target {len(self.tgt)}, so the "
                            "lines cannot be paired",
                            "use the two files of one split, one sentence per line on both sides "
                            "(a sentence holding a newline shifts every later pair)")

    @classmethod
    def open(cls, src: str | Path, tgt: str | Path) -> ParallelText:
        """Index both files (e.g. ``ParallelText.open(*repro.data.wmt.find_files("en-de", "train"))``)."""
        return cls(LineIndex(src), LineIndex(tgt))

    def __len__(self) -> int:
        return len(self.src)


def token_lengths(index: LineIndex, sp: spm.SentencePieceProcessor, max_tokens_per_sentence: int) -> np.ndarray:
    """Per line, the length of its row in a batch: its subwords, at most ``max_tokens_per_sentence``, plus
    one (the EOS or BOS that ``collate`` adds; fairseq's sizes count the EOS too). One streaming pass."""
    if max_tokens_per_sentence < 1:
        raise ValueError(f"max_tokens_per_sentence must be >= 1, got {max_tokens_per_sentence}")
    out = np.empty(len(index), dtype=np.int32)
    for start in range(0, len(index), _ENCODE_LINES):
        stop = min(start + _ENCODE_LINES, len(index))
        out[start:stop] = [min(len(ids), max_tokens_per_sentence) + 1
                           for ids in sp.encode(index.read(start, stop))]
    return out


def _check_lengths(src_lens: np.ndarray, tgt_lens: np.ndarray, max_tokens: int) -> tuple[np.ndarray, np.ndarray]:
    src, tgt = np.asarray(src_lens, dtype=np.int64), np.asarray(tgt_lens, dtype=np.int64)
    if src.ndim != 1 or src.shape != tgt.shape:
        raise ValueError(f"src_lens and tgt_lens must be 1-D of one length, got shapes {src.shape} and {tgt.shape}")
    if len(src) and min(src.min(), tgt.min()) < 1:
        raise ValueError("every length must be >= 1 (a row holds at least its EOS or BOS); use token_lengths")
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be >= 1, got {max_tokens}")
    return src, tgt


def dropped_pairs(src_lens: np.ndarray, tgt_lens: np.ndarray, max_tokens: int,
                  max_positions: int | None = None) -> np.ndarray:
    """Indices of the pairs :func:`pack_batches` leaves out: a side over ``max_positions`` tokens, or
    over ``max_tokens`` (such a pair fits no batch)."""
    src, tgt = _check_lengths(src_lens, tgt_lens, max_tokens)
    return np.flatnonzero(np.maximum(src, tgt) > _limit(max_tokens, max_positions))


def _limit(max_tokens: int, max_positions: int | None) -> int:
    return max_tokens if max_positions is None else min(max_positions, max_tokens)


def pack_batches(src_lens: np.ndarray, tgt_lens: np.ndarray, max_tokens: int, *, seed: int,
                 max_positions: int | None = None) -> list[np.ndarray]:
    """The batches of one epoch before their shuffle (fairseq ``ordered_indices`` + ``batch_by_size``).

    Indices sorted by ``(src_len, tgt_len)``, ties in a permutation seeded by ``seed``; pairs of
    :func:`dropped_pairs` left out (counted in a warning); then cut greedily: a batch grows while
    ``len(batch) * max(max(src_len, tgt_len) in batch) <= max_tokens``.
    """
    src, tgt = _check_lengths(src_lens, tgt_lens, max_tokens)
    order = np.random.default_rng(seed).permutation(len(src))
    order = order[np.argsort(tgt[order], kind="stable")]
    order = order[np.argsort(src[order], kind="stable")]
    longer = np.maximum(src, tgt)
    limit = _limit(max_tokens, max_positions)
    order = order[longer[order] <= limit]
    if len(order) < len(src):
        warnings.warn(f"{len(src) - len(order)} of {len(src)} sentence pairs dropped: a side longer than "
                      f"{limit} tokens (max_positions / max_tokens)", stacklevel=2)
    batches, start, width = [], 0, 0
    for i, n in enumerate(longer[order].tolist()):
        if (i - start + 1) * max(width, n) > max_tokens:
            batches.append(order[start:i])
            start, width = i, n
        else:
            width = max(width, n)
    if start < len(order):
        batches.append(order[start:])
    return batches


def shuffle_batches(batches: list[np.ndarray], seed: int, epoch: int) -> list[np.ndarray]:
    """The batches in the order of epoch ``epoch`` (a permutation seeded by ``(seed, epoch)``)."""
    return [batches[i] for i in np.random.default_rng([seed, epoch]).permutation(len(batches))]


def token_batches(src_lens: np.ndarray, tgt_lens: np.ndarray, max_tokens: int, *, seed: int, epoch: int,
                  max_positions: int | None = None) -> list[np.ndarray]:
    """Epoch ``epoch``'s batches of pair indices: :func:`pack_batches` then :func:`shuffle_batches`."""
    return shuffle_batches(pack_batches(src_lens, tgt_lens, max_tokens, seed=seed, max_positions=max_positions),
                           seed, epoch)


def update_freq(global_tokens: int, max_tokens: int, world_size: int) -> int:
    """Micro-batches per update so that ``world_size`` workers of ``max_tokens`` reach ``global_tokens``.

    HAT: ``update_freq(HAT_GLOBAL_TOKENS, 4096, 8) == 16`` (space0.yml), ``32`` on 4 GPUs (README).
    """
    for name, value in (("global_tokens", global_tokens), ("max_tokens", max_tokens), ("world_size", world_size)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    per_round = max_tokens * world_size
    if global_tokens % per_round:
        raise ValueError(f"global_tokens={global_tokens} is not a multiple of max_tokens x world_size = "
                         f"{max_tokens} x {world_size} = {per_round}; choose max_tokens and world_size whose "
                         f"product divides it (HAT: {HAT_GLOBAL_TOKENS} = 4096 x 8 GPUs x 16)")
    return global_tokens // per_round


@dataclass(frozen=True)
class TokenBatchConfig:
    """Token-count batching settings.

    ``max_tokens``: tokens per batch (HAT's ``max-tokens: 4096``, per GPU); ``max_positions``: the
    longest side kept, EOS included (pairs over it are dropped; fairseq's default is 1024 positions,
    256 here bounds one row's attention memory); ``seed``: of the tie-break permutation and of the
    batch order per epoch (fairseq's ``--seed``).
    """
    max_tokens: int = 4096
    max_positions: int = 256
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("max_tokens", "max_positions"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 2:
                raise ValueError(f"TokenBatchConfig.{name} must be an integer >= 2 (a subword and its EOS), "
                                 f"got {value!r}")
        if self.max_positions > self.max_tokens:
            raise ValueError(f"TokenBatchConfig.max_positions={self.max_positions} exceeds max_tokens="
                             f"{self.max_tokens}: a pair that long fits no batch; lower max_positions or "
                             "raise max_tokens")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"TokenBatchConfig.seed must be a non-negative integer, got {self.seed!r}")


def _pad(rows: list[list[int]]) -> torch.Tensor:
    out = np.full((len(rows), max(map(len, rows))), PAD_ID, dtype=np.int64)
    for i, r in enumerate(rows):
        out[i, :len(r)] = r
    return torch.from_numpy(out)


class TokenBatchStream:
    """A factory of endless iterators over epochs of token-count batches, encoded when drawn.

    ``stream()`` yields epoch 0's batches (:func:`token_batches` with ``config``), then epoch 1's, and
    so on; ``stream(start)`` begins at batch number ``start`` of that sequence without encoding the
    ones before, and the engine's resume (skipping consumed batches with ``next``) sees the same data;
    ``stream(start, rank, world)`` yields every ``world``-th batch from ``start + rank`` (one DDP
    rank's share, encoding only those).
    ``src_lens`` / ``tgt_lens`` (from :func:`token_lengths` with ``config.max_positions``, e.g. cached)
    are computed when not given. Pairs are never truncated: a side over ``max_positions`` drops the pair.
    """

    def __init__(self, text: ParallelText, sp: spm.SentencePieceProcessor, config: TokenBatchConfig = TokenBatchConfig(),
                 *, src_lens: np.ndarray | None = None, tgt_lens: np.ndarray | None = None):
        self.text, self.sp, self.config = text, sp, config
        self.src_lens = token_lengths(text.src, sp, config.max_positions) if src_lens is None else src_lens
        self.tgt_lens = token_lengths(text.tgt, sp, config.max_positions) if tgt_lens is None else tgt_lens
        if len(self.src_lens) != len(text) or len(self.tgt_lens) != len(text):
            raise ValueError(f"src_lens / tgt_lens hold {len(self.src_lens)} / {len(self.tgt_lens)} lengths for "
                             f"{len(text)} pairs; compute them with token_lengths on these files")
        self.dropped = len(dropped_pairs(self.src_lens, self.tgt_lens, config.max_tokens, config.max_positions))
        self.batches = pack_batches(self.src_lens, self.tgt_lens, config.max_tokens, seed=config.seed,
                                    max_positions=config.max_positions)
        if not self.batches:
            raise DataError(f"{text.src.path} and {text.tgt.path}",
                            f"no sentence pair fits max_positions={config.max_positions}",
                            "raise TokenBatchConfig.max_positions or check the files hold text")

    def __len__(self) -> int:
        """Batches per epoch."""
        return len(self.batches)

    def epoch(self, epoch: int) -> list[np.ndarray]:
        """The pair indices of every batch of epoch ``epoch``, in order."""
        return shuffle_batches(self.batches, self.config.seed, epoch)

    def encode(self, indices: np.ndarray) -> Batch:
        """The padded ``(source + EOS, BOS + target, target + EOS)`` tensors of the pairs ``indices``."""
        src = self.sp.encode([self.text.src[i] for i in indices.tolist()])
        tgt = self.sp.encode([self.text.tgt[i] for i in indices.tolist()])
        if any(len(s) + 1 != a or len(t) + 1 != b
               for s, t, a, b in zip(src, tgt, self.src_lens[indices], self.tgt_lens[indices])):
            raise ValueError("src_lens / tgt_lens do not match this sentencepiece model's encodings; compute "
                             "them with token_lengths on these files and this model")
        return (_pad([s + [EOS_ID] for s in src]), _pad([[BOS_ID] + t for t in tgt]),
                _pad([t + [EOS_ID] for t in tgt]))

    def __call__(self, start: int = 0, rank: int = 0, world: int = 1) -> Iterator[Batch]:
        """Batches ``start + rank``, ``start + rank + world``, ... of the sequence: one rank's share
        under DDP (the engine asks for it), the whole sequence from ``start`` with the defaults; the
        batches of the other ranks are never encoded."""
        if start < 0 or world < 1 or not 0 <= rank < world:
            raise ValueError(f"need start >= 0 and 0 <= rank < world, got start={start}, rank={rank}, "
                             f"world={world}")
        return self._from(*divmod(start + rank, len(self)), stride=world)

    def _from(self, epoch: int, offset: int, stride: int) -> Iterator[Batch]:
        while True:
            order = self.epoch(epoch)
            for i in range(offset, len(order), stride):
                yield self.encode(order[i])
            taken = max(0, -(-(len(order) - offset) // stride))
            epoch, offset = epoch + 1, offset + taken * stride - len(order)
