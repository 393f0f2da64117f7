"""Notebook 01's evidence rules (:mod:`repro.evidence`): the claimed weight densities of Fig. 3 / Fig. 7,
judged per studied layer over seeds and gated on accuracy and movement, and Fig. 4's kernel against a
Laplace's excess kurtosis, fitted alone (notebook 01) and inside a trained supernet (notebook 03)."""
from __future__ import annotations

import pandas as pd

from repro import evidence
from repro.experiments.weight_distributions.run import CLAIMED
from repro.models.small_net import STUDIED

#: Distinct values a 5-bit signed power-of-two weight can take (15 exponents x 2 signs, and zero).
SHIFT_LEVELS = 2 * 15 + 1
#: sa-fig4: tolerance on the excess kurtosis of T(w) against a Laplace's 3.
KURTOSIS_TOL = 0.5


def _advantage(row: pd.Series, claimed: str) -> float:
    """Log-likelihood per weight of the claimed density minus the other's (nats)."""
    diff = row["LL/weight Laplace"] - row["LL/weight Gaussian"]
    return diff if claimed == "Laplacian" else -diff


def layer_evidence(table: pd.DataFrame, op: str, layer: str) -> evidence.Evidence:
    """One layer of one network over seeds: the claimed density's LL advantage, gated on accuracy and movement."""
    rows = table[(table.network == op) & (table.layer == layer)].sort_values("seed")
    gates = [evidence.accuracy_gate(f"{op} network", rows["test acc (%)"]),
             evidence.min_gate(f"{op} {layer} relative movement", rows["relative change"],
                               evidence.WEIGHT_MOVEMENT_FLOOR)]
    values = [_advantage(r, CLAIMED[op]) for _, r in rows.iterrows()]
    return evidence.mean_effect(values, unit=f"nats/weight ({CLAIMED[op]} minus other)", gates=gates)


def claim_evidence(table: pd.DataFrame, ops: tuple[str, ...] = ("conv", "add")) -> evidence.Evidence:
    """Fig. 3 / Fig. 7: every studied layer of each continuous network (Conv, Add) follows its claimed density.

    Shift is not a part: its weights are discrete by construction (at most :data:`SHIFT_LEVELS` values)."""
    parts = {f"{op} {layer}": layer_evidence(table, op, layer) for op in ops if op != "shift" for layer in STUDIED}
    return evidence.all_of_with_gates(parts)


def movement_summary(table: pd.DataFrame, ops: tuple[str, ...]) -> str:
    """``conv layer1 0.21-0.25, ...``: the relative movement range over seeds per network and layer."""
    g = table[table.network.isin(ops)].groupby(["network", "layer"], sort=False)["relative change"]
    return ", ".join(f"{op} {layer} {lo:.2f}-{hi:.2f}" for (op, layer), (lo, hi) in
                     zip(g.groups, zip(g.min(), g.max())))


def shift_levels(table: pd.DataFrame) -> int:
    """The most distinct values any trained Shift layer holds (<= :data:`SHIFT_LEVELS` by construction)."""
    return int(table.loc[table.network == "shift", "distinct values"].max())


def kernel_evidence(tables: list[pd.DataFrame]) -> evidence.Evidence:
    """Fig. 4's kernel, fitted alone on N(0, 1) samples towards Laplace(0, 1), once per seed (its own
    samples and initialisation): the excess kurtosis of T(w) against a Laplace's 3 within
    :data:`KURTOSIS_TOL`, decided over the seeds by the equivalence rule (:func:`repro.evidence.within`).
    Evidence of what the kernel can represent (the fit minimises this very KL), not that T moves
    inside a trained supernet."""
    after = [t.set_index("weights").loc["T paper (d=200)", "excess kurtosis"] for t in tables]
    return evidence.within(after, 3.0, KURTOSIS_TOL, unit="excess kurtosis")


def supernet_kernel_evidence(stage_tables: list[pd.DataFrame]) -> evidence.Evidence:
    """Fig. 4's kernel inside trained supernets, one :func:`tables.supernet_kernel_table` per supernet
    seed: per stage, the mean excess kurtosis of T(pool) over its pools against a Laplace's 3 within
    :data:`KURTOSIS_TOL` over the seeds (:func:`repro.evidence.within`, as :func:`kernel_evidence`);
    every stage must hold (:func:`repro.evidence.all_of`). The pools of one supernet are not
    independent replications, so one supernet is n = 1 per stage."""
    stages = [s for s in stage_tables[0]["weights"] if s.startswith("stage")]
    parts = {s: evidence.within([t.set_index("weights").loc[s, "excess kurtosis T(pool)"] for t in stage_tables],
                                3.0, KURTOSIS_TOL, unit="excess kurtosis") for s in stages}
    return evidence.all_of(parts)
