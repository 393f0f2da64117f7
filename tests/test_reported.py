"""The transcribed paper numbers (``data/reported/*.csv``) against values read from the paper text.

Every expected value below was read by hand from ``../shared/papers/`` (the table or sentence named
in the file's ``# source:`` line), independently of the CSV files.
"""
from __future__ import annotations

import math

import pandas as pd
import pytest

from repro import artifacts, reported
from repro.paths import REPORTED_DIR

# id -> [(row: {column: value}, column, expected)], several cells per table, read from the paper.
SPOT_CHECKS: dict[str, list[tuple[dict, str, object]]] = {
    "sa-table1": [({"Searchable choice": "Elastic MLP dim."}, "Options", "[4096, 3072, 2048, 1024]"),
                  ({"Searchable choice": "Arbitrary Attn"}, "Options", "[3, 2, 1]"),
                  ({"Searchable choice": "Decoder block types"}, "Options", "[Attn, Attn+Conv, Attn+Shift, Attn+Add]")],
    "sa-table2": [({"Searchable choice": "Num. of 7^2x1024 blocks"}, "Options", "[4, 5, 6, 7, 8, 9]"),
                  ({"Searchable choice": "Block types"}, "Options", "[Attn, Conv, Shift, Add]")],
    "sa-table3": [({"Model": "Transformer"}, "En-Fr FLOPs (G)", 10.6),
                  ({"Model": "Transformer"}, "En-De Energy (mJ)", 214),
                  ({"Model": "Evolved Trans."}, "En-Fr BLEU", 41.3),
                  ({"Model": "Evolved Trans."}, "En-Fr Latency (ms)", None),
                  ({"Group": 1, "Model": "ShiftAddNAS"}, "En-Fr BLEU", 41.8),
                  ({"Group": 3, "Model": "ShiftAddNAS"}, "En-Fr Latency (ms)", 16),
                  ({"Group": 2, "Model": "HAT"}, "En-De Params (M)", 36),
                  ({"Group": 5, "Model": "ShiftAddNAS (8-bit)"}, "En-De Latency (ms)", 9.2),
                  ({"Group": 4, "Model": "ShiftAddNAS (8-bit)"}, "En-De BLEU", 28.3)],
    "sa-table4": [({"Model": "AdderNet"}, "#Add (G)", 7.6),
                  ({"Model": "ShiftAddNet"}, "Params (M)", 64),
                  ({"Model": "ShiftAddNet"}, "Top-5 (%)", None),
                  ({"Model": "ViT-L/16"}, "Res. (px)", 384),
                  ({"Model": "HR-NAS"}, "Params (M)", 6.4),
                  ({"Model": "ShiftAddNAS-T0"}, "#Shift (G)", 1.0),
                  ({"Model": "ShiftAddNAS-T0↑"}, "MACs (G)", 4.9),
                  ({"Model": "ShiftAddNAS-T1"}, "Top-1 (%)", 82.7),
                  ({"Model": "ShiftAddNAS-T1↑"}, "#Mult. (G)", 7.1),
                  ({"Model": "BossNAS-T1"}, "Model Type", "CNN + Trans.")],
    "sa-table5": [({"ShiftAddNAS": "w/ Naive WS"}, "Kendall τ", 0.49),
                  ({"ShiftAddNAS": "w/ HWS"}, "Spearman ρ", 0.74),
                  ({"ShiftAddNAS": "w/ HWS"}, "Latency (ms)", 252),
                  ({"ShiftAddNAS": "w/ Naive WS"}, "Energy (mJ)", 440)],
    "sa-table6": [({"Methods": "Evolved Trans."}, "Search Cost (GPU days)", 91334),
                  ({"Methods": "ShiftAddNAS"}, "Search Cost (GPU days)", 9.3)],
    "sa-table7": [({"Methods": "DARTS"}, "Search Cost (GPU days)", 50),
                  ({"Methods": "ShiftAddNAS"}, "Search Cost (GPU days)", 8.9)],
    "sa-table8": [({"Stage": "Supernet Train"}, "NLP (GPU days)", 8.5),
                  ({"Stage": "Arch. Search"}, "CV (GPU days)", 1.2)],
    "sa-fig1": [({"Operator": "Shift", "Platform": "FPGA"}, "Saving (x)", 24),
                ({"Operator": "Add", "Platform": "FPGA", "Format": "FP32"}, "Saving (x)", 4.1),
                ({"Operator": "Add", "Format": "FIX8"}, "Saving (x)", 7.83)],
    "sa-fig5": [({"Comparison": "ShiftAddNAS vs all full-precision baselines", "Quantity": "FLOPs reduction (%)"},
                 "To", 73.6),
                ({"Comparison": "ShiftAddNAS (8-bit) vs Lite Transformer (8-bit)", "Quantity": "BLEU difference (BLEU)"},
                 "To", 4.9)],
    "sa-fig6": [({"Comparison": "ShiftAddNAS vs all baselines (average)", "Quantity": "Energy saving (%)"}, "From", 24),
                ({"Comparison": "ShiftAddNAS vs BossNAS (average)", "Quantity": "Energy saving (%)"}, "To", 30)],
    "sa-fig8": [({"Resolution": "1/16", "Position": 1}, "Block type", "Shift"),
                ({"Resolution": "1/32", "Position": 3}, "Code", 1)],
    "sa-text-spacesize": [({"Space": "NLP"}, "log10 Subnets", 14), ({"Space": "CV"}, "log10 Subnets", 9)],
    "sa-text-supernetsize": [({"Supernet": "w/o WS"}, "Params (M)", 615),
                             ({"Supernet": "w/ HWS"}, "Params (M)", 364)],
    "bs-table1": [({"Architecture": "ResNet20"}, "CIFAR10 Top-1 (%)", 88.84),
                  ({"Architecture": "VGG19"}, "CIFAR100 Top-1 (%)", 64.88),
                  ({"Architecture": "AmoebaNet"}, "Search Cost (GPU-days)", 3150),
                  ({"Architecture": "GDAS"}, "CIFAR100 Params (M)", 3.4),
                  ({"Architecture": "DOTS"}, "CIFAR100 Params (M)", 4.2),
                  ({"Architecture": "ShiftNAS (Best)"}, "CIFAR100 Top-1 (%)", 76.35),
                  ({"Architecture": "ShiftNAS (Avg)"}, "CIFAR10 Top-1 std (%)", 0.12),
                  ({"Architecture": "ShiftNAS (Avg)"}, "Search Cost (GPU-days)", 0.23),
                  ({"Architecture": "NASNet"}, "Search Method", "RL")],
    "bs-table2": [({"Architecture": "ResNet50"}, "Add (M)", 2053),
                  ({"Architecture": "VGG16"}, "Top-1 (%)", 0.10),
                  ({"Architecture": "SqueezeNet1_0"}, "Top-5 (%)", 51.96),
                  ({"Architecture": "ShiftNAS (Ours)"}, "Top-1 (%)", 67.17),
                  ({"Architecture": "ShiftNAS (Ours)"}, "Multi (M)", 0)],
    "bs-table3": [({"Architecture": "ResNet18", "Domain": "R"}, "C10 Acc. (%)", 94.45),
                  ({"Architecture": "DARTS-", "Domain": "BS"}, "C100 Diff. (%)", -5.17),
                  ({"Architecture": "DOTS", "Domain": "BS"}, "C10 Acc. (%)", 95.13),
                  ({"Architecture": "ShiftNAS", "Domain": "BS"}, "C10 Diff. (%)", -0.61),
                  ({"Architecture": "ShiftNAS", "Domain": "R"}, "C100 Acc. (%)", 78.26)],
    "bs-table4": [({"ID": 2}, "LRR", "no"), ({"ID": 3}, "L2R", "no"),
                  ({"ID": 3}, "C100 Acc. (%)", 74.93), ({"ID": 4}, "C10 Diff. (%)", -0.67)],
    "bs-table5": [({"Cell": "Normal", "Node": 4}, "Op 2", "dil_conv_5x5"),
                  ({"Cell": "Normal", "Node": 4}, "Input 2", 4),
                  ({"Cell": "Reduction", "Node": 2}, "Op 2", "max_pool_3x3")],
    "bs-table6": [({"Cell": "Normal", "Node": 1}, "Op 1", "sep_conv_3x3"),
                  ({"Cell": "Reduction", "Node": 3}, "Input 2", 3),
                  ({"Cell": "Reduction", "Node": 4}, "Op 1", "sep_conv_5x5")],
    "bs-table7": [({"Architecture": "ResNet18", "Domain": "R"}, "Top-1 (%)", 68.14),
                  ({"Architecture": "DOTS", "Domain": "BS"}, "Top-1 Diff. (%)", -6.39),
                  ({"Architecture": "ShiftNAS", "Domain": "BS"}, "Top-5 Diff. (%)", -3.23),
                  ({"Architecture": "ShiftNAS", "Domain": "R"}, "Top-5 (%)", 90.61)],
    "bs-text-efficiency": [({"Quantity": "average power"}, "Multiplier over shift (x)", 9.7),
                           ({"Quantity": "transistors"}, "Multiplier over shift (x)", 4.32)],
    "bs-fig3": [({"Strategy": "DARTS"}, "CIFAR100 Acc. (%)", 69.58)],
    "bs-fig4": [({"LRR": "yes"}, "Search Acc. (%)", 84.68), ({"LRR": "no"}, "Search Acc. (%)", 74.58)],
    "bs-fig6": [({"Batch size": 256}, "Top-1 (%)", 68.67)],
    "ps-table1": [({"Model": "AutoFormer-tiny"}, "Top-1 (%)", 74.7),
                  ({"Model": "ShiftFormer-T(Ours)"}, "Top-1 (%)", 76.0),
                  ({"Model": "T2T-ViT-14"}, "Top-5 (%)", None),
                  ({"Model": "ViT-S/16"}, "Cost (GPU days)", None),
                  ({"Model": "ShiftFormer-B(Ours)"}, "Cost (GPU days)", 40),
                  ({"Model": "MobileNetV3 1.0×"}, "Cost (GPU days)", 3791),
                  ({"Model": "DS-MBNet-S"}, "FLOPs (G)", 0.57),
                  ({"Model": "ShiftCNN-B(Ours)"}, "Top-5 (%)", 93.6)],
    "ps-table2": [({"Model": "ShiftFormer-T"}, "Finetune (%)", 75.9),
                  ({"Model": "ShiftFormer-B"}, "Retrain Diff. (%)", 0.2),
                  ({"Model": "ShiftCNN-S"}, "Finetune Diff. (%)", -0.2)],
    "ps-table3": [({"Model": "CNN"}, "Learning rate", 0.5), ({"Model": "ViT"}, "Optimizer", "AdamW"),
                  ({"Model": "ViT"}, "Weight decay", 0.05)],
    "ps-table4": [({"Epoch": 30}, "Kendall's tau", 0.24), ({"Epoch": 90}, "Kendall's tau", 0.75)],
    "ps-table5": [({"method": "ShiftCNN-S"}, "FLOPs (M)", 259),
                  ({"method": "AttentiveNAS-A4"}, "Acc. @ 1 (%)", 79.8),
                  ({"method": "AttentiveNAS-A1"}, "Training epochs", 1440)],
    "ps-table6": [({"Backbone": "ViT-Base"}, "FLOPs (G)", 120.9), ({"Backbone": "ShiftFormer-B"}, "Acc.@1 (%)", 49.8)],
    "ps-fig9": [({"Quantity": "Rejection sampling time per iteration (s)"}, "Value", 0.4)],
}

