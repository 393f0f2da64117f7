"""Notebook 01's tables: Gaussian vs Laplace fits of the trained weights (Fig. 3 / Fig. 7) and the
transformation kernel's output (Fig. 4), fitted alone and inside a trained supernet (notebook 03)."""
from __future__ import annotations

from typing import Any

import pandas as pd
import torch

from repro.experiments.weight_distributions.run import CLAIMED, fit_statistics
from repro.models.small_net import STUDIED
from repro.ops.weight_sharing import excess_kurtosis, laplace_kl


def distribution_table(results: dict[str, dict]) -> pd.DataFrame:
    """One row per network and studied layer: the fits, which density fits better, and the paper's claim."""
    rows = []
    for op, res in results.items():
        for name in STUDIED:
            w0, w = res["init"][name], res["final"][name]
            fit = fit_statistics(w.numpy())
            rows.append({
                "network": op, "layer": name, "weights": w.numel(),
                "distinct values": int(torch.unique(w).numel()),
                "relative change": float((w - w0).norm() / w0.norm()),
                "excess kurtosis (init)": excess_kurtosis(w0), "excess kurtosis (trained)": excess_kurtosis(w),
                "LL/weight Gaussian": fit["ll_gauss"], "LL/weight Laplace": fit["ll_laplace"],
                "KS Gaussian": fit["ks_gauss"], "KS Laplace": fit["ks_laplace"],
                "better fit (LL)": "Laplacian" if fit["ll_laplace"] > fit["ll_gauss"] else "Gaussian",
                "better fit (KS)": "Laplacian" if fit["ks_laplace"] < fit["ks_gauss"] else "Gaussian",
                "reported (paper)": CLAIMED[op],
                "test acc (%)": res["test"]["acc"],
            })
    return pd.DataFrame(rows)


def seed_table(runs: dict[str, list[dict]]) -> pd.DataFrame:
    """:func:`distribution_table` of every seed, with a ``seed`` column (index into the seed list)."""
    return pd.concat([distribution_table({op: r[i] for op, r in runs.items()}).assign(seed=i)
                      for i in range(len(next(iter(runs.values()))))], ignore_index=True)


def kernel_table(fitted: dict[str, Any]) -> pd.DataFrame:
    """Excess kurtosis and KL to Laplace(0, 1) before and after each kernel, and which density fits better."""
    rows = []
    for name, w in (("shared weights (before T)", fitted["w"]), ("T paper (d=200)", fitted["paper"]["transformed"]),
                    ("T released (100 bins)", fitted["released"]["transformed"])):
        fit = fit_statistics(w.numpy())
        rows.append({"weights": name, "excess kurtosis": excess_kurtosis(w), "KL to Laplace(0,1)": laplace_kl(w).item(),
                     "better fit (LL)": "Laplacian" if fit["ll_laplace"] > fit["ll_gauss"] else "Gaussian"})
    rows.append({"weights": "Laplace target", "excess kurtosis": 3.0, "KL to Laplace(0,1)": 0.0,
                 "better fit (LL)": "Laplacian"})
    return pd.DataFrame(rows)


def supernet_kernel_table(per_pool: pd.DataFrame) -> pd.DataFrame:
    """Per stage of a trained supernet (:func:`repro.experiments.weight_distributions.run.supernet_kernels`):
    the mean over its pools of the excess kurtosis and KLs, the alphas' range, the Shift view's largest
    shares at the clamp (scaled as the supernet uses it, and the pool rounded unscaled), and the Laplace target row."""
    g = per_pool.groupby("stage")
    table = pd.DataFrame({
        "pools": g.size(),
        "excess kurtosis pool": g["excess kurtosis pool"].mean(),
        "excess kurtosis T(pool)": g["excess kurtosis T(pool)"].mean(),
        "excess kurtosis T(pool) min": g["excess kurtosis T(pool)"].min(),
        "excess kurtosis T(pool) max": g["excess kurtosis T(pool)"].max(),
        "KL Laplace T(pool)": g["KL Laplace T(pool)"].mean(),
        "KL Gaussian pool": g["KL Gaussian pool"].mean(),
        "alpha min": g["alpha min"].min(), "alpha max": g["alpha max"].max(),
        "Shift top level (max)": g["Shift top level"].max(),
        "Shift clipped above (max)": g["Shift clipped above"].max(),
        "Shift clipped below (max)": g["Shift clipped below"].max(),
        "unscaled Shift clipped above (max)": g["unscaled Shift clipped above"].max(),
    }).reset_index()
    table.insert(0, "weights", [f"stage {s}" for s in table.pop("stage")])
    target = {"weights": "Laplace target", "excess kurtosis T(pool)": 3.0, "KL Laplace T(pool)": 0.0}
    return pd.concat([table, pd.DataFrame([target])], ignore_index=True)
