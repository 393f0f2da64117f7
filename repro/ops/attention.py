"""Multi-head self-attention (Attn) for 1-D token sequences and 2-D feature maps.

ShiftAddNAS Sec. 3.1: the NLP blocks use standard multi-head self-attention on ``(B, T, D)``
tokens; the CV blocks use it on the ``H * W`` positions of a feature map, with a depthwise 3x3
convolution in place of the position encoding (added to the input). The weight math is the
functional :func:`multi_head_attention`, so supernets can call it with front slices of larger weights.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from repro.ops.checks import check_input, check_positive


def multi_head_attention(x: torch.Tensor, qkv_weight: torch.Tensor, qkv_bias: torch.Tensor | None,
                         proj_weight: torch.Tensor, proj_bias: torch.Tensor | None, heads: int,
                         attn_mask: torch.Tensor | None = None, is_causal: bool = False) -> torch.Tensor:
    """``softmax(Q K^T / sqrt(d_head)) V`` per head, then the output projection.

    ``x`` (B, T, D); ``qkv_weight`` (3 * E, D) stacks the Q, K, V projections to ``E = heads * d_head``;
    ``proj_weight`` (D_out, E). ``attn_mask`` is boolean (True = attend) or additive, broadcast to (B, heads, T, T).
    """
    b, t, _ = x.shape
    embed = qkv_weight.shape[0] // 3
    if qkv_weight.shape[0] % 3 or embed % heads:
        raise ValueError(f"qkv_weight rows ({qkv_weight.shape[0]}) must be 3 * E with E divisible by heads={heads}")
    q, k, v = F.linear(x, qkv_weight, qkv_bias).view(b, t, 3, heads, embed // heads).permute(2, 0, 3, 1, 4)
    y = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, is_causal=is_causal)
    return F.linear(y.transpose(1, 2).reshape(b, t, embed), proj_weight, proj_bias)


class MultiHeadSelfAttention(nn.Module):
    """Self-attention on ``(B, T, dim)`` tokens with ``heads`` heads of ``dim // heads`` channels."""

    def __init__(self, dim: int, heads: int, bias: bool = True):
        super().__init__()
        check_positive(dim=dim, heads=heads)
        if dim % heads:
            raise ValueError(f"dim={dim} must be divisible by heads={heads}")
        self.dim, self.heads = dim, heads
        self.qkv = nn.Linear(dim, 3 * dim, bias=bias)
        self.proj = nn.Linear(dim, dim, bias=bias)

    def forward(self, x: torch.Tensor, attn_mask: torch.Tensor | None = None, is_causal: bool = False) -> torch.Tensor:
        check_input(x, self.dim, "MultiHeadSelfAttention", ndim=3, dim=-1)
        return multi_head_attention(x, self.qkv.weight, self.qkv.bias, self.proj.weight, self.proj.bias,
                                    self.heads, attn_mask, is_causal)


class Attention2d(nn.Module):
    """Self-attention over the positions of a ``(B, dim, H, W)`` map; a depthwise 3x3 convolution
    (added to the input) replaces the position encoding."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.position = nn.Conv2d(dim, dim, 3, padding=1, groups=dim)
        self.attn = MultiHeadSelfAttention(dim, heads)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.attn.dim, "Attention2d", ndim=4)
        b, c, h, w = x.shape
        tokens = (x + self.position(x)).flatten(2).transpose(1, 2)  # (B, H*W, C)
        return self.attn(tokens).transpose(1, 2).reshape(b, c, h, w)
