"""Unit energies (ShiftAddNAS Fig. 1) and the ratios its text quotes, and notebook 02's helpers."""
from __future__ import annotations

import pytest

from repro.cost import unit_energy
from repro.experiments.hardware_costs import run


def test_horowitz_entries():
    assert unit_energy.energy("mult", "FIX", 32) == 3.1
    assert unit_energy.energy("add", "FP", 32) == 0.9
    assert unit_energy.energy("shift", "FIX", 8) == 0.024
    with pytest.raises(KeyError, match="the table has"):
        unit_energy.energy("mult", "FIX", 16)


def test_mac_energy_follows_the_op_split():
    assert unit_energy.mac_energy("mult", 32) == pytest.approx(3.1 + 0.1)
    assert unit_energy.mac_energy("add", 32) == pytest.approx(2 * 0.1)
    assert unit_energy.mac_energy("shift", 8) == pytest.approx(0.024 + 0.03)


def test_quoted_ratios_traced_to_their_pairs():
    r = unit_energy.quoted_ratios().set_index(["reported", "claim"])
    assert r.matches.all()
    assert r.loc[("31x", "add saves vs mult (FIX32)"), "ours"] == pytest.approx(3.1 / 0.1)
    assert r.loc[("4.1x", "add saves vs mult (FP32)"), "ours"] == pytest.approx(3.7 / 0.9)
    assert r.loc[("24x", "shift saves vs mult (FIX32)"), "ours"] == pytest.approx(3.1 / 0.13)


def test_reported_rows_map_to_zoo_units():
    big = run.reported_numbers("sa-table3", "Transformer")
    assert big["macs_G"] == pytest.approx(10.6 / 2) and big["energy_mJ"] == 214
    shiftnas = run.reported_numbers("bs-table2", "ShiftNAS (Ours)")
    assert shiftnas["add_G"] == pytest.approx(0.298)
    with pytest.raises(KeyError, match="rows"):
        run.reported_numbers("sa-table4", "No-Such-Net")
