"""Notebook 02's figures: the unit-energy table (sa-fig1) and reported accuracy vs our energy (sa-fig6)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from repro.cost import unit_energy


# ---------------------------------------------------------------- sa-fig1

def unit_energy_figure() -> plt.Figure:
    """Bar chart of the unit-energy table (log scale), one group per operation and format."""
    df = unit_energy.table()
    df["operation"] = df.op + " " + df.format + df.bits.astype(str)
    order = sorted(df.operation.unique(), key=lambda s: (["mult", "add", "shift"].index(s.split()[0]), s))
    fig, ax = plt.subplots(figsize=(7, 3.2))
    width = 0.4
    for i, (platform, label) in enumerate((("asic45", "45nm ASIC"), ("fpga", "FPGA (as reported)"))):
        sub = df[df.platform == platform].set_index("operation").reindex(order)
        ax.bar(np.arange(len(order)) + (i - 0.5) * width, sub.energy_pj, width, label=label)
    ax.set_xticks(np.arange(len(order)), order, rotation=35, ha="right")
    ax.set_yscale("log")
    ax.set_ylabel("energy per operation (pJ)")
    ax.set_title("Unit energy: multiplication vs addition vs shift")
    ax.legend()
    return fig


# ---------------------------------------------------------------- sa-fig6

def accuracy_energy_figure(points: pd.DataFrame, bits: int = 32) -> plt.Figure:
    """Reported top-1 vs our energy, one line per model family (ShiftAddNAS Fig. 6)."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for family, grp in points.groupby("family", sort=False):
        grp = grp.sort_values("energy_mJ (ours)")
        ax.plot(grp["energy_mJ (ours)"], grp["top1 (reported)"], marker="o", label=family)
        for r in grp.to_dict("records"):
            ax.annotate(r["row"], (r["energy_mJ (ours)"], r["top1 (reported)"]), fontsize=6, xytext=(3, 2),
                        textcoords="offset points")
    energy = points["energy_mJ (ours)"]
    if energy.max() > 10 * energy.min():
        ax.set_xscale("log")
    ax.set_xlabel(f"energy per image (mJ, ours: Eyeriss-like model, {bits}-bit)")
    ax.set_ylabel("ImageNet top-1 (%, reported)")
    ax.set_title("Accuracy vs energy by model family")
    ax.legend(fontsize=7)
    return fig