# Row counts as printed in the papers.
ROWS = {"sa-table3": 12, "sa-table4": 30, "bs-table1": 19, "bs-table2": 12, "bs-table3": 12, "bs-table7": 6,
        "ps-table1": 30, "ps-table2": 5, "bs-table5": 8, "bs-table6": 8}

# Numeric columns that are counts, indices or dimensionless metrics, so carry no unit.
UNITLESS = {"Group", "ID", "Node", "Input 1", "Input 2", "Epoch", "Position", "Code", "Batch size",
            "En-Fr BLEU", "En-De BLEU", "Kendall τ", "Pearson R", "Spearman ρ", "Kendall's tau",
            "Epochs", "Learning rate", "Weight decay", "Training epochs", "log10 Subnets",
            "Value", "From", "To"}  # Value / From / To: the unit is named in the Quantity column

FILES = sorted(p.stem for p in REPORTED_DIR.glob("*.csv"))


def _cell(df: pd.DataFrame, row: dict, column: str):
    mask = pd.Series(True, index=df.index)
    for key, value in row.items():
        mask &= df[key] == value
    hits = df.loc[mask, column]
    assert len(hits) == 1, f"{row} matches {len(hits)} rows"
    return hits.iloc[0]


@pytest.mark.parametrize("artifact_id", sorted(SPOT_CHECKS))
def test_values_match_the_paper(artifact_id):
    df = reported.load(artifact_id)
    for row, column, expected in SPOT_CHECKS[artifact_id]:
        got = _cell(df, row, column)
        if expected is None:
            assert pd.isna(got), f"{artifact_id} {row} {column}: expected empty, got {got!r}"
        elif isinstance(expected, str):
            assert got == expected, f"{artifact_id} {row} {column}"
        else:
            assert math.isclose(float(got), expected), f"{artifact_id} {row} {column}: {got} != {expected}"


