"""Notebook 02: unit energies (sa-fig1), FP multiplication vs shift (bs-text-efficiency), accuracy vs
energy by model family (sa-fig6), and the zoo's computed costs beside the papers' numbers (zoo-costs).

Verdicts (:mod:`repro.evidence`):

* sa-fig1: *by construction*: the FPGA unit energies were entered from the ratios the paper quotes, so
  reproducing those ratios cannot fail (the 45nm ones come from Horowitz's table and the released code);
* bs-text-efficiency: our FP32-multiplication / 32-bit-shift energy ratio against the reported 9.7x
  power ratio within :data:`claims.EFFICIENCY_REL_TOL` (``evidence.exact``);
* sa-fig6: "a ShiftAddNAS model at least as accurate and cheaper exists for every baseline", checked in
  every setting of the sensitivity grid (energy model ``ours`` / ``released``, RF accesses per MAC,
  operand and word width) and combined with ``evidence.all_of``: the energy claim holds only if it
  holds across the whole range (:func:`claims.sensitivity_evidence`). RF accesses per MAC are varied with each
  layer's tiling fixed at the one chosen under the base setting (RF energy is linear in them); this is
  an upper bound on the re-optimised energy.

Deviations: accuracies are the reported ones (sa-table4), energies ours; the word width is varied with
the operand precision (8 or 32 bits: the unit-energy table has no 16-bit entries).

Parts: :mod:`.run` (the cost computations, cached), :mod:`.tables`, :mod:`.figures`, :mod:`.claims`
(the evidence rules and their tolerances).
"""
from repro.experiments.hardware_costs import claims, figures, run, tables
