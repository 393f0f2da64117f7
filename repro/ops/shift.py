"""Shift operators (DeepShift): weights restricted to ``s * 2^p`` with ``s`` in {-1, 0, +1}.

Bit-shift paper Sec. 2.1, Eqs. (1)-(2): ``W = flip(2^P, S)``; Sec. 4.1, Eqs. (6)-(7): ``P = round(P)``,
``S = sign(round(S))`` with the ternary ``sign``. Two training modes (DeepShift):

* ``"q"`` (DeepShift-Q): keep float weights, use ``sign(w) * 2^round(log2 |w|)`` in the forward pass
  (``|w|`` clamped to ``[2^-15, 1]``, ``p`` clamped to the range of ``weight_bits``), straight-through
  estimator (STE) in the backward pass.
* ``"ps"`` (DeepShift-PS): train the shift ``P`` (``.shift``) and the sign ``S`` (``.sign``) directly;
  ``P`` is rounded and ``S`` made ternary in the forward pass, both with an STE. DeepShift trains this
  mode with RAdam.

``weight_bits`` bits hold one code for the sign and ``2^(b-1) - 1`` shifts: ``p`` in
``[-(2^(b-1) - 2), 0]``, i.e. ``[-14, 0]`` at 5 bits. We take DeepShift's ``[-14, 0]`` rather than the
bit-shift paper's ``[-15, 0]`` because 16 shifts plus the zero/sign code do not fit 5 bits; the paper's range
needs one more code than it states.

The layers quantise their weights once per optimiser step: the quantised value is cached keyed on the
parameters' ``_version`` counters (bumped by every in-place optimiser update), and each call only attaches the
STE gradient to it (:class:`_CachedQ`, :class:`_CachedPS`). Optional fixed-point rounding of the input
activations and the bias to ``int_bits.frac_bits`` (16.16 in the bit-shift paper) mimics integer hardware.

The functional helpers work on any tensor, so supernets can call them on sliced weights.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from repro.ops.checks import check_choice, check_conv_args, check_input, check_positive

MODES = ("q", "ps")
MIN_MAGNITUDE = 2.0 ** -15  # DeepShift-Q clamps |w| to [2^-15, 1] before taking log2
KAIMING_A = math.sqrt(5)  # the Shift layers' Kaiming-uniform initialisation (PyTorch's default for convolutions)


def shift_range(weight_bits: int) -> tuple[int, int]:
    """The allowed shifts ``(p_min, p_max) = (-(2^(b-1) - 2), 0)``: ``(-14, 0)`` at 5 bits."""
    if isinstance(weight_bits, bool) or not isinstance(weight_bits, int) or weight_bits < 2:
        raise ValueError(f"weight_bits must be an integer >= 2 (one bit is the sign), got {weight_bits!r}")
    return -(2 ** (weight_bits - 1) - 2), 0


def straight_through(x: torch.Tensor, quantized: torch.Tensor) -> torch.Tensor:
    """``quantized`` in the forward pass, the identity's gradient with respect to ``x`` in the backward pass."""
    return x + (quantized - x).detach()


def ternary_sign(s: torch.Tensor) -> torch.Tensor:
    """Eq. (7): -1 for ``s <= -0.5``, +1 for ``s >= 0.5``, else 0 (no gradient; see :func:`ps_weight`)."""
    return (s >= 0.5).to(s.dtype) - (s <= -0.5).to(s.dtype)


def round_to_power_of_two(w: torch.Tensor, weight_bits: int = 5) -> torch.Tensor:
    """DeepShift-Q: ``sign(w) * 2^clamp(round(log2 |w|), p_min, 0)`` with an STE (exact zeros stay zero)."""
    return straight_through(w, _q_value(w, weight_bits))


def init_std(fan_in: int) -> float:
    """Standard deviation of the Shift layers' initial weights, Kaiming-uniform with ``a = sqrt(5)``:
    ``1 / sqrt(3 fan_in)`` (bound ``1 / sqrt(fan_in)``)."""
    check_positive(fan_in=fan_in)
    return nn.init.calculate_gain("leaky_relu", KAIMING_A) / math.sqrt(fan_in)


def clamp_shares(w: torch.Tensor, weight_bits: int = 5) -> dict[str, float]:
    """How much of ``w`` the power-of-two rounding saturates: the share that becomes ``+-2^p_max``
    (``"top level"``), and the shares of nonzero weights whose magnitude lies above ``2^p_max``
    (``"clipped above"``) or below ``2^p_min`` (``"clipped below"``), where the clamp cuts them."""
    lo, hi = shift_range(weight_bits)
    mag = w.detach().abs().reshape(-1)
    n = max(1, mag.numel())
    return {"top level": float((_q_value(w, weight_bits).abs().reshape(-1) == 2.0 ** hi).sum()) / n,
            "clipped above": float((mag > 2.0 ** hi).sum()) / n,
            "clipped below": float(((mag > 0) & (mag < 2.0 ** lo)).sum()) / n}


