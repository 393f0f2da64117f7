"""ShiftAddNAS on images, the tables: Tables 2, 4, 5, 7 and 8 and the supernet sizes of Sec. 4.4, our numbers
(from :mod:`.run`) beside the reported ones."""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from repro import reported
from repro.cost.counting import count_params
from repro.experiments.shiftaddnas_cv.run import COUNTED, single_threaded, subnet_cost, zoo_counts
from repro.spaces import shiftaddnas_cv as space_module
from repro.spaces.shiftaddnas_cv import ShiftAddNASCVSpace, dims_for
from repro.supernets.shiftaddnas_cv import CVSupernet


def search_cost(run: dict, found: dict, profile: str, scale: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Tables 7 and 8: the paper's GPU days beside our measured CPU seconds (supernet training + search)."""
    t7 = reported.load("sa-table7")
    t7 = pd.DataFrame({"Method": t7["Methods"], "Source": "reported (V100)",
                       "Search cost (GPU days)": t7["Search Cost (GPU days)"], "Measured (CPU s)": np.nan})
    total = run["wall_clock_s"] + found["wall_clock_s"]
    ours = {"Method": f"ShiftAddNAS (ours, {profile} profile, {scale} CV space, Fashion-MNIST)",
            "Source": "measured (CPU)", "Search cost (GPU days)": np.nan, "Measured (CPU s)": total}
    t8 = reported.load("sa-table8")
    paper_cv = t8["CV (GPU days)"]
    measured = [run["wall_clock_s"], found["wall_clock_s"]]
    table8 = pd.DataFrame({"Stage": t8["Stage"], "NLP reported (GPU days)": t8["NLP (GPU days)"],
                           "CV reported (GPU days)": paper_cv,
                           "CV reported share (%)": 100 * paper_cv / paper_cv.sum(),
                           "CV ours (CPU s)": measured,
                           "CV ours share (%)": [100 * m / sum(measured) for m in measured]})
    return pd.concat([t7, pd.DataFrame([ours])], ignore_index=True), table8


def table2(space: ShiftAddNASCVSpace) -> pd.DataFrame:
    """Table 2 read from the space objects (paper scale and the profile's scale) beside the reported one."""
    rep = reported.load("sa-table2")
    paper = ShiftAddNASCVSpace("paper").describe()
    return pd.DataFrame({"Searchable choice (reported)": rep["Searchable choice"], "Reported": rep["Options"],
                         "Ours, paper scale": [r["values"] for r in paper],
                         f"Ours, profile scale ({space.dims.stages[0].resolution}² first stage)":
                         [f"{r['choice'].removeprefix('Num. of ')}: {r['values']}" if i else r["values"]
                          for i, r in enumerate(space.describe())]})


@single_threaded
def supernet_sizes() -> pd.DataFrame:
    """Sec. 4.4: paper-scale supernet parameters per sharing mode (built on the meta device) vs reported."""
    dims = dims_for("paper")
    with torch.device("meta"):
        size = {m: count_params(CVSupernet(dims, m)) / 1e6 for m in ("none", "naive", "heterogeneous")}
    rep = reported.load("sa-text-supernetsize").set_index("Supernet")["Params (M)"]
    saving = 100 * (1 - size["heterogeneous"] / size["none"])
    return pd.DataFrame({"Supernet": ["w/o WS", "w/ naive WS", "w/ HWS", "Saving of HWS (%)"],
                         "Ours (M)": [size["none"], size["naive"], size["heterogeneous"], saving],
                         "Reported (M)": [rep["w/o WS"], np.nan, rep["w/ HWS"], rep["Saving (%)"]]})


@single_threaded
def table4(searched: list[dict], profile: str, scale: str) -> pd.DataFrame:
    """Table 4: the reported rows with our counted params / MACs / #Mult / #Add / #Shift of the paper-scale
    models (zoo), the Fig. 8 encoding built from our CV supernet's blocks (the zoo's ``shiftaddnas-t0``), and our
    searched subnets (Fashion-MNIST).

    ``searched``: dicts with ``label``, ``config``, ``test_acc`` of our searched subnets.
    """
    rep = reported.load("sa-table4")
    counts = zoo_counts()
    rows = []
    for _, r in rep.iterrows():
        c = counts.get(r["Model"], {})
        rows.append({"Model": r["Model"], "Source": "reported", "Top-1 (%)": r["Top-1 (%)"],
                     "Params (M)": r["Params (M)"], "Res.": r["Res. (px)"], "MACs (G)": r["MACs (G)"],
                     "#Mult (G)": r["#Mult. (G)"], "#Add (G)": r["#Add (G)"], "#Shift (G)": r["#Shift (G)"],
                     "Ours: zoo model": c.get("zoo model", ""), **(_ours(c) if c else {})})
    fig8 = subnet_cost("paper", space_module.PAPER_FIG8)
    rows.append({"Model": "Fig. 8 encoding, our supernet's blocks", "Source": "ours (exact, paper scale, retraining widths)",
                 "Res.": 224, **_ours(fig8)})
    for s in searched:
        cost = subnet_cost(scale, s["config"])
        rows.append({"Model": s["label"], "Source": f"ours ({profile} profile, {scale}, Fashion-MNIST)",
                     "Top-1 (%)": s["test_acc"], "Res.": 28, **_ours(cost)})
    return pd.DataFrame(rows)


def _ours(cost: dict) -> dict:
    """Our counted columns (G; the reduced-scale subnets have a few MMACs, printed as 0.00x G)."""
    return {"Ours: params (M)": cost["params"] / 1e6, **{f"Ours: {k} (G)": cost[k] / 1e9 for k in COUNTED[1:]}}


def table5(ours: pd.DataFrame, profile: str, scale: str) -> pd.DataFrame:
    """Table 5: the reported rows beside ours (:func:`repro.experiments.shiftaddnas_cv.run.sharing_ablation`)."""
    rep = reported.load("sa-table5")
    return pd.DataFrame({
        "ShiftAddNAS": ["w/ Naive WS", "w/ HWS"] * 2,
        "Source": ["reported (ImageNet)"] * 2 + [f"ours ({profile}, {scale}, Fashion-MNIST)"] * 2,
        "Kendall τ": list(rep["Kendall τ"]) + list(ours["kendall_tau"]),
        "Pearson R": list(rep["Pearson R"]) + list(ours["pearson_r"]),
        "Spearman ρ": list(rep["Spearman ρ"]) + list(ours["spearman_rho"]),
        "Top-1 (%)": list(rep["Top-1 (%)"]) + list(ours["top1_test"]),
        "Params (M)": list(rep["Params (M)"]) + list(ours["params"] / 1e6),
        "Energy (mJ)": list(rep["Energy (mJ)"]) + list(ours["energy_mj"]),
        "Latency (ms)": list(rep["Latency (ms)"]) + list(ours["latency_ms"]),
        "Searched subnet": ["", ""] + list(ours["searched"]),
    })
