"""Add operators (AdderNet): the output is the negative L1 distance between input patches and filters.

ShiftAddNAS Sec. 3.1 uses AdderNet layers: ``Y(n, o, l) = -sum_k |X(n, k, l) - W(o, k)|`` over the
kernel window ``k`` of position ``l``. The backward pass is AdderNet's, not the true gradient:

* weight: the full-precision ``dY/dW = X - W`` (instead of ``sign(X - W)``), so
  ``grad_W = G^T X - W * colsum(G)``, a matrix product;
* input: ``dY/dX = HardTanh(W - X)`` (instead of ``sign(W - X)``), which needs the elementwise clamp;
* adaptive learning rate: ``grad_W <- eta * sqrt(numel(W)) / ||grad_W||_2 * grad_W`` per layer
  (``eta=None`` turns it off).

Memory stays bounded: no ``C_out x C_in k^2 x positions x batch`` difference tensor is ever formed. The
weight gradient is a matrix product; the native kernels below accumulate the distance and the input gradient
in registers; the PyTorch path uses ``torch.cdist(p=1)`` on the unfolded patches for the forward pass and
computes the input gradient in chunks of rows whose clamp tensor holds at most :data:`CHUNK_ELEMENTS`
numbers. A BatchNorm should follow every adder layer (AdderNet).

On the CPU two backends compute the forward distance and the HardTanh input gradient: ``"native"``, the C++
kernels of ``csrc/adder.cpp`` (register-blocked tiles of rows in the compiler's vector types,
``at::parallel_for`` over tiles, and an im2col / col2im pair that writes the patches straight into the row
layout), JIT-compiled with the machine's compiler and ``-march=native`` on first use into
``build/torch_extensions/`` (or ``$TORCH_EXTENSIONS_DIR``; one build folder per CPU model and flag set), and
``"torch"``, the pure-PyTorch path above, used when no compiler is available or the build fails.
:func:`backend` reports the choice; ``REPRO_ADDER_BACKEND=torch|native`` forces it. The weight gradient (a
GEMM) and the eta scaling are PyTorch on both.

On CUDA tensors the forward and the input gradient run as Triton kernels (:mod:`repro.ops.adder_triton`)
when Triton imports, else the PyTorch path; ``REPRO_ADDER_BACKEND=triton`` forces them, also on CPU
tensors under Triton's interpreter (``TRITON_INTERPRET=1``), as the tests run them.
"""
from __future__ import annotations

import functools
import os

import torch
import torch.nn.functional as F
from torch import nn

from repro.ops import native
from repro.ops.checks import check_conv_args, check_input, check_positive

CHUNK_ELEMENTS = 1 << 18  # numbers in one chunk of the input-gradient clamp tensor (1 MiB in float32, cache-sized)


BACKENDS = ("native", "torch", "triton")


def _native_module():
    """The compiled C++ kernel (:mod:`repro.ops.native`), or None (with a warning) when it cannot be built."""
    return native.load("adder")


@functools.lru_cache(maxsize=1)
def _triton_module():
    """:mod:`repro.ops.adder_triton`, or None when Triton does not import (a CPU-only install)."""
    try:
        from repro.ops import adder_triton
    except Exception:  # ImportError, or a Triton that cannot initialise here
        return None
    return adder_triton


def _forced() -> str | None:
    forced = os.environ.get("REPRO_ADDER_BACKEND")
    if forced is not None and forced not in BACKENDS:
        raise ValueError(f"REPRO_ADDER_BACKEND must be one of {BACKENDS}, got {forced!r}")
    return forced


def backend() -> str:
    """The CPU adder backend in use: ``"native"`` (C++ kernel) or ``"torch"`` (``"triton"`` when forced);
    ``REPRO_ADDER_BACKEND`` forces one."""
    forced = _forced()
    if forced in ("torch", "triton"):
        if forced == "triton" and _triton_module() is None:
            raise RuntimeError("REPRO_ADDER_BACKEND=triton but Triton does not import here")
        return forced
    if _native_module() is not None:
        return "native"
    if forced == "native":
        raise RuntimeError("REPRO_ADDER_BACKEND=native but the native adder kernel could not be built")
    return "torch"


def _use_native(*tensors: torch.Tensor) -> bool:
    return (all(t.device.type == "cpu" and t.dtype in (torch.float32, torch.float64) for t in tensors)
            and backend() == "native")