def ps_weight(shift: torch.Tensor, sign: torch.Tensor, weight_bits: int = 5) -> torch.Tensor:
    """DeepShift-PS, Eq. (6): ``flip(2^round(P), sign(round(S)))`` with STEs on both roundings.

    Gradients: ``dW/dP = ln 2 * W`` (through the rounded ``P``) and ``dW/dS = 1`` (bit-shift paper Eq. 9,
    as DeepShift-PS).
    """
    if shift.shape != sign.shape:
        raise ValueError(f"shift and sign must have the same shape, got {tuple(shift.shape)} and {tuple(sign.shape)}")
    return _CachedPS.apply(shift, sign, _ps_value(shift, sign, weight_bits))


def _ps_value(shift: torch.Tensor, sign: torch.Tensor, weight_bits: int) -> torch.Tensor:
    lo, hi = shift_range(weight_bits)
    return ternary_sign(sign.detach()) * torch.exp2(shift.detach().clamp(lo, hi).round())


def _q_value(w: torch.Tensor, weight_bits: int) -> torch.Tensor:
    lo, hi = shift_range(weight_bits)
    p = torch.log2(w.detach().abs().clamp(MIN_MAGNITUDE, 1.0)).round().clamp(lo, hi)
    return torch.sign(w.detach()) * torch.exp2(p)


class _CachedQ(torch.autograd.Function):
    """DeepShift-Q STE around an already quantised value ``q``: forward ``q``, ``dW/dw = 1``."""

    @staticmethod
    def forward(ctx, w, q):
        return q.clone()

    @staticmethod
    def backward(ctx, g):
        return g, None


class _CachedPS(torch.autograd.Function):
    """DeepShift-PS STE around an already quantised value ``q``: ``dW/dP = ln 2 * q``, ``dW/dS = 1`` (Eq. 9)."""

    @staticmethod
    def forward(ctx, shift, sign, q):
        ctx.save_for_backward(q)
        return q.clone()

    @staticmethod
    def backward(ctx, g):
        (q,) = ctx.saved_tensors
        return g * q * math.log(2.0), g, None


def ps_parameters(w: torch.Tensor, weight_bits: int = 5) -> tuple[torch.Tensor, torch.Tensor]:
    """Shift and sign parameters that reproduce the DeepShift-Q rounding of the float weights ``w``.

    ``P = clamp(log2 |w|)`` (unrounded, so training can move it), ``S = sign(w)`` (exactly 0 or +-1).
    """
    lo, hi = shift_range(weight_bits)
    w = w.detach()
    return torch.log2(w.abs().clamp(MIN_MAGNITUDE, 1.0)).clamp(lo, hi), torch.sign(w)


def fixed_point_round(x: torch.Tensor, int_bits: int = 16, frac_bits: int = 16) -> torch.Tensor:
    """Round to signed fixed point with ``int_bits`` integer and ``frac_bits`` fraction bits, STE.

    Values are clamped to ``[-2^(int_bits-1), 2^(int_bits-1) - 2^-frac_bits]`` and rounded to a
    multiple of ``2^-frac_bits`` (exact in float32 only while the total stays within 24 bits).
    """
    check_fixed_point((int_bits, frac_bits))
    delta = 2.0 ** -frac_bits
    bound = 2.0 ** (int_bits - 1)
    q = torch.round(x.detach().clamp(-bound, bound - delta) / delta) * delta
    return straight_through(x, q)


def check_fixed_point(fixed_point: tuple[int, int]) -> None:
    """Raise ``ValueError`` unless ``fixed_point`` is ``(int_bits >= 1, frac_bits >= 0)``."""
    ok = (isinstance(fixed_point, tuple) and len(fixed_point) == 2
          and all(isinstance(b, int) and not isinstance(b, bool) for b in fixed_point)
          and fixed_point[0] >= 1 and fixed_point[1] >= 0)
    if not ok:
        raise ValueError(f"fixed_point must be a tuple (int_bits >= 1, frac_bits >= 0), e.g. (16, 16); got {fixed_point!r}")


def _maybe_fixed(x: torch.Tensor | None, fixed_point: tuple[int, int] | None) -> torch.Tensor | None:
    return x if x is None or fixed_point is None else fixed_point_round(x, *fixed_point)


def shift_conv2d(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None, stride: int = 1,
                 padding: int = 0, dilation: int = 1, groups: int = 1,
                 fixed_point: tuple[int, int] | None = None) -> torch.Tensor:
    """A convolution with an already shift-quantized ``weight``; input and bias rounded to fixed point if asked."""
    return F.conv2d(_maybe_fixed(x, fixed_point), weight, _maybe_fixed(bias, fixed_point),
                    stride, padding, dilation, groups)


def shift_linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None,
                 fixed_point: tuple[int, int] | None = None) -> torch.Tensor:
    """A linear map with an already shift-quantized ``weight``; input and bias rounded to fixed point if asked."""
    return F.linear(_maybe_fixed(x, fixed_point), weight, _maybe_fixed(bias, fixed_point))


