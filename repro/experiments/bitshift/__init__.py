"""Notebook 06: the bit-shift ShiftNAS experiments at the profile's scale, every step cached.

* :mod:`.run`: the study config (:class:`run.BitshiftStudy`, built once from the profile; its fields
  are the cache keys), :func:`run.search_shiftnas` / :func:`run.search_darts`: the DOTS-style search
  and the DARTS strategy in the shift space (the operation phase is cached apart, so the LRR on/off
  arms of Table 4 share it), :func:`run.train_network`: trains a searched cell, the DARTS cell or the
  hand-designed :class:`repro.models.shift_resnet.ShiftResNet20` in the bit-shift or the real domain
  (RAdam, cosine, Appendix B), and :func:`run.run_seeds`: all of notebook 06's runs, once per seed
  (the arms of every comparison share the seed: the same data order and initialisation).
* :mod:`.tables`: our numbers (mean over seeds) beside the paper's; :mod:`.figures`: the figures.
* :mod:`.claims`: every bs-* verdict through :mod:`repro.evidence`, paired by seed, with the
  accuracy gate (84%, a logistic regression's Fashion-MNIST accuracy) on every network whose
  accuracy decides a claim.

Data: Fashion-MNIST at reduced scale (``BitshiftConfig.image_size``), CIFAR-10/100 in the paper profile
(DARTS' crop and flip for every training; Cutout for the evaluation trainings only, :func:`run.eval_data`,
as Sec. 5.1 and Appendix B; drop path ``BitshiftConfig.drop_path``).
Deviations: the accuracy gates are read on the profile's test subset (``test_subset``; the full
10,000 images in the paper profile), the data subset is the same for every seed (only the search and
training seeds change), and at the default budget the inputs stay pooled to 7x7: one bi-level search
step at C = 4 takes about 1.4 s at 7x7, 5 s at 14x14 and 8 s at 28x28 on one thread (measured), so
28x28 would put the default run about 6x over its 14-minute budget.
"""
from repro.experiments.bitshift import claims, figures, run, tables
