"""The Eyeriss-like dataflow model: a hand-worked tiling, the best-tiling choice, 8 vs 32 bits."""
from __future__ import annotations

import pytest
from torch import nn

from repro.cost.counting import LayerShape
from repro.cost.eyeriss import HardwareConfig, Tiling, candidates, layer_cost, network_cost, tiling_cost

SMALL = LayerShape(in_channels=2, out_channels=4, out_h=4, out_w=4, kernel_h=3, kernel_w=3)
HW4 = HardwareConfig(pe_rows=1, pe_cols=4, bits=32)


def test_hand_worked_tiling():
    """C=2, M=4, E=F=4, 3x3 kernel, 4 PEs; tiling pm=2, pe=2, tm=2, tc=1, te=4 (worked by hand)."""
    c = tiling_cost(SMALL, "mult", HW4, Tiling(pm=2, pe=2, tm=2, tc=1, te=4))
    # n_m = 2, n_c = 2, n_e = 1; input tile 6 x 6 pixels per channel; weights 72, outputs 64, inputs 72
    dram = 72 * 1 + 72 * 2 + 64                     # weights x n_e + inputs x n_m + outputs
    gb = dram + 72 * 2 * 1 + 72 * 1 * 2 + 64 * 3    # + inputs x ceil(tm/pm) + weights x ceil(te/pe) + psums (2 n_c - 1)
    array = 144 * 2 + 144 * 2 + 192                 # inputs to pm PEs, weights to pe PEs, psums
    macs = 4 * 4 * 4 * 2 * 9
    assert c.accesses == {"dram": dram, "gb": gb, "array": array, "rf": 4 * macs}
    scale = 32 / 16
    assert c.compute_pj == pytest.approx(macs * (3.1 + 0.1))
    assert c.dram_pj == pytest.approx(dram * 200 * scale)
    assert c.gb_pj == pytest.approx(gb * 6 * 3.7 * scale)
    assert c.array_pj == pytest.approx(array * 2 * 3.7 * scale)
    assert c.rf_pj == pytest.approx(4 * macs * 3.7 * scale)
    assert c.cycles == macs / 4                      # every PE busy: 288 cycles, DRAM needs only 140


def test_best_tiling_is_the_argmin_of_normalised_energy_plus_latency():
    cands = candidates(SMALL, HW4)
    costs = []
    for i in range(len(cands["pm"])):
        t = Tiling(**{k: int(v[i]) for k, v in cands.items()})
        costs.append(tiling_cost(SMALL, "mult", HW4, t))
    e_min, l_min = min(c.energy_pj for c in costs), min(c.cycles for c in costs)
    best = min(costs, key=lambda c: c.energy_pj / e_min + c.cycles / l_min)
    chosen = layer_cost(SMALL, "mult", HW4)
    assert chosen.energy_pj / e_min + chosen.cycles / l_min == pytest.approx(
        best.energy_pj / e_min + best.cycles / l_min)
    assert chosen.tiling.pm * chosen.tiling.pe <= HW4.pes


def test_global_buffer_limit_is_respected():
    layer = LayerShape(64, 64, out_h=28, out_w=28, kernel_h=3, kernel_w=3)
    hw = HardwareConfig(gb_words=4096)
    t = layer_cost(layer, "mult", hw).tiling
    words = t.tc * ((t.te - 1) + 3) * 30 + t.tm * t.tc * 9 + t.tm * t.te * 28
    assert words * hw.word_scale <= hw.gb_words
    assert layer_cost(layer, "mult", HardwareConfig()).energy_pj < layer_cost(layer, "mult", hw).energy_pj


def test_8_bit_energy_below_32_bit():
    model = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 32, 3, stride=2),
                          nn.Flatten(), nn.Linear(32 * 15 * 15, 10))
    e32, e8 = network_cost(model, (1, 3, 32, 32), bits=32), network_cost(model, (1, 3, 32, 32), bits=8)
    assert 0 < e8.energy_mj < e32.energy_mj
    assert e8.latency_ms <= e32.latency_ms
    assert len(e32.per_layer) == 3


