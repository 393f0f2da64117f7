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

Data: Fashion-MNIST at reduced scale, CIFAR-10/100 in the paper profile (DARTS' crop and flip for every
training; Cutout for the evaluation trainings only, as Sec. 5.1 and Appendix B; drop path
``BitshiftConfig.drop_path``). Three budgets, each (input size, training images, test images): the searches
(``image_size``, ``train_subset``, ``test_subset``; :func:`run.load_data`), the evaluation trainings of the
searched cells and ResNet-20 (``eval_*``, :func:`run.eval_data`; the paper trains them on all of CIFAR, the
search on its two halves) and bs-table4's L2R mechanism check (``drift_*``, :func:`run.drift_data`).
Deviations: the accuracy gates are read on each budget's test subset (the full 10,000 images in the paper
profile, and for the L2R mechanism in every profile but smoke), the data subsets are the same for every seed
(only the search and training seeds change), and at the default budget the searches' and evaluation
trainings' inputs stay pooled to 7x7. One bi-level search step at C = 4 takes about 1.4-1.7 s at 7x7 and
at 14x14 alike (one thread, measured 2026-12-04: the cell's many small operations, not the pixels, set the
cost), so the budget is the number of steps: search supernets reach the accuracy gate's edge with 14x14
inputs, 10,000 images and 10 epochs, about 20 min per search and five searches per seed
(:data:`claims.SEARCH_BUDGET`), and evaluation trainings that pass it (:data:`claims.EVAL_BUDGET`) about
30 min per seed. The L2R mechanism check alone runs at a budget that passes the gate (14x14, 10,000 images,
5 epochs: about 70 s per training at one thread).
"""
from repro.experiments.bitshift import claims, figures, run, tables
