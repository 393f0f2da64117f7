"""Operation counting: hand-computed single layers, FlopCounterMode, the op split of Add / Shift layers."""
from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from repro.cost.counting import Layer, LayerShape, count, register, split
from repro.cost.models.blocks import Attention, OpConv2d


def test_conv_hand_computed():
    c = count(nn.Conv2d(3, 8, 3, stride=2, padding=1), (1, 3, 32, 32))
    assert c.macs == 8 * 16 * 16 * 3 * 3 * 3          # C_out x H x W x C_in x k x k
    assert (c.mult, c.add, c.shift) == (c.macs, c.macs, 0)
    assert c.params == 3 * 8 * 9 + 8
    assert c.flops == 2 * c.macs


def test_grouped_conv_and_linear_hand_computed():
    assert count(nn.Conv2d(8, 8, 3, padding=1, groups=4), (1, 8, 16, 16)).macs == 8 * 256 * 2 * 9
    assert count(nn.Linear(64, 32), (1, 10, 64)).macs == 10 * 64 * 32


def test_attention_matmuls_are_multiplications():
    c = count(Attention(64, 4), (1, 10, 64))
    projections = 4 * 10 * 64 * 64
    matmuls = 2 * 10 * 10 * 64                           # Q K^T and A V over all heads
    assert c.macs == projections + matmuls
    assert c.mult == c.macs and c.shift == 0
    assert set(c.layers.type) == {"Linear", "aten.bmm"}


def test_standard_layers_match_flop_counter():
    model = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 16, 3, stride=2, groups=4),
                          nn.Flatten(), nn.Linear(16 * 7 * 7, 10))
    mha = nn.MultiheadAttention(32, 4, batch_first=True)
    x, t = torch.randn(1, 3, 16, 16), torch.randn(1, 12, 32)
    with FlopCounterMode(display=False) as fc:
        model(x)
    assert 2 * count(model, x).macs == fc.get_total_flops()

    class SelfAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.mha = mha

        def forward(self, x):
            return self.mha(x, x, x, need_weights=False)[0]

    with FlopCounterMode(display=False) as fc:
        SelfAttention()(t)
    assert 2 * count(SelfAttention(), t).macs == fc.get_total_flops()


def test_op_split_convention():
    assert split("mult", 5) == {"mult": 5, "add": 5, "shift": 0}
    assert split("add", 5) == {"mult": 0, "add": 10, "shift": 0}
    assert split("shift", 5) == {"mult": 0, "add": 5, "shift": 5}
    with pytest.raises(ValueError, match="valid ops"):
        split("xor", 1)


def test_repro_ops_layers_hand_computed():
    ops = pytest.importorskip("repro.ops.adder")
    shift = pytest.importorskip("repro.ops.shift")
    x = torch.randn(1, 4, 8, 8)
    macs = 6 * 8 * 8 * 4 * 9
    a = count(ops.Adder2d(4, 6, 3, padding=1), x)
    assert (a.macs, a.mult, a.add, a.shift) == (macs, 0, 2 * macs, 0)
    s = count(shift.ShiftConv2d(4, 6, 3, padding=1), x)
    assert (s.macs, s.mult, s.add, s.shift) == (macs, 0, macs, macs)
    t = torch.randn(1, 5, 16)
    assert count(ops.AdderLinear(16, 8), t).add == 2 * 5 * 16 * 8
    sl = count(shift.ShiftLinear(16, 8), t)
    assert (sl.shift, sl.add, sl.mult) == (5 * 16 * 8, 5 * 16 * 8, 0)
    ps = count(shift.ShiftConv2d(4, 6, 3, padding=1, mode="ps"), x)   # (shift, sign) pair = one weight
    assert ps.params == 6 * 4 * 9 and ps.shift == macs


def test_all_adder_and_all_shift_networks():
    def net(op):
        return nn.Sequential(OpConv2d(3, 8, 3, padding=1, op=op), nn.ReLU(), OpConv2d(8, 8, 3, stride=2, op=op))
    macs = 8 * 32 * 32 * 3 * 9 + 8 * 15 * 15 * 8 * 9
    adder = count(net("add"), (1, 3, 32, 32))
    assert (adder.macs, adder.mult, adder.add, adder.shift) == (macs, 0, 2 * macs, 0)
    shift = count(net("shift"), (1, 3, 32, 32))
    assert (shift.macs, shift.mult, shift.add, shift.shift) == (macs, 0, macs, macs)


def test_registered_module_replaces_its_children_and_exclude():
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = nn.Linear(4, 4)

        def forward(self, x):
            return self.inner(x)

    @register(Block)
    def _block(module, inputs, output):
        return [Layer(LayerShape(4, 4, out_h=3), "shift")]

    model = nn.Sequential(Block(), nn.Linear(4, 2))
    c = count(model, (1, 3, 4))
    assert c.shift == 48 and c.mult == 3 * 4 * 2
    c = count(model, (1, 3, 4), exclude=("1",))
    assert c.mult == 0 and c.params == 4 * 4 + 4


