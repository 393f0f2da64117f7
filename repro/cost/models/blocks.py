"""Shared blocks of the zoo models: op-typed conv / linear layers and multi-head self-attention."""
from __future__ import annotations

import torch
from torch import nn

from repro.cost.counting import OPS, Layer, register, weighted_layer


def _check_op(op: str) -> str:
    if op not in OPS:
        raise ValueError(f"unknown op {op!r}; valid ops: {OPS}")
    return op


class OpConv2d(nn.Conv2d):
    """A convolution counted as ``op`` MACs: ``"mult"`` (Conv), ``"add"`` (AdderNet), ``"shift"`` (DeepShift)."""

    def __init__(self, *args, op: str = "mult", **kwargs):
        super().__init__(*args, **kwargs)
        self.op = _check_op(op)


class OpLinear(nn.Linear):
    """A linear layer counted as ``op`` MACs."""

    def __init__(self, *args, op: str = "mult", **kwargs):
        super().__init__(*args, **kwargs)
        self.op = _check_op(op)


@register(OpConv2d, OpLinear)
def _op_layer(module: nn.Module, inputs: tuple, output: torch.Tensor) -> list[Layer]:
    return [Layer(weighted_layer(module, inputs, output), module.op)]


class Attention(nn.Module):
    """Multi-head attention (Vaswani et al. 2017): q/k/v/out projections and the two matmuls.

    ``heads x head_dim`` may differ from ``dim`` (AutoFormer: head_dim 64). With ``memory`` given it is
    encoder-decoder attention (keys and values from the memory). Token layout ``[batch, tokens, dim]``.
    """

    def __init__(self, dim: int, heads: int, head_dim: int | None = None, bias: bool = True):
        super().__init__()
        self.heads = heads
        self.head_dim = head_dim or dim // heads
        inner = heads * self.head_dim
        self.q = nn.Linear(dim, inner, bias=bias)
        self.k = nn.Linear(dim, inner, bias=bias)
        self.v = nn.Linear(dim, inner, bias=bias)
        self.out = nn.Linear(inner, dim, bias=bias)

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape
        return x.view(b, t, self.heads, self.head_dim).transpose(1, 2)

    def forward(self, x: torch.Tensor, memory: torch.Tensor | None = None) -> torch.Tensor:
        kv = x if memory is None else memory
        q, k, v = self._split(self.q(x)), self._split(self.k(kv)), self._split(self.v(kv))
        att = torch.softmax(q @ k.transpose(-2, -1) * self.head_dim ** -0.5, dim=-1)
        y = (att @ v).transpose(1, 2).reshape(x.shape[0], x.shape[1], -1)
        return self.out(y)


class Mlp(nn.Sequential):
    """The two-layer feed-forward block: dim -> hidden -> dim."""

    def __init__(self, dim: int, hidden: int):
        super().__init__(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))
