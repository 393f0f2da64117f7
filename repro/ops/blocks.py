"""The ShiftAddNAS blocks: local branches Conv / Shift / Add and the multi-branch Attn+X blocks.

ShiftAddNAS Sec. 3.1, Table 1: encoder blocks Attn, Attn+Conv, Attn+Shift, Attn+Add, Conv, Shift,
Add. A multi-branch block (Lite Transformer's long-short range attention) splits the channels in
two halves, runs attention on the first and a local branch on the second, and concatenates.

Local branches: on 2-D maps ``(B, C, H, W)`` a ``k x k`` convolution, shift convolution or adder
convolution; on 1-D tokens ``(B, T, C)`` the same three over a window of ``k`` tokens in time
(a linear map of the ``k * C`` window, causal in a decoder). A BatchNorm follows every local
operator (AdderNet needs one after each adder layer). Residual connections and layer norms belong
to the network that stacks the blocks.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from repro.ops.adder import Adder2d, AdderLinear
from repro.ops.attention import Attention2d, MultiHeadSelfAttention
from repro.ops.checks import check_choice, check_input, check_positive
from repro.ops.shift import ShiftConv2d, ShiftLinear

LOCAL_OPS = ("conv", "shift", "add")
BLOCK_TYPES = ("Attn", "Attn+Conv", "Attn+Shift", "Attn+Add", "Conv", "Shift", "Add")


def time_windows(x: torch.Tensor, kernel_size: int, causal: bool = False) -> torch.Tensor:
    """``(B, T, C)`` -> ``(B, T, kernel_size * C)``: the window of tokens around (or, causal, ending at) each step."""
    left = kernel_size - 1 if causal else kernel_size // 2
    padded = F.pad(x.transpose(1, 2), (left, kernel_size - 1 - left))  # (B, C, T + k - 1)
    windows = padded.unfold(2, kernel_size, 1)  # (B, C, T, k)
    return windows.permute(0, 2, 3, 1).reshape(x.shape[0], x.shape[1], kernel_size * x.shape[2])


class LocalBranch(nn.Module):
    """A Conv / Shift / Add operator followed by a BatchNorm, on 2-D maps (``dims=2``) or 1-D tokens (``dims=1``).
    On maps ``out_channels`` (default ``channels``) may differ from the input's (a bottleneck's 1x1 layers)."""

    def __init__(self, op: str, channels: int, kernel_size: int = 3, dims: int = 2, causal: bool = False,
                 shift_mode: str = "q", out_channels: int | None = None):
        super().__init__()
        check_choice("local op", op, LOCAL_OPS)
        check_choice("dims", dims, (1, 2))
        out = channels if out_channels is None else out_channels
        check_positive(channels=channels, kernel_size=kernel_size, out_channels=out)
        self.op, self.channels, self.kernel_size, self.dims, self.causal = op, channels, kernel_size, dims, causal
        if dims == 2:
            if causal:
                raise ValueError("causal applies to 1-D token sequences only (dims=1)")
            pad = kernel_size // 2
            self.layer = {"conv": lambda: nn.Conv2d(channels, out, kernel_size, padding=pad, bias=False),
                          "shift": lambda: ShiftConv2d(channels, out, kernel_size, padding=pad, mode=shift_mode),
                          "add": lambda: Adder2d(channels, out, kernel_size, padding=pad)}[op]()
            self.norm = nn.BatchNorm2d(out)
        else:
            if out != channels:
                raise ValueError("out_channels applies to 2-D maps only (dims=2)")
            width = kernel_size * channels
            self.layer = {"conv": lambda: nn.Linear(width, channels, bias=False),
                          "shift": lambda: ShiftLinear(width, channels, bias=False, mode=shift_mode),
                          "add": lambda: AdderLinear(width, channels)}[op]()
            self.norm = nn.BatchNorm1d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.dims == 2:
            check_input(x, self.channels, f"LocalBranch({self.op!r}, dims=2)", ndim=4)
            return self.norm(self.layer(x))
        check_input(x, self.channels, f"LocalBranch({self.op!r}, dims=1)", ndim=3, dim=-1)
        y = self.layer(time_windows(x, self.kernel_size, self.causal))
        return self.norm(y.transpose(1, 2)).transpose(1, 2)


def _attention(dim: int, heads: int, dims: int) -> nn.Module:
    return MultiHeadSelfAttention(dim, heads) if dims == 1 else Attention2d(dim, heads)


class MultiBranchBlock(nn.Module):
    """Attn+Conv / Attn+Shift / Attn+Add: attention on the first ``dim // 2`` channels, the local
    branch on the rest, outputs concatenated (channels last for ``dims=1``, first for ``dims=2``)."""

    def __init__(self, local: str, dim: int, heads: int, dims: int = 2, kernel_size: int = 3,
                 causal: bool = False, shift_mode: str = "q"):
        super().__init__()
        check_positive(dim=dim)
        if dim < 2:
            raise ValueError(f"a multi-branch block needs dim >= 2 to split, got {dim}")
        self.dim, self.dims, self.causal = dim, dims, causal
        self.split = dim // 2
        self.local = LocalBranch(local, dim - self.split, kernel_size, dims, causal, shift_mode)
        self.attn = _attention(self.split, heads, dims)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        axis = -1 if self.dims == 1 else 1
        check_input(x, self.dim, "MultiBranchBlock", ndim=self.dims + 2, dim=axis)
        a, b = x.split([self.split, self.dim - self.split], dim=axis)
        attended = self.attn(a, is_causal=self.causal) if self.dims == 1 else self.attn(a)
        return torch.cat([attended, self.local(b)], dim=axis)


def make_block(block_type: str, dim: int, heads: int, dims: int = 2, kernel_size: int = 3,
               causal: bool = False, shift_mode: str = "q") -> nn.Module:
    """One block of :data:`BLOCK_TYPES` mapping ``dim`` channels to ``dim`` channels."""
    check_choice("block type", block_type, BLOCK_TYPES)
    check_choice("dims", dims, (1, 2))
    if block_type == "Attn":
        return _attention(dim, heads, dims)
    if block_type.startswith("Attn+"):
        return MultiBranchBlock(block_type[5:].lower(), dim, heads, dims, kernel_size, causal, shift_mode)
    return LocalBranch(block_type.lower(), dim, kernel_size, dims, causal, shift_mode)
