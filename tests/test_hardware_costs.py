"""Notebook 02's verdict logic (repro.experiments.hardware_costs.claims): sa-fig6 across the sensitivity grid,
bs-text-efficiency against its tolerance, sa-fig1 by construction."""
import pandas as pd
import pytest

from repro import evidence
from repro.experiments.hardware_costs import claims, run, tables


def _points(hybrid_mj: float, settings=(("ours", 32, 4), ("released", 8, 1))) -> pd.DataFrame:
    """Two baselines (75% at 10 mJ, 80% at 20 mJ) and one hybrid (81%) at ``hybrid_mj`` per setting."""
    rows = []
    for em, bits, k in settings:
        for row, fam, top1, mj in (("A", "CNN", 75.0, 10.0), ("B", "Transformer", 80.0, 20.0),
                                   ("H", "Hybrid", 81.0, hybrid_mj[(em, bits, k)] if isinstance(hybrid_mj, dict)
                                    else hybrid_mj)):
            rows.append({"row": row, "model": row, "family": fam, "top1 (reported)": top1, "energy model": em,
                         "bits": bits, "RF accesses/MAC": k, "energy_mJ (ours)": mj})
    return pd.DataFrame(rows)


def test_claim_holds_only_if_it_holds_in_every_setting():
    assert claims.sensitivity_evidence(tables.sensitivity_table(_points(5.0))).verdict == evidence.HOLDS
    table = tables.sensitivity_table(_points({("ours", 32, 4): 5.0, ("released", 8, 1): 15.0}))
    assert list(table.beaten) == [2, 1]
    assert table.loc[1, "not beaten"] == "A"
    assert table.loc[1, "min saving"] == pytest.approx(1 - 15 / 10)
    assert claims.sensitivity_evidence(table).verdict == evidence.DOES_NOT_HOLD


def test_efficiency_against_the_reported_ratio():
    def table(ours):
        return pd.DataFrame({"quantity": ["average power"], "reported (x)": [9.7], "ours (x)": [ours]})
    assert claims.efficiency_evidence(table(9.7 * 1.2)).verdict == evidence.HOLDS
    assert claims.efficiency_evidence(table(9.7 * 1.3)).verdict == evidence.DOES_NOT_HOLD


def test_unit_energies_are_by_construction():
    assert claims.unit_energy_evidence().verdict == evidence.BY_CONSTRUCTION


def test_sensitivity_points_rescale_rf_energy_linearly():
    pts = run.sensitivity_points(("ours", "released"), (32,), (2, 4), models=("resnet50", "shiftaddnas-t0"))
    r = pts[pts.row == "ResNet-50"].set_index(["energy model", "RF accesses/MAC"])
    rf4 = r.loc[("ours", 4), "RF share"] * r.loc[("ours", 4), "energy_mJ (ours)"]
    assert r.loc[("ours", 2), "energy_mJ (ours)"] == pytest.approx(r.loc[("ours", 4), "energy_mJ (ours)"] - rf4 / 2)
    assert r.loc[("released", 4), "energy_mJ (ours)"] > r.loc[("released", 2), "energy_mJ (ours)"]