class _ShiftLayer(nn.Module):
    """Parameters shared by :class:`ShiftConv2d` and :class:`ShiftLinear`.

    Mode ``"q"`` holds ``.weight``; mode ``"ps"`` holds ``.shift`` (P) and ``.sign`` (S), initialised
    from the same Kaiming-uniform draw as a float layer through :func:`ps_parameters`.
    """

    def __init__(self, shape: tuple[int, ...], fan_in: int, bias: bool, mode: str, weight_bits: int,
                 fixed_point: tuple[int, int] | None):
        super().__init__()
        check_choice("mode", mode, MODES)
        self.p_range = shift_range(weight_bits)
        if fixed_point is not None:
            check_fixed_point(fixed_point)
        self.mode, self.weight_bits, self.fixed_point = mode, weight_bits, fixed_point
        w = torch.empty(shape)
        nn.init.kaiming_uniform_(w, a=KAIMING_A)
        if mode == "q":
            self.weight = nn.Parameter(w)
        else:
            p, s = ps_parameters(w, weight_bits)
            self.shift, self.sign = nn.Parameter(p), nn.Parameter(s)
        bound = 1.0 / math.sqrt(fan_in)
        self.bias = nn.Parameter(torch.empty(shape[0]).uniform_(-bound, bound)) if bias else None
        self._cache: tuple[tuple, torch.Tensor] | None = None

    def _sources(self) -> tuple[torch.Tensor, ...]:
        return (self.weight,) if self.mode == "q" else (self.shift, self.sign)

    def _quantised(self) -> torch.Tensor:
        """The quantised weight (no graph), recomputed only when a parameter changed since the last call."""
        key = tuple((t._version, t.data_ptr(), t.dtype, t.device) for t in self._sources())
        if self._cache is None or self._cache[0] != key:
            if self.mode == "q":
                q = _q_value(self.weight, self.weight_bits)
            else:
                with torch.no_grad():  # keep P inside its range, as DeepShift does, so it cannot drift away
                    self.shift.clamp_(*self.p_range)
                q = _ps_value(self.shift, self.sign, self.weight_bits)
            key = tuple((t._version, t.data_ptr(), t.dtype, t.device) for t in self._sources())
            self._cache = (key, q)
        return self._cache[1]

    def effective_weight(self) -> torch.Tensor:
        """The weight used in the forward pass: exactly 0 or +-2^p with p in :attr:`p_range` (with STE)."""
        q = self._quantised()
        if self.mode == "q":
            return _CachedQ.apply(self.weight, q)
        return _CachedPS.apply(self.shift, self.sign, q)


class ShiftConv2d(_ShiftLayer):
    """A 2-D convolution whose weights are powers of two (DeepShift-Q or -PS), with dilation and groups."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, padding: int = 0,
                 dilation: int = 1, groups: int = 1, bias: bool = False, mode: str = "q", weight_bits: int = 5,
                 fixed_point: tuple[int, int] | None = None):
        check_conv_args(in_channels, out_channels, kernel_size, stride, padding, dilation, groups)
        super().__init__((out_channels, in_channels // groups, kernel_size, kernel_size),
                         in_channels // groups * kernel_size ** 2, bias, mode, weight_bits, fixed_point)
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel_size
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels, "ShiftConv2d", ndim=4)
        return shift_conv2d(x, self.effective_weight(), self.bias, self.stride, self.padding, self.dilation,
                            self.groups, self.fixed_point)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, dilation={self.dilation}, groups={self.groups}, mode={self.mode!r}, "
                f"weight_bits={self.weight_bits}, fixed_point={self.fixed_point}")


class ShiftLinear(_ShiftLayer):
    """A linear layer whose weights are powers of two (DeepShift-Q or -PS); input ``(..., in_features)``."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, mode: str = "q",
                 weight_bits: int = 5, fixed_point: tuple[int, int] | None = None):
        check_positive(in_features=in_features, out_features=out_features)
        super().__init__((out_features, in_features), in_features, bias, mode, weight_bits, fixed_point)
        self.in_features, self.out_features = in_features, out_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_features, "ShiftLinear", dim=-1)
        return shift_linear(x, self.effective_weight(), self.bias, self.fixed_point)

    def extra_repr(self) -> str:
        return (f"{self.in_features}, {self.out_features}, bias={self.bias is not None}, mode={self.mode!r}, "
                f"weight_bits={self.weight_bits}, fixed_point={self.fixed_point}")


def effective_weight(layer: _ShiftLayer) -> torch.Tensor:
    """The layer's forward-pass weight: every entry exactly 0 or +-2^p with p in the layer's range."""
    if not isinstance(layer, _ShiftLayer):
        raise TypeError(f"effective_weight expects a ShiftConv2d or ShiftLinear, got {type(layer).__name__}")
    return layer.effective_weight()