def test_every_table_of_the_papers_is_transcribed():
    tables = [a.id for a in artifacts.REGISTRY if "Table" in a.source]
    assert tables and set(tables) <= set(FILES)
    assert set(FILES) <= set(SPOT_CHECKS), "every transcribed file has spot checks"


@pytest.mark.parametrize("artifact_id", FILES)
def test_metadata_and_units(artifact_id):
    artifacts.get(artifact_id)  # the file is named by a registered artifact id
    meta = reported.metadata(artifact_id)
    assert meta.get("paper", "").split(",")[0] in {"shiftaddnas.txt", "shiftnas-bitshift.txt",
                                                    "shiftnas-probability-shift.md"}
    assert meta.get("source", "").startswith(artifacts.get(artifact_id).source.split(" (")[0].split(" ")[0])
    df = reported.load(artifact_id)
    assert len(df) > 0 and not df.columns.str.startswith("Unnamed").any()
    for column in df.select_dtypes("number").columns:
        assert "(" in column or column in UNITLESS, f"{artifact_id}: numeric column {column!r} has no unit"
    if artifact_id in ROWS:
        assert len(df) == ROWS[artifact_id]


def test_diffs_are_consistent_with_accuracies():
    """Tables 3, 4 and 7 of the bit-shift paper print differences; they equal BS minus R (or row 1)."""
    t3 = reported.load("bs-table3")
    for arch, pair in t3.groupby("Architecture", sort=False):
        real, bs = pair.set_index("Domain").loc["R"], pair.set_index("Domain").loc["BS"]
        for d in ("C10", "C100"):
            assert abs(bs[f"{d} Acc. (%)"] - real[f"{d} Acc. (%)"] - bs[f"{d} Diff. (%)"]) < 0.015, arch
    t4 = reported.load("bs-table4").set_index("ID")
    assert abs(t4.loc[4, "C100 Acc. (%)"] - t4.loc[1, "C100 Acc. (%)"] - t4.loc[4, "C100 Diff. (%)"]) < 1e-9
    t7 = reported.load("bs-table7")
    for arch, pair in t7.groupby("Architecture", sort=False):
        real, bs = pair.set_index("Domain").loc["R"], pair.set_index("Domain").loc["BS"]
        assert abs(bs["Top-1 (%)"] - real["Top-1 (%)"] - bs["Top-1 Diff. (%)"]) < 0.015, arch