def test_effective_flops():
    c = count(nn.Linear(32, 32), (1, 32))
    assert c.effective_flops(8) == c.flops / 16
    assert c.effective_flops(32) == c.flops


class _Call(nn.Module):
    """Runs ``layer`` with fixed extra arguments (the supernets pass widths or the op at call time)."""

    def __init__(self, layer: nn.Module, *args, **kwargs):
        super().__init__()
        self.layer, self.args, self.kwargs = layer, args, kwargs

    def forward(self, x):
        return self.layer(x, *self.args, **self.kwargs)


@pytest.mark.parametrize("view, split_", [("conv", (1, 1, 0)), ("add", (0, 2, 0)), ("shift", (0, 1, 1))])
def test_shared_conv2d_is_counted_by_its_active_view(view, split_):
    from repro.ops.weight_sharing import SharedConv2d

    layer = SharedConv2d(4, 6, 3, padding=1).set_op(view)
    macs = 6 * 8 * 8 * 4 * 9
    c = count(layer, torch.randn(1, 4, 8, 8))
    assert c.macs == macs and (c.mult, c.add, c.shift) == tuple(k * macs for k in split_)
    assert list(c.layers.type) == ["SharedConv2d"]
    sliced = count(_Call(layer, 3, 2), torch.randn(1, 2, 8, 8))   # front slice: 3 out, 2 in channels
    assert sliced.macs == 3 * 8 * 8 * 2 * 9


@pytest.mark.parametrize("view, op", [("Conv", "mult"), ("Shift", "shift"), ("Add", "add")])
def test_local_mixer_is_counted_by_its_active_view(view, op):
    from repro.supernets.shiftaddnas_nlp import LocalMixer

    mixer = LocalMixer(8, 3, ("Conv", "Shift", "Add"), "heterogeneous", causal=True)
    c = count(_Call(mixer, view, None), torch.randn(2, 5, 4))      # width 4 of 8, 2 x 5 tokens
    assert mixer.op == view
    assert c.macs == 2 * 5 * 4 * 4 * 3 and set(c.layers.op) == {op}
    with pytest.raises(ValueError, match="valid choices"):
        mixer.set_op("Attn")


def test_cv_supernet_counted_directly_equals_its_exported_subnet():
    from repro.spaces.shiftaddnas_cv import CVSpaceDims, Stage
    from repro.supernets.shiftaddnas_cv import CVSupernet

    dims = CVSpaceDims(28, 1, 10, 2, tuple(Stage(r, 4, d) for r, d in zip((14, 7, 4, 2), ((1, 2),) * 4)), heads=2)
    net = CVSupernet(dims)
    config = {"stages": [[2], [3, 1], [0], [1, 2]]}          # Add, Shift and Conv layers and an Attn one
    net.set_active_subnet(config)
    shape = (1, 1, 28, 28)
    direct, standalone = count(net, shape), count(net.export(config), shape)
    assert direct.add > direct.mult and direct.shift > 0
    assert [(k, getattr(direct, k)) for k in ("macs", "mult", "add", "shift")] == \
           [(k, getattr(standalone, k)) for k in ("macs", "mult", "add", "shift")]


class Scale(nn.Module):
    """A parameterised module with no counting formula."""

    def __init__(self):
        super().__init__()
        self.gain = nn.Parameter(torch.ones(4))

    def forward(self, x):
        return x * self.gain


def test_parameterised_module_without_formula_warns_naming_its_type():
    from repro.cost.counting import UncountedModuleWarning

    class Pool(nn.Module):
        def __init__(self):
            super().__init__()
            self.weights = nn.ParameterDict({"w": nn.Parameter(torch.ones(4))})

        def forward(self, x):
            return (x - self.weights["w"]).abs()

    model = nn.Sequential(Scale(), Scale(), Pool(), nn.Linear(4, 2))
    with pytest.warns(UncountedModuleWarning) as record:
        c = count(model, (1, 4))
    messages = sorted(str(w.message) for w in record)
    assert len(messages) == 2 and messages[0].startswith("Pool") and messages[1].startswith("Scale")
    assert "2 module(s), e.g. '0'" in messages[1]
    assert c.macs == 4 * 2 and c.params == 4 + 4 + 4 + 4 * 2 + 2


def test_counted_or_excluded_modules_do_not_warn():
    import warnings

    model = nn.Sequential(nn.Embedding(10, 8), nn.LayerNorm(8), nn.Linear(8, 8))
    conv = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.GroupNorm(2, 4), nn.PReLU())
    mha = nn.MultiheadAttention(8, 2, batch_first=True)

    class Attend(nn.Module):
        def __init__(self):
            super().__init__()
            self.mha = mha

        def forward(self, x):
            return self.mha(x, x, x, need_weights=False)[0]

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert count(model, torch.zeros(1, 5, dtype=torch.long)).macs == 5 * 8 * 8
        count(conv, (1, 3, 8, 8))
        count(Attend(), (1, 5, 8))
        assert count(nn.Sequential(Scale(), nn.Linear(4, 2)), (1, 4), exclude=("0",)).macs == 8
