"""Notebook 02's tables: the quoted unit-energy ratios (sa-fig1), FP multiplication vs shift
(bs-text-efficiency), accuracy vs energy and the dominance of ShiftAddNAS (sa-fig6), per setting of the
sensitivity grid."""
from __future__ import annotations

import numpy as np
import pandas as pd

from repro import reported
from repro.cost import unit_energy, zoo
from repro.cost.eyeriss import HardwareConfig
from repro.experiments.hardware_costs.run import SETTING


# ---------------------------------------------------------------- sa-fig1

def quoted_ratio_table() -> pd.DataFrame:
    """The ratios quoted in ShiftAddNAS Sec. 3.1, each traced to its pair of table entries, beside the
    platform the transcribed sentence attaches to it (``data/reported/sa-fig1.csv``)."""
    ours = unit_energy.quoted_ratios()
    rep = reported.load("sa-fig1")
    rep = rep[rep.Quantity == "energy"]
    text_platform = []
    for r in ours.itertuples():
        op = r.claim.split()[0].capitalize()
        hit = rep[(rep.Operator == op) & (rep["Saving (x)"].astype(float) == float(r.reported[:-1]))]
        text_platform.append(hit.Platform.iloc[0] if len(hit) else "")
    ours.insert(2, "platform in the text (reported)", text_platform)
    ours["platform of the pair"] = ours.numerator.str.split().str[-1].map({"asic45": "45nm CMOS", "fpga": "FPGA"})
    return ours


# ---------------------------------------------------------------- bs-text-efficiency

def efficiency_table(hw: HardwareConfig = HardwareConfig()) -> pd.DataFrame:
    """FP multiplication vs shift (bit-shift paper Sec. 5.5): each reported ratio beside what our cost
    model can say about it, and whether it can check it at all."""
    rep = reported.load("bs-text-efficiency").set_index("Quantity")["Multiplier over shift (x)"].astype(float)
    e = unit_energy.energy
    rn50, shift50 = zoo.cost("resnet50", bits=hw.bits, hw=hw), zoo.cost("deepshift-resnet50", bits=hw.bits, hw=hw)
    rows = [
        ("clock cycles", rep["clock cycles"], 1.0,
         "not checkable: the dataflow model gives every operation one PE cycle (ratio 1 by assumption)"),
        ("average power", rep["average power"], e("mult", "FP", 32) / e("shift", "FIX", 32),
         "energy per op, FP32 mult / 32-bit shift, 45nm (power ratio at equal op time)"),
        ("average power (8-bit)", np.nan, e("mult", "FIX", 8) / e("shift", "FIX", 8),
         "energy per op, FIX8 mult / 8-bit shift, 45nm"),
        ("area", rep["area"], np.nan, "not checkable: no area model"),
        ("transistors", rep["transistors"], np.nan, "not checkable: no circuit model"),
        ("network energy (ResNet-50 vs DeepShift)", np.nan, rn50["energy_mj"] / shift50["energy_mj"],
         f"whole-network energy in the dataflow model at {hw.bits} bits: memory accesses dominate"),
    ]
    return pd.DataFrame(rows, columns=["quantity", "reported (x)", "ours (x)", "basis"])


# ---------------------------------------------------------------- sa-fig6

def accuracy_energy(zoo_table: pd.DataFrame) -> pd.DataFrame:
    """Reported ImageNet top-1 (sa-table4) beside our energy (the zoo table's main precision), one row per
    sa-table4 model in the table."""
    t4 = reported.load("sa-table4").set_index("Model")
    sub = zoo_table[zoo_table["reported in"].str.startswith("sa-table4")].copy()
    sub["row"] = sub["reported in"].str.split(": ", n=1).str[1]
    sub["family"] = sub.row.map(t4["Model Type"])
    sub["top1 (reported)"] = sub.row.map(t4["Top-1 (%)"]).astype(float)
    return sub[["row", "model", "resolution", "family", "top1 (reported)", "energy_mJ (ours)"]].reset_index(drop=True)


def dominance(points: pd.DataFrame, family: str = "Hybrid") -> pd.DataFrame:
    """For each baseline, the cheapest ``family`` model at least as accurate, and the energy it saves."""
    ours = points[points.family == family]
    rows = []
    for b in points[points.family != family].to_dict("records"):
        better = ours[ours["top1 (reported)"] >= b["top1 (reported)"]]
        best = better.loc[better["energy_mJ (ours)"].idxmin()] if len(better) else None
        rows.append({"baseline": b["row"], "family": b["family"], "top1": b["top1 (reported)"],
                     "energy_mJ": b["energy_mJ (ours)"],
                     "best ShiftAddNAS": best.row if best is not None else "",
                     "its energy_mJ": best["energy_mJ (ours)"] if best is not None else np.nan,
                     "energy saving": 1 - best["energy_mJ (ours)"] / b["energy_mJ (ours)"] if best is not None else np.nan})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- sa-fig6 sensitivity

def sensitivity_table(points: pd.DataFrame) -> pd.DataFrame:
    """One row per setting: baselines beaten (a ShiftAddNAS row at least as accurate and cheaper), savings."""
    rows = []
    for setting, grp in points.groupby(SETTING, sort=True):
        dom = dominance(grp.reset_index(drop=True))
        rows.append({**dict(zip(SETTING, setting)), "baselines": len(dom),
                     "beaten": int((dom["energy saving"] > 0).sum()),
                     "min saving": float(dom["energy saving"].min()), "max saving": float(dom["energy saving"].max()),
                     "not beaten": ", ".join(dom.loc[~(dom["energy saving"] > 0), "baseline"])})
    return pd.DataFrame(rows)