def _use_triton(*tensors: torch.Tensor) -> bool:
    """Triton kernels: by default on CUDA tensors when Triton imports; forced, on any tensors (CPU ones
    need Triton's interpreter, ``TRITON_INTERPRET=1`` set before Triton is imported)."""
    forced = _forced()
    if forced == "triton":
        backend()  # raises when Triton does not import
        if not all(t.is_cuda for t in tensors) and os.environ.get("TRITON_INTERPRET") != "1":
            raise RuntimeError("REPRO_ADDER_BACKEND=triton on CPU tensors needs TRITON_INTERPRET=1 "
                               "(set before Triton is imported); on a GPU pass CUDA tensors")
        return True
    return forced is None and all(t.is_cuda for t in tensors) and _triton_module() is not None


def _adaptive_scale(grad_w: torch.Tensor, eta: float | None) -> torch.Tensor:
    """AdderNet's adaptive learning rate: ``eta * sqrt(numel) / ||grad||_2 * grad`` (identity if ``eta`` is None)."""
    if eta is None:
        return grad_w
    return grad_w * (eta * grad_w.numel() ** 0.5 / grad_w.norm().clamp_min(1e-12))


def _check_eta(eta: float | None) -> None:
    if eta is not None and not (isinstance(eta, (int, float)) and eta > 0):
        raise ValueError(f"eta must be a positive number or None (no adaptive scaling), got {eta!r}")


class _AdderDistance(torch.autograd.Function):
    """``Y[g] = -cdist_L1(X[g], W[g])`` for groups ``g``: ``X`` (G, M, K), ``W`` (G, O, K) -> ``Y`` (G, M, O)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, w: torch.Tensor, eta: float | None) -> torch.Tensor:
        ctx.save_for_backward(x, w)
        ctx.eta = eta
        ctx.triton = _use_triton(x, w)
        if ctx.triton:
            return _triton_module().distance(x, w)
        if _use_native(x, w):
            return _native_module().forward(x, w)
        return -torch.cdist(x, w, p=1)

    @staticmethod
    def backward(ctx, g: torch.Tensor):
        x, w = ctx.saved_tensors
        g = g.contiguous()
        grad_x = grad_w = None
        if ctx.needs_input_grad[1]:
            # sum_m g[m, o] * (x[m, k] - w[o, k]) = (G^T X)[o, k] - w[o, k] * colsum(G)[o]
            grad_w = torch.bmm(g.transpose(1, 2), x) - w * g.sum(1).unsqueeze(-1)
            grad_w = _adaptive_scale(grad_w, ctx.eta)
        if ctx.needs_input_grad[0] and ctx.triton:
            grad_x = _triton_module().input_grad(g, x, w)
        elif ctx.needs_input_grad[0] and _use_native(x, w, g):
            grad_x = _native_module().grad_x(x, w, g)
        elif ctx.needs_input_grad[0]:
            grad_x = torch.empty_like(x)
            groups, rows, _ = x.shape
            step = min(rows, max(1, CHUNK_ELEMENTS // (groups * w.shape[1] * w.shape[2])))
            buffer = x.new_empty(groups, step, *w.shape[1:])  # (G, R, O, K), reused by every chunk
            for start in range(0, rows, step):
                xs, gs = x[:, start:start + step], g[:, start:start + step]
                clamp = buffer[:, :xs.shape[1]]
                torch.sub(w.unsqueeze(1), xs.unsqueeze(2), out=clamp).clamp_(-1.0, 1.0)
                grad_x[:, start:start + step] = torch.matmul(gs.unsqueeze(2), clamp).squeeze(2)
        return grad_x, grad_w, None


class _Im2Col(torch.autograd.Function):
    """Native im2col straight into the row layout ``(G, N * L, C / G * kh * kw)`` (``F.unfold``'s column order,
    one copy instead of unfold plus a transpose); its backward is the native col2im."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, window: tuple[int, int, int, int, int]) -> torch.Tensor:
        ctx.shape, ctx.window = list(x.shape), window
        return _native_module().im2col(x, *window)

    @staticmethod
    def backward(ctx, g: torch.Tensor):
        return _native_module().col2im(g, ctx.shape, *ctx.window), None


def adder_distance(x: torch.Tensor, weight: torch.Tensor, eta: float | None = 0.2) -> torch.Tensor:
    """The grouped adder kernel on rows: ``x`` (G, M, K), ``weight`` (G, O, K) -> (G, M, O) = ``-sum_k |x - w|``."""
    if x.dim() != 3 or weight.dim() != 3 or x.shape[0] != weight.shape[0] or x.shape[2] != weight.shape[2]:
        raise ValueError(f"adder_distance expects x (G, M, K) and weight (G, O, K), got {tuple(x.shape)} "
                         f"and {tuple(weight.shape)}")
    return _AdderDistance.apply(x, weight, eta)


