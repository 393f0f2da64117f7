"""Notebook 07's tables: the paper's Table 1 and Table 3 beside ours, and our Table 2, Fig. 6 and Table 4
measurements over every seed (each seed's cached in :mod:`.run`)."""
from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd
from scipy import stats

from repro import reported
from repro.experiments.probability_shift.run import SeedRuns, ranking_seed, sufficiency_seed, table2_seed
from repro.profiles import ProbShiftConfig


def table1() -> pd.DataFrame:
    """Table 1 as reported, with params and FLOPs (multiply-accumulates) computed by the cost model's
    zoo for the models it builds (the architectures of the paper's own models are not published)."""
    from repro.cost import zoo

    names = {"DeiT-tiny": "deit-tiny", "DeiT-S": "deit-small", "ViT-B/16": "vit-base-16", "DeiT-B": "vit-base-16",
             "AutoFormer-tiny": "autoformer-tiny", "AutoFormer-small": "autoformer-small",
             "AutoFormer-base": "autoformer-base"}
    df = reported.load("ps-table1")
    ours = {m: zoo.counts(z) for m, z in names.items() if z in zoo.names()}
    df["Params (M) ours"] = [ours[m].params / 1e6 if m in ours else np.nan for m in df["Model"]]
    df["FLOPs (G) ours"] = [ours[m].macs / 1e9 if m in ours else np.nan for m in df["Model"]]
    return df.rename(columns={c: f"{c} reported" for c in ("Params (M)", "FLOPs (G)", "Cost (GPU days)",
                                                           "Top-1 (%)", "Top-5 (%)")})


def table3(cfg: ProbShiftConfig, profile: str) -> pd.DataFrame:
    """Our supernet training settings beside the paper's (Table 3)."""
    paper = reported.load("ps-table3").assign(Source="reported (ImageNet)")
    images = cfg.train_subset or 60000 - cfg.val_subset
    ours = pd.DataFrame([{"Model": f"ViT ({cfg.space})", "Epochs": cfg.epochs, "Batch size": cfg.batch_size,
                          "Learning rate": cfg.lr, "Weight decay": cfg.weight_decay,
                          "Optimizer": "AdamW", "Augmentation": "none",
                          "Source": f"ours, profile {profile} (Fashion-MNIST, {images} images)"}])
    return pd.concat([paper, ours], ignore_index=True)


def table2(cfg: ProbShiftConfig, study_: list[SeedRuns]) -> pd.DataFrame:
    """Table 2, every seed: the generator's subnets of the shift supernet at the smallest and largest bin,
    inherited, finetuned and retrained (:func:`run.table2_seed`)."""
    df = pd.concat([table2_seed(cfg, r.runs["shift"], r.seed) for r in study_], ignore_index=True)
    return df.drop(columns="config")


def ranking(cfg: ProbShiftConfig, study_: list[SeedRuns]) -> pd.DataFrame:
    """Fig. 6, every seed: random subnets of the shift supernet, inherited vs finetuned (:func:`run.ranking_seed`)."""
    return pd.concat([ranking_seed(cfg, r.runs["shift"], r.seed) for r in study_], ignore_index=True)


def sufficiency(cfg: ProbShiftConfig, study_: list[SeedRuns]) -> pd.DataFrame:
    """Table 4's scores and training sufficiency, every seed and epoch (:func:`run.sufficiency_seed`)."""
    return pd.concat([sufficiency_seed(cfg, r.runs["shift"], r.seed) for r in study_], ignore_index=True)


def rank_correlation(method: str) -> Callable[[np.ndarray, np.ndarray], float]:
    """The ``method`` (kendall, spearman) correlation of two score vectors; 0 where it is undefined."""
    f = {"kendall": stats.kendalltau, "spearman": stats.spearmanr}[method]

    def corr(x: np.ndarray, y: np.ndarray) -> float:
        with np.errstate(invalid="ignore", divide="ignore"):
            v = f(x, y).statistic
        return 0.0 if np.isnan(v) else float(v)   # a constant resample carries no ranking
    return corr


def table4(suff: pd.DataFrame) -> pd.DataFrame:
    """Table 4: Kendall tau between the grad_B score (and the loss decrease) and training sufficiency
    (:func:`sufficiency`), per seed, then the mean over seeds, by epoch."""
    corr = rank_correlation("kendall")
    rows = []
    for epoch, g in suff.groupby("epoch"):
        per = [(corr(s["grad_B"].to_numpy(), s["sufficiency"].to_numpy()),
                corr(s["loss_decrease"].to_numpy(), s["sufficiency"].to_numpy())) for _, s in g.groupby("seed")]
        rows.append({"Epoch": epoch, "Kendall's tau (grad_B)": np.mean([p[0] for p in per]),
                     "Kendall's tau (loss decrease)": np.mean([p[1] for p in per])})
    return pd.DataFrame(rows)
