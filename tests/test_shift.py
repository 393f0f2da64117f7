"""Shift operators (DeepShift-Q / -PS) against hand-computed values and a scalar reference."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from repro.ops.shift import (ShiftConv2d, ShiftLinear, effective_weight, fixed_point_round, ps_parameters,
                             ps_weight, round_to_power_of_two, shift_range, ternary_sign)


def _scalar_q(w: float, bits: int) -> float:
    """DeepShift-Q on one number, written with the math module."""
    if w == 0:
        return 0.0
    lo = -(2 ** (bits - 1) - 2)
    p = round(math.log2(min(max(abs(w), 2 ** -15), 1.0)))
    return math.copysign(2.0 ** min(max(p, lo), 0), w)


def _is_power_of_two_or_zero(w: torch.Tensor, bits: int) -> bool:
    lo, hi = shift_range(bits)
    mag = w.abs()[w != 0].double()
    p = torch.log2(mag)
    return bool(torch.all(p == p.round()) and torch.all((p >= lo) & (p <= hi)))


def test_shift_range_hand_values():
    assert shift_range(5) == (-14, 0)
    assert shift_range(4) == (-6, 0)
    assert shift_range(2) == (0, 0)


@pytest.mark.parametrize("bits", [2, 3, 5, 8])
def test_round_to_power_of_two_matches_scalar_reference(bits):
    torch.manual_seed(0)
    w = torch.cat([torch.randn(200) * 0.3, torch.tensor([0.0, 1e-9, -3.0, 0.75, -0.7, 2 ** -14])])
    q = round_to_power_of_two(w, bits)
    ref = torch.tensor([_scalar_q(v, bits) for v in w.tolist()])
    assert torch.equal(q, ref)
    assert _is_power_of_two_or_zero(q, bits)


def test_q_straight_through_gradient_is_identity():
    w = torch.randn(30, requires_grad=True)
    g = torch.randn(30)
    round_to_power_of_two(w).backward(g)
    assert torch.equal(w.grad, g)


def test_ternary_sign_eq7_boundaries():
    s = torch.tensor([-1.2, -0.5, -0.49, 0.0, 0.49, 0.5, 2.0])
    assert ternary_sign(s).tolist() == [-1, -1, 0, 0, 0, 1, 1]


def test_ps_weight_values_and_gradients():
    shift = torch.tensor([-2.4, -0.4, -20.0, 3.0], requires_grad=True)
    sign = torch.tensor([0.7, -0.8, 0.9, 0.2], requires_grad=True)
    w = ps_weight(shift, sign, 5)
    assert w.tolist() == [2 ** -2, -1.0, 2 ** -14, 0.0]
    w.sum().backward()
    assert torch.allclose(shift.grad, math.log(2) * w.detach())  # dW/dP = ln2 * W
    assert torch.equal(sign.grad, torch.ones(4))  # dW/dS = 1 (Eq. 9, DeepShift-PS)


def test_ps_parameters_reproduce_q_rounding():
    w = torch.randn(500) * 0.2
    assert torch.equal(ps_weight(*ps_parameters(w, 5), 5), round_to_power_of_two(w, 5))


def test_fixed_point_round_hand_values():
    x = torch.tensor([1.3, -1.3, 0.2, 5.0, -5.0])
    assert fixed_point_round(x, int_bits=2, frac_bits=1).tolist() == [1.5, -1.5, 0.0, 1.5, -2.0]
    y = torch.tensor([1 / 3])
    assert fixed_point_round(y).item() == round((1 / 3) * 2 ** 16) / 2 ** 16


@pytest.mark.parametrize("mode", ["q", "ps"])
@pytest.mark.parametrize("stride,padding,dilation,groups", [(1, 0, 1, 1), (2, 1, 1, 2), (1, 2, 2, 4)])
def test_shift_conv_is_conv_with_effective_weight(mode, stride, padding, dilation, groups):
    torch.manual_seed(1)
    layer = ShiftConv2d(4, 8, 3, stride, padding, dilation, groups, bias=True, mode=mode)
    x = torch.randn(2, 4, 9, 9)
    w = effective_weight(layer).detach()
    assert _is_power_of_two_or_zero(w, 5)
    assert torch.allclose(layer(x), F.conv2d(x, w, layer.bias, stride, padding, dilation, groups), atol=1e-6)


def test_shift_linear_fixed_point_and_training_step():
    torch.manual_seed(2)
    layer = ShiftLinear(6, 3, mode="ps", fixed_point=(16, 16))
    x = torch.randn(5, 6)
    w = effective_weight(layer).detach()
    ref = F.linear(fixed_point_round(x), w, fixed_point_round(layer.bias.detach()))
    assert torch.allclose(layer(x), ref)
    layer(x).pow(2).sum().backward()
    assert layer.shift.grad is not None and layer.sign.grad.abs().sum() > 0


@pytest.mark.parametrize("kwargs,match", [
    (dict(kernel_size=0), "kernel_size"),
    (dict(mode="x"), "valid choices: 'q', 'ps'"),
    (dict(weight_bits=1), "weight_bits"),
    (dict(groups=3), "groups"),
    (dict(fixed_point=(16,)), "fixed_point"),
])
def test_bad_arguments(kwargs, match):
    args = dict(in_channels=4, out_channels=8, kernel_size=3) | kwargs
    with pytest.raises(ValueError, match=match):
        ShiftConv2d(**args)


def test_bad_input_shape():
    with pytest.raises(ValueError, match="4-D"):
        ShiftConv2d(4, 8, 3)(torch.randn(4, 5, 5))
    with pytest.raises(ValueError, match="channels"):
        ShiftConv2d(4, 8, 3)(torch.randn(1, 3, 5, 5))
    with pytest.raises(ValueError, match="features"):
        ShiftLinear(4, 2)(torch.randn(3, 5))
    with pytest.raises(ValueError, match="same shape"):
        ps_weight(torch.zeros(3), torch.zeros(4))


def _uncached_weight(layer) -> torch.Tensor:
    """The forward-pass weight built from scratch with the plain autograd formulas (no cache)."""
    if layer.mode == "q":
        w = layer.weight
        return w + (torch.tensor([_scalar_q(v, layer.weight_bits) for v in w.detach().flatten().tolist()])
                    .view_as(w) - w).detach()
    p = layer.shift + (layer.shift.detach().clamp(*layer.p_range).round() - layer.shift).detach()
    return ternary_sign(layer.sign.detach()) * torch.exp2(p) + (layer.sign - layer.sign.detach())


@pytest.mark.parametrize("mode", ["q", "ps"])
def test_cached_weight_gradients_equal_uncached(mode):
    torch.manual_seed(0)
    layer = ShiftConv2d(3, 4, 3, padding=1, mode=mode)
    x, g = torch.randn(2, 3, 5, 5), torch.randn(2, 4, 5, 5)
    params = list(layer._sources())
    for _ in range(2):  # two calls inside one step share the cached quantisation
        layer(x).backward(g)
    cached = [p.grad.clone() for p in params]
    for p in params:
        p.grad = None
    for _ in range(2):
        F.conv2d(x, _uncached_weight(layer), padding=1).backward(g)
    for a, b in zip(cached, (p.grad for p in params)):
        assert torch.allclose(a, b, atol=1e-5)


@pytest.mark.parametrize("mode", ["q", "ps"])
def test_weight_cache_reused_within_step_and_invalidated_by_optimiser(mode):
    torch.manual_seed(0)
    layer = ShiftLinear(8, 6, mode=mode)
    first = layer._quantised()
    assert layer._quantised() is first  # no re-quantisation inside a step
    opt = torch.optim.SGD(layer.parameters(), lr=5.0)
    layer(torch.randn(4, 8)).pow(2).sum().backward()
    opt.step()
    after = layer._quantised()
    assert after is not first
    assert torch.equal(after, _uncached_weight(layer).detach())
    assert not torch.equal(after, first)
