"""Notebook 02, what is computed (and cached): the zoo's costs beside the reported rows (zoo-costs), one
model's cost under the released code's charging rules, and sa-fig6's energies over the sensitivity grid.
The study's config is the profile's :class:`repro.profiles.CostConfig` and a
:class:`repro.cost.eyeriss.HardwareConfig`."""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from repro import reported
from repro.cache import cached
from repro.cost import counting, eyeriss, unit_energy, zoo
from repro.cost.eyeriss import RELEASED_RF_ACCESSES, HardwareConfig


# ---------------------------------------------------------------- zoo-costs

@dataclass(frozen=True)
class ReportedRow:
    """A zoo model (at a resolution) and the row of a reported table that prints its numbers."""
    model: str
    resolution: int | None
    artifact: str
    row: str


REPORTED_ROWS = (
    ReportedRow("transformer-base", None, "", ""),
    ReportedRow("transformer-big", None, "sa-table3", "Transformer"),
    ReportedRow("resnet18", None, "bs-table2", "ResNet18"),
    ReportedRow("resnet50", None, "sa-table4", "ResNet-50"),
    ReportedRow("resnet50", None, "bs-table2", "ResNet50"),
    ReportedRow("resnet101", None, "sa-table4", "ResNet-101"),
    ReportedRow("addernet-resnet50", None, "sa-table4", "AdderNet"),
    ReportedRow("deepshift-resnet50", None, "sa-table4", "DeepShift-Q"),
    ReportedRow("deit-tiny", None, "sa-table4", "DeiT-T"),
    ReportedRow("deit-small", None, "sa-table4", "DeiT-S"),
    ReportedRow("vit-base-16", 384, "sa-table4", "ViT-B/16"),
    ReportedRow("autoformer-tiny", None, "ps-table1", "AutoFormer-tiny"),
    ReportedRow("autoformer-small", None, "sa-table4", "Autoformer-S"),
    ReportedRow("autoformer-base", None, "sa-table4", "Autoformer-B"),
    ReportedRow("botnet-50", None, "sa-table4", "BoT-50"),
    ReportedRow("shiftaddnas-t0", None, "sa-table4", "ShiftAddNAS-T0"),
    ReportedRow("shiftaddnas-t0", 256, "sa-table4", "ShiftAddNAS-T0↑"),
    ReportedRow("shiftaddnas-t1", None, "sa-table4", "ShiftAddNAS-T1"),
    ReportedRow("shiftaddnas-t1", 256, "sa-table4", "ShiftAddNAS-T1↑"),
    ReportedRow("shiftnas-imagenet", None, "bs-table2", "ShiftNAS (Ours)"),
    ReportedRow("darts-v2-imagenet", None, "bs-table2", "DARTS-v2"),
)
_COLUMNS = ("params_M", "macs_G", "mult_G", "add_G", "shift_G", "energy_mJ", "latency_ms")


def reported_numbers(artifact: str, row: str) -> dict[str, float]:
    """The reported params / MACs / op counts / energy / latency of one row, in the zoo table's units."""
    if not artifact:
        return {}
    df = reported.load(artifact)
    label = "Architecture" if "Architecture" in df.columns else "Model"
    r = df[df[label] == row]
    if r.empty:
        raise KeyError(f"no row {row!r} in data/reported/{artifact}.csv; rows: {list(df[label])}")
    r = r.iloc[0]
    if artifact == "sa-table3":  # En-De columns; FLOPs = 2 x MACs (HAT)
        return {"params_M": r["En-De Params (M)"], "macs_G": r["En-De FLOPs (G)"] / 2,
                "energy_mJ": r["En-De Energy (mJ)"], "latency_ms": r["En-De Latency (ms)"]}
    if artifact == "sa-table4":
        return {"params_M": r["Params (M)"], "macs_G": r["MACs (G)"], "mult_G": r["#Mult. (G)"],
                "add_G": r["#Add (G)"], "shift_G": r["#Shift (G)"]}
    if artifact == "bs-table2":
        return {"params_M": r["Params (M)"], "mult_G": r["Multi (M)"] / 1e3, "add_G": r["Add (M)"] / 1e3}
    if artifact == "ps-table1":  # the paper's "FLOPs" are multiply-accumulates (DeiT-tiny: 1.2-1.3G)
        return {"params_M": r["Params (M)"], "macs_G": r["FLOPs (G)"]}
    raise ValueError(f"no column mapping for {artifact!r}; known: sa-table3, sa-table4, bs-table2, ps-table1")


def _ours(model: str, resolution: int | None, bits: tuple[int, ...], hw: HardwareConfig) -> dict:
    out: dict = {}
    for b in bits:
        c = zoo.cost(model, bits=b, resolution=resolution, hw=hw)
        out.update({f"energy_mJ@{b}b": c["energy_mj"], f"latency_ms@{b}b": c["latency_ms"]})
    out.update(params_M=c["params"] / 1e6, macs_G=c["macs"] / 1e9, mult_G=c["mult"] / 1e9, add_G=c["add"] / 1e9,
               shift_G=c["shift"] / 1e9)
    return out


