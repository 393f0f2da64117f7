"""ShiftAddNAS on translation, end to end at the profile's scale (Sec. 4.1-4.2, Appendix A).

1. :func:`.run.train_supernet`: one-shot training of the NLP supernet on a corpus pair (En-De, En-Fr);
2. :func:`.run.search`: evolutionary search (HAT's settings scaled by the profile) under FLOPs budgets,
   fitness = minus the validation loss with inherited weights;
3. :func:`.run.retrain`: a searched subnet (or the space's plain Transformer, the baseline) trained
   from scratch, then scored by BLEU (sacrebleu, detokenised greedy decodes of the test set).

Every step is cached (:func:`repro.cache.cached`) keyed by its inputs, so notebooks 03 and 04
share the supernets and the searches, and an interrupted training resumes from its checkpoint.

Verdicts (:mod:`repro.evidence`) are decided here (:mod:`.claims`): Table 1 and the space sizes
against the paper's numbers; Fig. 5 / Table 3 by the searched-minus-Transformer BLEU paired over the
profile's seeds, gated by the BLEU floor (:data:`repro.evidence.BLEU_FLOOR`) on every retrained model.

Deviations from the paper: the gettext corpus at a reduced scale instead of WMT'14; the baseline is the
space's plain Transformer at the same scale (no HAT, Evolved or Lite Transformer runs); the searched
architectures come from one supernet seed and only their retraining runs over the seeds; the BLEU gate
is checked on the first seed, and the further seeds are retrained only once it passes (below the floor
the verdict is *not testable* whatever they give).
"""
from repro.experiments.shiftaddnas_nlp import claims, figures, run, tables
