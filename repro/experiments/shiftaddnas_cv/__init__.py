"""ShiftAddNAS on images, end to end at the profile's scale (notebooks 03, 04 and 05, CV parts).

One-shot training of the CV supernet on Fashion-MNIST (Sec. 3.2.1, Eq. 3), evolutionary search
under a MACs budget with inherited-weight validation accuracy as fitness (Eq. 4, AutoFormer's
settings scaled by the profile), standalone training of subnets from scratch, the cost model's
counts / energy / latency of subnets, and the weight-sharing ablation of Table 5. Every training
and search is cached by its inputs (:func:`repro.cache.cached`), so notebooks 04 and 05 reuse the
supernets of notebook 03 and an interrupted run resumes from its last checkpoint.

Verdicts (:mod:`repro.evidence`) are decided here (:mod:`.claims`), never in the notebooks: the exact artifacts
(Table 2, the supernet sizes of Sec. 4.4, the counted columns of Table 4, the cost share of Table 8)
against the paper's numbers with stated tolerances; Table 5 by the paired-bootstrap difference of
the ranking correlations over the same subnets, gated by the ground truth's accuracy and two-seed
reliability.

Deviations from the paper: Fashion-MNIST at a reduced scale instead of ImageNet; the ground truth
of Table 5 is a short standalone training (``standalone_steps``) scored on the test split, over two
training seeds, and one supernet seed per sharing mode (the correlation interval is a bootstrap over
subnets, not over supernet seeds); two of the Table 5 subnets are all-Add and all-Shift (the paper
samples its subnets without saying how). The latency predictor (Sec. 4.1, after HAT) is fitted twice: on
the cost model's latencies of the paper's Eyeriss-like accelerator, and on forward passes timed on the
machine that runs the notebook (batch 1, one CPU thread), with the timing's own repeatability reported
beside its error. The paper describes the predictor in its NLP settings ("measured latency as labels",
device not named; < 5% error) and reports latencies from its accelerator model; here it serves the CV
space, and one CV search runs under the predicted latency (the paper's NLP searches use latency and
FLOPs constraints).
"""
from repro.experiments.shiftaddnas_cv import claims, figures, run, tables