def zoo_costs(models: tuple[str, ...] = (), bits: tuple[int, ...] = (32, 8),
              hw: HardwareConfig = HardwareConfig()) -> pd.DataFrame:
    """One row per (zoo model, reported row): ours, reported and the relative difference (ours / reported - 1);
    energy and latency at ``bits[0]``, with extra ``energy_mJ@8b``-style columns for the other precisions.

    ``models`` empty means every model of :data:`REPORTED_ROWS`. Cached on disk by models, bits and the
    hardware config; the cost-model source is part of the key.
    """
    rows = [r for r in REPORTED_ROWS if not models or r.model in models]
    unknown = set(models) - {r.model for r in REPORTED_ROWS}
    if unknown:
        raise KeyError(f"no zoo-costs row for {sorted(unknown)}; known: {sorted({r.model for r in REPORTED_ROWS})}")

    def compute(_ckpt) -> pd.DataFrame:
        out = []
        for r in tqdm(rows, desc="zoo costs", unit="model"):
            ours = _ours(r.model, r.resolution, bits, hw)
            rep = reported_numbers(r.artifact, r.row)
            row = {"model": r.model, "resolution": (r.resolution or 224) if zoo.entry(r.model).is_image else None,
                   "reported in": f"{r.artifact}: {r.row}" if r.artifact else ""}
            for col in _COLUMNS:
                mine = ours.get(col, ours.get(f"{col}@{bits[0]}b"))
                theirs = rep.get(col, np.nan)
                row[f"{col} (ours)"] = mine
                row[f"{col} (reported)"] = theirs
                row[f"{col} rel. diff"] = mine / theirs - 1 if theirs and np.isfinite(theirs) else np.nan
            row.update({k: v for k, v in ours.items() if "@" in k and not k.endswith(f"@{bits[0]}b")})
            out.append(row)
        return pd.DataFrame(out)

    sources = {a: reported.path(a).read_text() for a in sorted({r.artifact for r in rows} - {""})}
    key = {"rows": [asdict(r) for r in rows], "bits": list(bits), "hw": asdict(hw), "reported": sources}
    return cached("zoo-costs", key, compute,
                  code=(zoo, counting, eyeriss, unit_energy, reported_numbers))  # and what they import (repro.cache)


def released_cost(model: str, hw: HardwareConfig = HardwareConfig(), resolution: int | None = None) -> dict:
    """:func:`repro.cost.zoo.cost` of one model under the released code's charging rules (``energy_model="released"``)."""
    return zoo.cost(model, bits=hw.bits, resolution=resolution, hw=replace(hw, energy_model="released"))


# ---------------------------------------------------------------- sa-fig6 sensitivity

#: The axes of the sensitivity grid: columns of :func:`sensitivity_points`, one setting per combination.
SETTING = ["energy model", "bits", "RF accesses/MAC"]


def _base_rf(energy_model: str, hw: HardwareConfig) -> int:
    return sum(RELEASED_RF_ACCESSES.values()) if energy_model == "released" else hw.rf_accesses_per_mac


def sensitivity_points(energy_models: tuple[str, ...], bits: tuple[int, ...], rf_accesses: tuple[int, ...],
                       hw: HardwareConfig = HardwareConfig(), models: tuple[str, ...] = ()) -> pd.DataFrame:
    """Energy of every sa-table4 row of :data:`REPORTED_ROWS` (of ``models``; empty: all) under each energy
    model, precision and RF accesses per MAC (tiling fixed at the base setting's, RF energy rescaled; package
    docstring), cached."""
    rows = [r for r in REPORTED_ROWS if r.artifact == "sa-table4" and (not models or r.model in models)]
    t4 = reported.load("sa-table4").set_index("Model")

    def compute(_ckpt) -> pd.DataFrame:
        out = []
        for r in tqdm(rows, desc="sensitivity", unit="model"):
            shapes = zoo.counts(r.model, r.resolution).shapes()
            for em in energy_models:
                for b in bits:
                    net = eyeriss.layers_cost(shapes, replace(hw, bits=b, energy_model=em))
                    rf, base = float(net.per_layer.rf_mj.sum()), _base_rf(em, hw)
                    for k in rf_accesses:
                        out.append({"row": r.row, "model": r.model, "family": t4.loc[r.row, "Model Type"],
                                    "top1 (reported)": float(t4.loc[r.row, "Top-1 (%)"]), "energy model": em,
                                    "bits": b, "RF accesses/MAC": k,
                                    "energy_mJ (ours)": net.energy_mj + rf * (k / base - 1),
                                    "RF share": rf * k / base / (net.energy_mj + rf * (k / base - 1))})
        return pd.DataFrame(out)

    key = {"rows": [asdict(r) for r in rows], "models": list(energy_models), "bits": list(bits),
           "rf": list(rf_accesses), "hw": asdict(hw), "t4": reported.path("sa-table4").read_text()}
    return cached("sa-fig6-sensitivity", key, compute,
                  code=(zoo, counting, eyeriss, unit_energy, _base_rf))
