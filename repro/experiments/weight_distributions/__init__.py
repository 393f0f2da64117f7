"""Notebook 01: weight distributions of Conv / Add / Shift networks and the transformation kernel.

ShiftAddNAS Fig. 3 and Fig. 7 (Appendix B): weights of Conv layers follow a Gaussian, of Add
layers a Laplacian, of Shift layers a discrete distribution. Fig. 4: heterogeneous weight sharing
and the learnable transformation kernel that maps Gaussian weights to Laplacian ones (Eq. 6).

Experiment: three small networks that differ only in their two middle layers (Conv, Add or
Shift, all initialised from a Gaussian: see :func:`repro.models.small_net._op_layer`; a full-precision stem and
classifier as in AdderNet / DeepShift) are trained on Fashion-MNIST with SGD, once per seed of
``profile.seed_list``. Every studied layer's trained weights are fitted with a Gaussian and a Laplace
density (maximum likelihood) and compared by log-likelihood per weight (and the KS statistic).

Verdict (:func:`claims.claim_evidence`, the evidence rule of :mod:`repro.evidence`): per network and studied
layer, the claimed density's log-likelihood advantage (nats per weight) over seeds, with a Student t
interval; gated on every seed's test accuracy (:func:`repro.evidence.accuracy_gate`) and on the
layer's relative movement from initialisation ``||W - W0|| / ||W0||`` (every seed at least
:data:`repro.evidence.WEIGHT_MOVEMENT_FLOOR`): every network starts from a Gaussian, so a layer that
barely moved shows its initialisation, not what training made of it. All layers together decide
(:func:`repro.evidence.all_of`). Shift weights are discrete by construction (5-bit signed powers of two).

Deviations from the paper: small networks (stem + two studied layers + a linear classifier on the
flattened features) on Fashion-MNIST instead of ResNet-20/ImageNet-scale models; the stem and classifier
are full precision in all three networks and are not judged. The paper does not state the recipe of
Fig. 3 / Fig. 7; ours is SGD with momentum and a cosine schedule, one epoch on all 60,000 images in the
default profile (every network passes the accuracy gate there; the committed report gives the numbers).
sa-fig4 fits the kernel alone on i.i.d. N(0, 1) samples, once per seed (not inside a trained supernet):
the excess kurtosis of its output is checked against a Laplace's 3 within a stated tolerance over the
seeds, a check of the kernel's capacity, not of the supernet.

Parts: :mod:`.run` (the config, training, the fits; cached), :mod:`.tables`, :mod:`.figures`,
:mod:`.claims` (the evidence rules and their tolerances).
"""
from repro.experiments.weight_distributions import claims, figures, run, tables
