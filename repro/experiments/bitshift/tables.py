"""Notebook 06's tables: our numbers (mean over seeds) beside the paper's reported rows."""
from __future__ import annotations

import pandas as pd

from repro import reported
from repro.experiments.bitshift.run import ABLATIONS, BitshiftRun, imagenet_counts, mean
from repro.spaces import darts as darts_space
from repro.spaces.darts import Genotype


def _dataset_column(r: BitshiftRun) -> str:
    return "C100" if r.study.cfg.dataset == "cifar100" else "C10"


def table1(r: BitshiftRun) -> pd.DataFrame:
    """bs-table1: our three networks (bit-shift domain, mean over seeds) beside the paper's CIFAR rows."""
    cfg = r.study.cfg
    col = "CIFAR100" if cfg.dataset == "cifar100" else "CIFAR10"
    paper = reported.load("bs-table1").set_index("Architecture")
    rows = []
    for ours, theirs, search in (("ShiftNAS", "ShiftNAS (Best)", "shiftnas"), ("DARTS strategy", "DARTS-v2", "darts"),
                                 ("ResNet-20", "ResNet20", None)):
        rows.append({"Architecture": ours, "source": f"ours ({cfg.dataset}, scaled, {len(r.seeds)} seeds)",
                     "Top-1 (%)": mean(r.per_seed(lambda s: s.trained[(ours, "shift")].test_acc)),
                     "Params (M)": mean(r.per_seed(lambda s: s.trained[(ours, "shift")].params)) / 1e6,
                     "Search cost (CPU-hours)": (mean(r.per_seed(lambda s: getattr(s, search).seconds)) / 3600
                                                 if search else float("nan"))})
        rows.append({"Architecture": theirs, "source": f"reported ({col})",
                     "Top-1 (%)": float(paper.loc[theirs, f"{col} Top-1 (%)"]),
                     "Params (M)": float(paper.loc[theirs, f"{col} Params (M)"]),
                     "Search cost (CPU-hours)": float("nan")})
    return pd.DataFrame(rows)


def table3(r: BitshiftRun) -> pd.DataFrame:
    """bs-table3: real vs bit-shift accuracy and the drop (mean over seeds), ours beside the paper's."""
    col = _dataset_column(r)
    paper = reported.load("bs-table3")
    rows = []
    for ours, theirs in (("ShiftNAS", "ShiftNAS"), ("DARTS strategy", "DARTS(v2)"), ("ResNet-20", "ResNet18")):
        real = mean(r.per_seed(lambda s: s.trained[(ours, "real")].test_acc))
        shift = mean(r.per_seed(lambda s: s.trained[(ours, "shift")].test_acc))
        p = paper[paper["Architecture"] == theirs].set_index("Domain")
        rows.append({"Architecture": ours, "Real (%)": real, "Bit-shift (%)": shift, "Drop (%)": shift - real,
                     "reported as": theirs, f"reported R {col} (%)": float(p.loc["R", f"{col} Acc. (%)"]),
                     f"reported BS {col} (%)": float(p.loc["BS", f"{col} Acc. (%)"]),
                     f"reported drop {col} (%)": float(p.loc["BS", f"{col} Diff. (%)"])})
    return pd.DataFrame(rows)


def table4(r: BitshiftRun) -> pd.DataFrame:
    """bs-table4: the four L2R / LRR arms: the searched cell trained in the bit-shift domain (mean over seeds)."""
    col = _dataset_column(r)
    paper = reported.load("bs-table4")
    base = mean(r.per_seed(lambda s: s.ablation_trained[(True, True)].test_acc))
    rows = []
    for i, (l2r, lrr) in enumerate(ABLATIONS):
        acc = mean(r.per_seed(lambda s: s.ablation_trained[(l2r, lrr)].test_acc))
        searched = mean(r.per_seed(lambda s: s.ablation[(l2r, lrr)].history[-1]["test_acc"]))
        p = paper.iloc[i]
        rows.append({"ID": i + 1, "L2R": "yes" if l2r else "no", "LRR": "yes" if lrr else "no",
                     "Acc. (%)": acc, "Diff. (%)": acc - base,
                     "final search acc. (%)": searched,
                     f"reported {col} (%)": float(p[f"{col} Acc. (%)"]),
                     f"reported {col} Diff. (%)": float(p[f"{col} Diff. (%)"])})  # blank for the reference row
    return pd.DataFrame(rows)


def l2r_drift(r: BitshiftRun) -> pd.DataFrame:
    """bs-table4's mechanism check: where the bit-shift ResNet-20's shift parameters P went under the
    conventional L2 and under Eq. 15 (same initialisation and data order per seed; mean over seeds)."""
    lo, _ = r.l2r_drift[True].p_range
    rows = []
    for on in (False, True):
        d = lambda f, on=on: mean(r.per_seed(lambda s: getattr(s.l2r_drift[on], f)))  # noqa: E731
        rows.append({"regulariser of P, S": "Eq. 15: sum (2^P S)^2" if on else "conventional: sum P^2 + S^2",
                     "mean P at init": d("mean_p_init"), "mean P": d("mean_p"),
                     f"P at {lo} (%)": 100 * d("at_lower"), "P at 0 (%)": 100 * d("at_upper"),
                     "mean |P - P_init|": d("mean_abs_drift"), "round(P) changed (%)": 100 * d("shift_changed"),
                     "zero weights (%)": 100 * d("zero_weights"), "test acc. (%)": d("test_acc")})
    return pd.DataFrame(rows)


def table2(counting_input: tuple[int, ...] = (1, 3, 224, 224)) -> pd.DataFrame:
    """bs-table2: the paper's ImageNet rows, with our params / #Mult / #Add / #Shift of the
    ImageNet-mobile network built from the Table 5 cell (:func:`run.imagenet_counts`)."""
    paper = reported.load("bs-table2")
    ops = imagenet_counts(counting_input)
    ours = {"Architecture": "ShiftNAS (ours, counted)", "Top-1 (%)": float("nan"), "Top-5 (%)": float("nan"),
            "Params (M)": ops.params / 1e6, "Multi (M)": ops.mult / 1e6, "Add (M)": ops.add / 1e6,
            "Shift (M)": ops.shift / 1e6}
    paper = paper.assign(**{"Architecture": paper["Architecture"] + " (reported)", "Shift (M)": float("nan")})
    return pd.concat([paper, pd.DataFrame([ours])], ignore_index=True)


def genotype_table(paper_key: str, ours: Genotype) -> pd.DataFrame:
    """bs-table5 / bs-table6: the paper's best genotype (reported) beside the cell our search found."""
    paper = darts_space.PAPER_GENOTYPES[paper_key]
    rows = [{"source": f"reported ({paper_key})", **row} for row in paper.rows()]
    return pd.DataFrame(rows + [{"source": "ours (scaled search)", **row} for row in ours.rows()])
