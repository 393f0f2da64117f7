"""An Eyeriss-like dataflow model: per-layer tiling, energy and latency (DESIGN.md section 5).

ShiftAddNAS reports energy and latency "measured on a SOTA accelerator Eyeriss (Chen et al., 2016)
clocked at 250MHz" (Sec. 4.1). This module is our own analytic version of such a model; every
assumption is a field of :class:`HardwareConfig`.

A layer is a grouped convolution (:class:`repro.cost.counting.LayerShape`; FC and matmul as 1x1
convolutions). A *tiling* is ``(pm, pe, tm, tc, te)``:

* spatially, the PE array computes ``pm`` output channels x ``pe`` output rows at once, one PE per
  (channel, row) pair, each sliding its filter along the row (row-stationary style: a weight stays in
  the PE's register file for the whole output row of F values);
* the global buffer (GB) holds a tile of ``tm`` output channels x ``tc`` input channels x ``te`` output
  rows (inputs with their halo, weights, partial sums), which must fit in ``gb_words`` 16-bit words;
* the DRAM loop is ``for m-tile: for e-tile: for c-tile`` (input channels innermost, so partial sums
  stay in the GB), and inside a GB tile ``for m in tm/pm: for e in te/pe``.

Accesses, per group (each group is one independent layer):

* DRAM: weights ``W x n_e``, inputs ``I x n_m`` (every input row a tile needs, halo included), outputs
  ``O`` once; ``n_x = ceil(X / tx)``;
* GB: the DRAM words written into it, plus inputs read ``ceil(tm/pm)`` times per tile, weights read
  ``ceil(te/pe)`` times per tile, partial sums ``O x (2 n_c - 1)`` (read and written per c-tile);
* array (PE-to-PE network): inputs multicast to ``pm`` PEs, weights to ``pe`` PEs, partial sums once;
* RF: ``rf_accesses_per_mac`` per MAC (weight, input, partial-sum read and write).

Energy = MACs x unit MAC energy (:func:`repro.cost.unit_energy.mac_energy`) + accesses x level
energy per 16-bit word x bits/16. Cycles = max(compute cycles of the padded tiles, DRAM words x bits /
DRAM bandwidth) (transfers double-buffered). Latency = cycles / clock. Among the tilings that fit,
the one with the least ``energy / min energy + cycles / min cycles`` is chosen.

Sources of the parameters (each field of :class:`HardwareConfig` names its own):

* Eyeriss (Chen et al., ISCA 2016, Fig. 8 / Table; JSSC 2017): a 12 x 14 = 168-PE array, the
  row-stationary dataflow, and the normalised energy per access of each level relative to one MAC:
  RF 1x, PE array (inter-PE) 2x, global buffer 6x, DRAM 200x;
* the released ShiftAddNAS code (``CV/retraining_hybrid/hw_utils.py``, read for facts): the absolute
  scale, 3.7 pJ per 16-bit RF access (so array 7.4, buffer 22.2) and 200 pJ per 16-bit DRAM word, the
  65,536-word buffer and the 250 MHz clock (also ShiftAddNAS Sec. 4.1);
* our assumptions: ``rf_accesses_per_mac = 4`` (weight, input, partial-sum read and write), the DRAM
  bandwidth of 64 bits per cycle, the tiling search and the scoring of tilings, the unit MAC energy
  (a MAC is a multiply *and* an accumulate, :func:`repro.cost.unit_energy.mac_energy`).

``energy_model="released"`` (``python -m repro cost MODEL --energy-model released``) charges our
tilings' access counts as the released code does (its facts, as read from ``hw_utils.py`` and
``cal_energy.py``; no code copied): compute = MACs x one op energy (:data:`RELEASED_OP_PJ`, the
accumulate not charged); per 16-bit word x bits/16: DRAM 200, buffer 22.2, array 7.4 (partial sums
3.7), RF 3.7 (weights 7.4); adder layers are charged no DRAM, buffer or array traffic for inputs and
weights; shift layers use 10-bit words and their latency is scaled by 10/32; weights bypass the
buffer; depthwise convolutions are charged as dense; latency = MACs / PEs used at the clock, no
bandwidth term. Our reading where the facts are silent: one input, one weight and one partial-sum RF
access per MAC (:data:`RELEASED_RF_ACCESSES`); the released loop nests' own access counts are not
reproduced (our tilings' are used).
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace
from functools import lru_cache

import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm.auto import tqdm

from repro.cost import unit_energy
from repro.cost.counting import Layer, LayerShape, OPS, count

BITS = (8, 32)
ENERGY_MODELS = ("ours", "released")
#: Released code: energy of the one op a MAC is charged (pJ) by precision; the accumulate is not charged.
RELEASED_OP_PJ = {32: {"mult": 3.7, "add": 0.9, "shift": 0.13}, 8: {"mult": 0.2, "add": 0.03, "shift": 0.024}}
#: Released code: pJ per 16-bit word of a partial sum on the array and of a weight in the RF.
RELEASED_PSUM_ARRAY_PJ, RELEASED_RF_WEIGHT_PJ = 3.7, 7.4
#: Released code: word width (bits) of shift layers, and their latency scale 10 / 32.
RELEASED_SHIFT_BITS = 10
#: Our reading of the released model: RF accesses per MAC (input, weight, partial sum).
RELEASED_RF_ACCESSES = {"input": 1, "weight": 1, "psum": 1}


@dataclass(frozen=True)
class HardwareConfig:
    """All assumptions of the dataflow model. Energies are pJ per 16-bit word (scaled by bits/16)."""
    pe_rows: int = 12                 # Eyeriss (Chen et al., ISCA 2016): 12 x 14 PEs
    pe_cols: int = 14                 # 12 x 14 = 168 PEs (Eyeriss; the released code's result CSVs use 14 x 12)
    gb_words: int = 65536             # global buffer, 16-bit words (released code; Eyeriss has 108 KB)
    rf_pj: float = 1 * 3.7            # RF 1x (Eyeriss ISCA 2016), 3.7 pJ per 16-bit word (released code)
    array_pj: float = 2 * 3.7         # inter-PE 2x (Eyeriss ISCA 2016)
    gb_pj: float = 6 * 3.7            # global buffer 6x (Eyeriss ISCA 2016)
    dram_pj: float = 200.0            # DRAM 200 pJ per 16-bit word (released code; Eyeriss: 200x a MAC)
    rf_accesses_per_mac: int = 4      # our assumption (not in any source): weight, input, psum read + write
    dram_bits_per_cycle: int = 64     # our assumption
    clock_mhz: float = 250.0          # ShiftAddNAS Sec. 4.1 (Eyeriss JSSC 2017 runs at 200 MHz)
    bits: int = 32
    number_format: str = "FIX"        # unit energies: FIX (fixed point) or FP
    energy_model: str = "ours"        # ours | released (the released code's charging rules, module docstring)

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, (int, float)) and not isinstance(v, bool) and v <= 0:
                raise ValueError(f"HardwareConfig.{f.name} must be > 0, got {v!r}")
        if self.bits not in BITS:
            raise ValueError(f"HardwareConfig.bits must be one of {BITS}, got {self.bits!r}")
        if self.energy_model not in ENERGY_MODELS:
            raise ValueError(f"HardwareConfig.energy_model must be one of {ENERGY_MODELS}, got {self.energy_model!r}")
        if self.number_format not in unit_energy.FORMATS:
            raise ValueError(f"HardwareConfig.number_format must be one of {unit_energy.FORMATS}, "
                             f"got {self.number_format!r}")

    @property
    def pes(self) -> int:
        return self.pe_rows * self.pe_cols

    @property
    def word_scale(self) -> float:
        return self.bits / 16


@dataclass(frozen=True)
class Tiling:
    """Spatial (pm x pe PEs) and global-buffer (tm x tc x te) tile sizes of one layer."""
    pm: int
    pe: int
    tm: int
    tc: int
    te: int


@dataclass(frozen=True)
class LayerCost:
    """Cost of one layer under one tiling: energy split by component (pJ), cycles, accesses (words)."""
    tiling: Tiling
    compute_pj: float
    rf_pj: float
    array_pj: float
    gb_pj: float
    dram_pj: float
    cycles: float
    accesses: dict

    @property
    def energy_pj(self) -> float:
        return self.compute_pj + self.rf_pj + self.array_pj + self.gb_pj + self.dram_pj


def _ceil(a, b):
    return -(-a // b)


def _evaluate(s: LayerShape, op: str, hw: HardwareConfig, pm, pe, tm, tc, te) -> dict:
    """Vectorised cost of tilings (numpy arrays of equal shape) for one group of the layer."""
    M, C, E, F, R, S, st = s.out_channels, s.in_channels, s.out_h, s.out_w, s.kernel_h, s.kernel_w, s.stride
    w_in = (F - 1) * st + S
    n_m, n_c, n_e = _ceil(M, tm), _ceil(C, tc), _ceil(E, te)
    rows_tile = (te - 1) * st + R
    weights, outputs = M * C * R * S, M * E * F
    h_in = (E - 1) * st + R
    inputs = C * w_in * np.minimum(n_e * rows_tile, h_in + (n_e - 1) * max(R - st, 0))
    dram = weights * n_e + inputs * n_m + outputs
    gb_inputs = inputs * n_m * _ceil(tm, pm)
    gb_weights = weights * n_e * _ceil(te, pe)
    psums = outputs * (2 * n_c - 1)
    gb = dram + gb_inputs + gb_weights + psums
    array = gb_inputs * pm + gb_weights * pe + psums
    macs = s.macs // s.groups
    rf = hw.rf_accesses_per_mac * macs
    compute_cycles = n_m * n_e * n_c * _ceil(tm, pm) * _ceil(te, pe) * tc * R * S * F
    fits = (tc * rows_tile * w_in + tm * tc * R * S + tm * te * F) * hw.word_scale <= hw.gb_words
    if hw.energy_model == "released":
        return _released(op, hw, macs, inputs * n_m, weights * n_e, outputs, gb_inputs, gb_weights, psums,
                         pm, pe, fits)
    dram_cycles = dram * hw.bits / hw.dram_bits_per_cycle
    scale = hw.word_scale
    return {"compute_pj": macs * unit_energy.mac_energy(op, hw.bits, hw.number_format),
            "rf_pj": rf * hw.rf_pj * scale, "array_pj": array * hw.array_pj * scale,
            "gb_pj": gb * hw.gb_pj * scale, "dram_pj": dram * hw.dram_pj * scale,
            "cycles": np.maximum(compute_cycles, dram_cycles),
            "accesses": {"dram": dram, "gb": gb, "array": array, "rf": rf}, "fits": fits}


def _released(op: str, hw: HardwareConfig, macs: int, dram_in, dram_w, outputs, gb_in, gb_w, psums, pm, pe,
              fits) -> dict:
    """The released code's charging rules (module docstring) on our tiling's access counts."""
    word_bits = RELEASED_SHIFT_BITS if op == "shift" else hw.bits
    scale = word_bits / 16
    if op == "add":  # no input / weight traffic charged above the RF
        dram_in, dram_w, gb_in, gb_w = (0 * np.asarray(x) for x in (dram_in, dram_w, gb_in, gb_w))
    dram = dram_in + dram_w + outputs
    gb = dram_in + outputs + gb_in + psums  # weights bypass the buffer
    array_words = gb_in * pm + gb_w * pe
    rf = {k: n * macs for k, n in RELEASED_RF_ACCESSES.items()}
    rf_pj = (rf["input"] + rf["psum"]) * hw.rf_pj + rf["weight"] * RELEASED_RF_WEIGHT_PJ
    cycles = macs / (pm * pe) * (RELEASED_SHIFT_BITS / 32 if op == "shift" else 1.0)
    return {"compute_pj": macs * RELEASED_OP_PJ[hw.bits][op] * np.ones_like(cycles),
            "rf_pj": rf_pj * scale * np.ones_like(cycles),
            "array_pj": (array_words * hw.array_pj + psums * RELEASED_PSUM_ARRAY_PJ) * scale,
            "gb_pj": gb * hw.gb_pj * scale, "dram_pj": dram * hw.dram_pj * scale, "cycles": cycles,
            "accesses": {"dram": dram, "gb": gb, "array": array_words + psums, "rf": sum(rf.values())},
            "fits": fits}


def candidates(s: LayerShape, hw: HardwareConfig) -> dict[str, np.ndarray]:
    """Every tiling the search considers, as arrays ``pm, pe, tm, tc, te``: each pm, the pe that fills
    the array, and power-of-two multiples of them (and of 1 for tc) as global-buffer tiles."""
    M, C, E = s.out_channels, s.in_channels, s.out_h
    pm = np.arange(1, min(M, hw.pes) + 1)
    pe = np.maximum(1, np.minimum(E, hw.pes // pm))
    k = 2 ** np.arange(int(np.ceil(np.log2(max(M, E, C)))) + 1)
    tm, te, tc = pm[:, None] * k[None, :], pe[:, None] * k[None, :], np.minimum(k, C)
    # keep each power-of-two multiple up to the first that covers the dimension
    ok_m = (tm < M) | (np.concatenate([np.full((len(pm), 1), -1), tm[:, :-1]], 1) < M)
    ok_e = (te < E) | (np.concatenate([np.full((len(pm), 1), -1), te[:, :-1]], 1) < E)
    ok_c = (k < C) | (np.concatenate([[0], k[:-1]]) < C)
    i, a, b, c = np.nonzero(ok_m[:, :, None, None] & ok_e[:, None, :, None] & ok_c[None, None, None, :])
    return {"pm": pm[i], "pe": pe[i], "tm": tm[i, a], "tc": tc[c], "te": te[i, b]}


def tiling_cost(s: LayerShape, op: str, hw: HardwareConfig, t: Tiling) -> LayerCost:
    """The cost of the whole layer (all groups) under one tiling."""
    r = _evaluate(s, op, hw, t.pm, t.pe, t.tm, t.tc, t.te)
    g = s.groups
    return LayerCost(t, *(float(r[k]) * g for k in ("compute_pj", "rf_pj", "array_pj", "gb_pj", "dram_pj",
                                                     "cycles")),
                     accesses={k: float(v) * g for k, v in r["accesses"].items()})


@lru_cache(maxsize=4096)
def layer_cost(s: LayerShape, op: str, hw: HardwareConfig = HardwareConfig()) -> LayerCost:
    """The best tiling of a layer by normalised energy + latency, and its cost."""
    if op not in OPS:
        raise ValueError(f"unknown op {op!r}; valid ops: {OPS}")
    if hw.energy_model == "released" and s.groups > 1 and s.in_channels == s.out_channels == 1:
        s = replace(s, in_channels=s.groups, out_channels=s.groups, groups=1)  # depthwise charged as dense
    arr = candidates(s, hw)
    r = _evaluate(s, op, hw, **arr)
    fits = r["fits"]
    if not fits.any():
        raise ValueError(f"no tiling of {s} fits a global buffer of {hw.gb_words} words at {hw.bits} bits")
    energy = r["compute_pj"] + r["rf_pj"] + r["array_pj"] + r["gb_pj"] + r["dram_pj"]
    cycles = r["cycles"]
    score = np.where(fits, energy / energy[fits].min() + cycles / cycles[fits].min(), np.inf)
    best = int(np.argmin(score))
    return tiling_cost(s, op, hw, Tiling(**{k: int(v[best]) for k, v in arr.items()}))


@dataclass
class NetworkCost:
    """Whole-network energy (mJ) and latency (ms), and one row per layer."""
    energy_mj: float
    latency_ms: float
    per_layer: pd.DataFrame


def layers_cost(layers: list[Layer], hw: HardwareConfig = HardwareConfig(), names: list[str] | None = None,
                progress: bool = False) -> NetworkCost:
    """Cost of a list of layers run one after the other."""
    rows = []
    for i, layer in enumerate(tqdm(layers, desc="dataflow model", unit="layer", disable=not progress)):
        c = layer_cost(layer.shape, layer.op, hw)
        rows.append({"name": names[i] if names else str(i), "op": layer.op, "macs": layer.shape.macs,
                     "energy_mj": c.energy_pj * 1e-9, "compute_mj": c.compute_pj * 1e-9,
                     "rf_mj": c.rf_pj * 1e-9, "array_mj": c.array_pj * 1e-9, "gb_mj": c.gb_pj * 1e-9,
                     "dram_mj": c.dram_pj * 1e-9, "cycles": c.cycles,
                     "latency_ms": c.cycles / (hw.clock_mhz * 1e3), **vars(c.tiling)})
    df = pd.DataFrame(rows)
    return NetworkCost(float(df.energy_mj.sum()) if rows else 0.0,
                       float(df.latency_ms.sum()) if rows else 0.0, df)


def network_cost(model: nn.Module, example: torch.Tensor | tuple, bits: int = 32,
                 hw: HardwareConfig | None = None, exclude: tuple[str, ...] = ()) -> NetworkCost:
    """Energy and latency of one forward pass of ``model`` on ``example`` (a tensor or a shape)."""
    hw = replace(hw or HardwareConfig(), bits=bits)
    counts = count(model, example, exclude=exclude)
    return layers_cost(counts.shapes(), hw, names=list(counts.layers["name"]))