def test_cheaper_ops_cost_less_energy():
    mult, add, shift = (layer_cost(SMALL, op, HW4).energy_pj for op in ("mult", "add", "shift"))
    assert add < mult and shift < mult


def test_config_validation_names_the_choices():
    with pytest.raises(ValueError, match=r"\(8, 32\)"):
        HardwareConfig(bits=16)
    with pytest.raises(ValueError, match="pe_rows"):
        HardwareConfig(pe_rows=0)
    with pytest.raises(ValueError, match="valid ops"):
        layer_cost(SMALL, "xor", HW4)


def test_released_model_hand_worked():
    """The released code's charging rules on the hand-worked tiling (module docstring of repro.cost.eyeriss)."""
    hw = HardwareConfig(pe_rows=1, pe_cols=4, bits=32, energy_model="released")
    t = Tiling(pm=2, pe=2, tm=2, tc=1, te=4)
    macs, scale = 4 * 4 * 4 * 2 * 9, 32 / 16
    c = tiling_cost(SMALL, "mult", hw, t)
    assert c.compute_pj == pytest.approx(macs * 3.7)            # one op per MAC, the accumulate not charged
    assert c.dram_pj == pytest.approx((72 + 144 + 64) * 200 * scale)
    assert c.gb_pj == pytest.approx((144 + 64 + 144 + 192) * 22.2 * scale)   # weights bypass the buffer
    assert c.array_pj == pytest.approx(((144 * 2 + 144 * 2) * 7.4 + 192 * 3.7) * scale)
    assert c.rf_pj == pytest.approx(macs * (3.7 + 3.7 + 7.4) * scale)
    assert c.cycles == macs / 4
    add = tiling_cost(SMALL, "add", hw, t)
    assert add.compute_pj == pytest.approx(macs * 0.9)
    assert add.dram_pj == pytest.approx(64 * 200 * scale)       # no input / weight traffic for adder layers
    assert add.gb_pj == pytest.approx((64 + 192) * 22.2 * scale)
    shift = tiling_cost(SMALL, "shift", hw, t)
    assert shift.dram_pj == pytest.approx((72 + 144 + 64) * 200 * 10 / 16)  # 10-bit words
    assert shift.cycles == pytest.approx(macs / 4 * 10 / 32)


def test_released_model_charges_depthwise_as_dense():
    dw = LayerShape(in_channels=1, out_channels=1, out_h=8, out_w=8, kernel_h=3, kernel_w=3, groups=16)
    dense = LayerShape(in_channels=16, out_channels=16, out_h=8, out_w=8, kernel_h=3, kernel_w=3)
    hw = HardwareConfig(energy_model="released")
    assert layer_cost(dw, "mult", hw).compute_pj == pytest.approx(layer_cost(dense, "mult", hw).compute_pj)
    assert layer_cost(dw, "mult", HardwareConfig()).compute_pj < layer_cost(dense, "mult", HardwareConfig()).compute_pj


def test_energy_model_is_checked():
    with pytest.raises(ValueError, match="energy_model"):
        HardwareConfig(energy_model="eyeriss")


def test_cli_energy_model_option(capsys):
    import json

    from repro.cost.cli import main

    assert main(["resnet18", "--json"]) == 0
    ours = json.loads(capsys.readouterr().out)
    assert main(["resnet18", "--json", "--energy-model", "released"]) == 0
    released = json.loads(capsys.readouterr().out)
    assert released["macs"] == ours["macs"]
    assert released["energy_mj"] != ours["energy_mj"]
    bound = ours["macs"] / 168 / 250e3  # ms: every one of the 168 PEs busy at 250 MHz
    assert bound * (1 - 1e-9) <= released["latency_ms"] <= 1.5 * bound  # MACs / PEs used, no bandwidth term
