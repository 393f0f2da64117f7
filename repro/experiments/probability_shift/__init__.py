"""Notebook 07: the studies of ShiftNAS-PS (probability shift and the architecture generator).

Exact at paper scale: the FLOPs of uniformly sampled ViT-T subnets against the normal approximation
of their Irwin-Hall sum (Fig. 2) and the sampling time of the generator against rejection sampling
(Fig. 9). Scaled to Fashion-MNIST on the scaled ViT-T space: the supernet trainings with uniform
sampling, with the generator and a frozen uniform distribution (the paper's baseline) and with
probability shift (Fig. 4, 5, 7, 8), inherited / finetuned / retrained subnets (Table 2), ranking
correlation (Fig. 6) and the distribution-gradient score against training sufficiency (Table 4).
Fig. 4 has a second, CNN panel: uniform sampling and the generator without and with shift on the
BigNAS-style ``cfg.cnn_space`` (:mod:`repro.spaces.bignas_cnn`, :class:`repro.supernets.cnn.CNNSupernet`),
same data, seeds and training settings; its claim holds only if it holds in both spaces.

Bins are set in ViT-T GFLOPs (the paper's split 1.3-1.9 G) and mapped linearly onto the scaled
space (the CNN space too) by position between its smallest and largest subnet. Every training is cached. Every scaled
claim runs over the profile's seeds (the arms of one seed share data order and initialisation) and
is decided by :mod:`repro.evidence`, with the 84% Fashion-MNIST gate on the networks whose accuracy
decides it.

:mod:`.run` computes and caches (its config is the profile's :class:`ProbShiftConfig`), :mod:`.tables`
and :mod:`.figures` draw, :mod:`.claims` judges (each claim an :class:`claims.Outcome`).

Deviations from the paper (beyond the scale: Fashion-MNIST, the shrunk ViT-T, a few epochs):

* B's Adam step is 0.1 (paper 1e-3): ~15 updates here against the paper's ~5,600, so that B moves;
  its total-variation distance from uniform is reported and gated in Fig. 5.
* Table 4 ranks the generator's subnet of each bin (the paper does not say how its subnets are
  drawn) by the entry of ``grad_B`` for that bin at uniform B
  (:func:`repro.search.probability_shift.bin_gradient_score`), with ``rank_subnets`` subnets per seed
  (the paper 25); the loss-decrease score is a second column.
* Fig. 6 uses ``rank_subnets`` random subnets per seed (the paper 30), finetuned ``finetune_steps``.
* Fig. 9's rejection times are the measured seconds per uniform draw (analytic FLOPs, or a counted
  model) times the exact expected number of tries ``1 / p_bin`` (the tails have ``p_bin`` down to
  1e-5), not a timed loop; a bin the generator never hits counts at the upper bound of its speed-up.
* The uniform-sampling arm of Fig. 4 takes, per bin, the best of 3 rejection-sampled subnets on the
  validation split; the paper does not say how it picks them.
* Fig. 4's CNN panel runs on a 3-stage BigNAS-style space on Fashion-MNIST (the paper: BigNAS's
  7-stage MBConv space on ImageNet, not built here, in every profile) with the ViT's AdamW settings
  (the paper's Table 3 trains its CNN with SGD, lr 0.5, weight decay 1e-5); its bins sit at the
  ViT-T split's relative position in the CNN's FLOPs range (the paper gives no CNN split).

Not a deviation: no weight EMA in any profile. The paper trains "with the same recipe as DeiT", whose
EMA AutoFormer's released ``supernet_train.py`` does not keep: it defines ``--model-ema`` but builds
none (``model_ema = None``); the ShiftAddNAS retraining keeps DeiT's (:mod:`repro.train.ema`).
"""
from repro.experiments.probability_shift import claims, figures, run, tables
