"""The two BLEU numbers WMT'14 papers report, each labelled (:data:`LABELS`).

* :func:`sacre_bleu`: sacreBLEU on detokenized text (its default: 13a tokenization, case-sensitive),
  the standard, comparable number;
* :func:`hat_bleu`: "tokenized BLEU with compound splitting", what HAT reports as "BLEU" (its
  ``configs/wmt14.en-de/test.sh`` and ``configs/wmt14.en-fr/test.sh``, ``normal`` metric; fairseq's
  ``scripts/compound_split_bleu.sh`` for En-De): tokenized hypotheses and references, every
  ``(\\S)-(\\S)`` rewritten to ``\\1 ##AT##-##AT## \\2`` (``perl -ple 's{(\\S)-(\\S)}{$1 ##AT##-##AT## $2}g'``),
  then BLEU on whitespace tokens. Splitting a compound turns one word into several n-grams that
  usually match, so this number is higher than sacreBLEU (HAT's README lists both: 28.4 BLEU is 27.8 sacreBLEU).

Table 3 of ShiftAddNAS compares with HAT's published numbers, which are :func:`hat_bleu`'s kind;
a row scored by :func:`sacre_bleu` is not comparable with them, so every number carries its label.

Deviation: HAT's text was tokenized by the Moses tokenizer (``-l de`` / ``-l fr``); sacremoses is not
a dependency here, so :func:`hat_bleu` tokenizes with sacreBLEU's language-independent 13a tokenizer
(it keeps ``a-b`` whole, as Moses without ``-a`` does), close to HAT's number, not identical.
"""
from __future__ import annotations

import re
from typing import Sequence

import sacrebleu
from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

#: The label every reported BLEU number carries.
LABELS = {"sacre_bleu": "SacreBLEU (detokenized, 13a)",
          "hat_bleu": "tokenized BLEU with compound splitting (HAT, Table 3's comparisons)"}

#: The target languages of HAT's WMT'14 pairs, whose test.sh both apply the compound splitting.
TARGET_LANGS = ("de", "fr")

_COMPOUND = re.compile(r"(\S)-(\S)")
_TOKENIZE = Tokenizer13a()


def _check(hyps: Sequence[str], refs: Sequence[str]) -> None:
    if len(hyps) != len(refs) or not hyps:
        raise ValueError(f"need one reference per hypothesis and at least one pair, got {len(hyps)} hypotheses "
                         f"and {len(refs)} references")


def sacre_bleu(hyps: Sequence[str], refs: Sequence[str]) -> float:
    """Corpus sacreBLEU of detokenized ``hyps`` against one reference each (13a, case-sensitive)."""
    _check(hyps, refs)
    return sacrebleu.corpus_bleu(list(hyps), [list(refs)]).score


def split_compounds(line: str) -> str:
    """HAT's perl substitution: ``(\\S)-(\\S)`` -> ``\\1 ##AT##-##AT## \\2``, non-overlapping as perl's ``/g``
    (so ``a-b-c`` keeps its second hyphen: the ``b`` went with the first match)."""
    return _COMPOUND.sub(r"\1 ##AT##-##AT## \2", line)


def hat_tokenize(line: str) -> str:
    """One line as :func:`hat_bleu` scores it: 13a-tokenized, then compounds split."""
    return split_compounds(_TOKENIZE(line))


def hat_bleu(hyps: Sequence[str], refs: Sequence[str], target_lang: str) -> float:
    """Tokenized corpus BLEU with compound splitting (HAT's "BLEU"); ``target_lang`` one of :data:`TARGET_LANGS`."""
    if target_lang not in TARGET_LANGS:
        raise ValueError(f"target_lang must be one of {TARGET_LANGS} (HAT's WMT'14 targets), got {target_lang!r}")
    _check(hyps, refs)
    return sacrebleu.corpus_bleu([hat_tokenize(h) for h in hyps], [[hat_tokenize(r) for r in refs]],
                                 tokenize="none").score
