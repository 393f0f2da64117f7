"""Vision Transformers: ViT (Dosovitskiy et al. 2021), DeiT (Touvron et al. 2021) and AutoFormer's
searched subnets (Chen et al. 2021b), which have a per-layer number of heads and MLP ratio.

Attention width is ``heads x 64`` (AutoFormer; equal to the embedding width for ViT and DeiT).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from repro.cost.models.blocks import Attention, Mlp


@dataclass(frozen=True)
class ViTSpec:
    """Embedding width and, per layer, the heads and MLP ratio."""
    dim: int
    heads: tuple[int, ...]
    mlp_ratios: tuple[float, ...]
    patch: int = 16
    head_dim: int = 64

    def __post_init__(self) -> None:
        if len(self.heads) != len(self.mlp_ratios):
            raise ValueError(f"heads ({len(self.heads)}) and mlp_ratios ({len(self.mlp_ratios)}) need one entry per layer")


def uniform(dim: int, depth: int, heads: int, mlp_ratio: float = 4.0) -> ViTSpec:
    return ViTSpec(dim, (heads,) * depth, (mlp_ratio,) * depth)


DEIT_TINY = uniform(192, 12, 3)
DEIT_SMALL = uniform(384, 12, 6)
VIT_BASE = uniform(768, 12, 12)
# AutoFormer's published subnets (experiments/subnet/AutoFormer-{T,S,B}.yaml of the AutoFormer release).
AUTOFORMER_TINY = ViTSpec(192, (3,) * 10 + (4, 3, 3),
                          (3.5, 3.5, 3.0, 3.5, 3.0, 3.0, 4.0, 4.0, 3.5, 4.0, 3.5, 4.0, 3.5))
AUTOFORMER_SMALL = ViTSpec(384, (6, 6, 5, 7, 5, 5, 5, 6, 6, 7, 7, 6, 7),
                           (3.0, 3.5, 3.0, 3.5, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 3.5, 4.0))
AUTOFORMER_BASE = ViTSpec(576, (9, 9, 9, 9, 9, 10, 9, 9, 10, 9, 10, 9, 9, 10),
                          (3.5, 3.5, 4.0, 3.5, 4.0, 3.5, 3.5, 3.0, 4.0, 4.0, 3.0, 4.0, 3.0, 3.5))


class Block(nn.Module):
    def __init__(self, dim: int, heads: int, mlp_ratio: float, head_dim: int):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attn = Attention(dim, heads, head_dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class VisionTransformer(nn.Module):
    """Patch embedding, class token, learned position embedding, blocks, classifier on the class token."""

    def __init__(self, spec: ViTSpec, resolution: int = 224, num_classes: int = 1000):
        super().__init__()
        tokens = (resolution // spec.patch) ** 2 + 1
        self.patch = nn.Conv2d(3, spec.dim, spec.patch, stride=spec.patch)
        self.cls = nn.Parameter(torch.zeros(1, 1, spec.dim))
        self.pos = nn.Parameter(torch.zeros(1, tokens, spec.dim))
        self.blocks = nn.Sequential(*(Block(spec.dim, h, r, spec.head_dim) for h, r in zip(spec.heads, spec.mlp_ratios)))
        self.norm = nn.LayerNorm(spec.dim)
        self.head = nn.Linear(spec.dim, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.patch(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos
        return self.head(self.norm(self.blocks(x))[:, 0])
