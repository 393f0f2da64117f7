"""WMT'14 En-De / En-Fr as raw (untokenized) parallel text from a user-supplied folder (``paper`` profile).

Layout, one sentence per line, line ``i`` of the two files of a split being a translation pair::

    <root>/en-de/train.en   <root>/en-de/train.de
    <root>/en-de/valid.en   <root>/en-de/valid.de
    <root>/en-de/test.en    <root>/en-de/test.de      (newstest2014)
    <root>/en-fr/train.en   <root>/en-fr/train.fr     ... and the same for valid and test

``<root>`` is the ``root`` argument, else ``$REPRO_WMT14``, else ``data/wmt14`` (a user-set one is
used alone: a wrong one is an error, never replaced by another copy). This is the layout of
fairseq's ``prepare-wmt14en2de.sh`` output before BPE; any raw text in it works.
"""
from __future__ import annotations

from pathlib import Path

from repro.data.corpus import check_pair, check_split, read_parallel
from repro.data.errors import DatasetNotFound, search_dirs
from repro.paths import DATA_DIR

ENV_VAR = "REPRO_WMT14"
HOW_TO_GET = ("download WMT'14 (https://www.statmt.org/wmt14/translation-task.html; fairseq's "
              "examples/translation/prepare-wmt14en2de.sh and prepare-wmt14en2fr.sh fetch and clean it), "
              "and put raw text as <root>/<pair>/{train,valid,test}.{en,de|fr} with <root> given as the "
              f"`root` argument, ${ENV_VAR}, or data/wmt14.")


def find_files(pair: str, split: str, root: str | Path | None = None) -> tuple[Path, Path]:
    """The source and target files of one split; else :class:`DatasetNotFound` naming every place."""
    src, tgt = check_pair(pair).split("-")
    check_split(split)
    looked: list[Path] = []
    dirs, note = search_dirs(root, ENV_VAR, [DATA_DIR / "wmt14"])
    for d in dirs:
        files = d / pair / f"{split}.{src}", d / pair / f"{split}.{tgt}"
        if all(f.exists() for f in files):
            return files
        looked += files
    raise DatasetNotFound(f"WMT'14 {pair} ({split})", looked, HOW_TO_GET + note)


def load_wmt14(pair: str, split: str, root: str | Path | None = None,
               max_pairs: int = 0) -> list[tuple[str, str]]:
    """``(english, translation)`` pairs of one WMT'14 split; the first ``max_pairs`` if > 0."""
    return read_parallel(*find_files(pair, split, root), max_pairs)