def adder_conv2d(x: torch.Tensor, weight: torch.Tensor, stride: int = 1, padding: int = 0, groups: int = 1,
                 eta: float | None = 0.2) -> torch.Tensor:
    """AdderNet convolution: ``x`` (N, C, H, W), ``weight`` (O, C / groups, kh, kw) -> (N, O, H', W')."""
    if x.dim() != 4 or weight.dim() != 4:
        raise ValueError(f"adder_conv2d expects x (N, C, H, W) and weight (O, C/groups, kh, kw), got "
                         f"{tuple(x.shape)} and {tuple(weight.shape)}")
    check_positive(stride=stride, groups=groups)
    n, c, h, wd = x.shape
    out_ch, c_per_group, kh, kw = weight.shape
    if c != c_per_group * groups or out_ch % groups:
        raise ValueError(f"adder_conv2d: input has {c} channels but weight expects {c_per_group} x groups={groups}, "
                         f"and out_channels={out_ch} must be divisible by groups")
    h_out = (h + 2 * padding - kh) // stride + 1
    w_out = (wd + 2 * padding - kw) // stride + 1
    if h_out < 1 or w_out < 1:
        raise ValueError(f"adder_conv2d: input {h}x{wd} with padding {padding} is smaller than the kernel {kh}x{kw}")
    window = (kh, kw, stride, padding, groups)
    if _use_native(x):
        rows = _Im2Col.apply(x, window)
    else:
        cols = F.unfold(x, (kh, kw), padding=padding, stride=stride)  # (N, C*kh*kw, L)
        rows = cols.transpose(1, 2).reshape(n * h_out * w_out, groups, -1).transpose(0, 1).contiguous()
    y = adder_distance(rows, weight.reshape(groups, out_ch // groups, -1), eta)  # (G, N*L, O/G)
    return y.permute(1, 0, 2).reshape(n, h_out * w_out, out_ch).transpose(1, 2).reshape(n, out_ch, h_out, w_out)


def adder_linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None,
                 eta: float | None = 0.2) -> torch.Tensor:
    """The 1-D / token form: ``x`` (..., in), ``weight`` (out, in) -> (..., out) = ``-sum_i |x_i - w_oi|`` (+ bias)."""
    if weight.dim() != 2 or x.dim() == 0 or x.shape[-1] != weight.shape[1]:
        raise ValueError(f"adder_linear expects x (..., {weight.shape[-1] if weight.dim() else '?'}) and weight "
                         f"(out, in), got {tuple(x.shape)} and {tuple(weight.shape)}")
    y = adder_distance(x.reshape(1, -1, x.shape[-1]), weight.unsqueeze(0), eta)[0]
    y = y.reshape(*x.shape[:-1], weight.shape[0])
    return y if bias is None else y + bias


class Adder2d(nn.Module):
    """AdderNet 2-D layer (weights initialised from N(0, 1) as in AdderNet); follow it with a BatchNorm."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, padding: int = 0,
                 groups: int = 1, bias: bool = False, eta: float | None = 0.2):
        super().__init__()
        check_conv_args(in_channels, out_channels, kernel_size, stride, padding, 1, groups)
        _check_eta(eta)
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel_size
        self.stride, self.padding, self.groups, self.eta = stride, padding, groups, eta
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels // groups, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels, "Adder2d", ndim=4)
        y = adder_conv2d(x, self.weight, self.stride, self.padding, self.groups, self.eta)
        return y if self.bias is None else y + self.bias.view(1, -1, 1, 1)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, groups={self.groups}, eta={self.eta}")


class AdderLinear(nn.Module):
    """AdderNet linear layer on ``(..., in_features)`` inputs (the NLP blocks); follow it with a normalisation."""

    def __init__(self, in_features: int, out_features: int, bias: bool = False, eta: float | None = 0.2):
        super().__init__()
        check_positive(in_features=in_features, out_features=out_features)
        _check_eta(eta)
        self.in_features, self.out_features, self.eta = in_features, out_features, eta
        self.weight = nn.Parameter(torch.randn(out_features, in_features))
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_features, "AdderLinear", dim=-1)
        return adder_linear(x, self.weight, self.bias, self.eta)

    def extra_repr(self) -> str:
        return f"{self.in_features}, {self.out_features}, bias={self.bias is not None}, eta={self.eta}"
