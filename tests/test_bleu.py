"""BLEU: detokenized sacreBLEU as sacrebleu computes it, and HAT's tokenized BLEU with compound splitting
checked against n-gram counts done by hand."""
from __future__ import annotations

import math

import pytest
import sacrebleu

from repro.data.bleu import LABELS, hat_bleu, hat_tokenize, sacre_bleu, split_compounds

REF = "we report state-of-the-art results on the test set"
HYP = "we report state-of-art results on the test set"


def test_identical_hypotheses_score_100():
    lines = ["Die Katze sitzt auf der Matte.", "Ein hochmoderner, state-of-the-art Ansatz!"]
    assert sacre_bleu(lines, lines) == pytest.approx(100.0)
    assert hat_bleu(lines, lines, "de") == pytest.approx(100.0)


def test_sacre_bleu_is_sacrebleus_corpus_bleu():
    hyps = ["The cat sat on the mat.", "It's a well-known fact, isn't it?", "Résumé: 3-4 Tage."]
    refs = ["The cat is on the mat.", "It is a well-known fact, is it not?", "Zusammenfassung: 3-4 Tage."]
    assert sacre_bleu(hyps, refs) == sacrebleu.corpus_bleu(hyps, [refs]).score


def test_compound_splitting_by_hand():
    # sacreBLEU (13a keeps "state-of-art" whole), 8 tokens each side: 1- to 4-gram matches
    # 7/8, 5/7, 3/6, 2/5 and no brevity penalty.
    assert sacre_bleu([HYP], [REF]) == pytest.approx(100 * (7 / 8 * 5 / 7 * 3 / 6 * 2 / 5) ** 0.25)
    # split: the reference has 14 tokens, the hypothesis 12 ("state @ of @ art"): matches 12/12,
    # 11/11, 9/10 ("of @ art" is not in the reference), 7/9, brevity penalty exp(1 - 14/12).
    split = 100 * math.exp(1 - 14 / 12) * (1 * 1 * 9 / 10 * 7 / 9) ** 0.25
    assert hat_bleu([HYP], [REF], "de") == pytest.approx(split)
    assert hat_bleu([HYP], [REF], "fr") == pytest.approx(split)


def test_split_compounds_is_perls_substitution():
    assert split_compounds("state-of-the-art") == "state ##AT##-##AT## of ##AT##-##AT## the ##AT##-##AT## art"
    assert split_compounds("a-b-c") == "a ##AT##-##AT## b-c"      # perl's /g does not overlap matches
    assert split_compounds("well - known -x y-") == "well - known -x y-"
    assert hat_tokenize("Kraft-Wärme-Kopplung, 2014.") == "Kraft ##AT##-##AT## Wärme ##AT##-##AT## Kopplung , 2014 ."


def test_bad_arguments():
    with pytest.raises(ValueError, match="target_lang"):
        hat_bleu(["a"], ["a"], "en")
    with pytest.raises(ValueError, match="one reference per hypothesis"):
        sacre_bleu(["a", "b"], ["a"])
    assert set(LABELS) == {"sacre_bleu", "hat_bleu"}
