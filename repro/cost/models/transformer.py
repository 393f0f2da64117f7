"""The encoder-decoder Transformer (Vaswani et al. 2017) under HAT's counting conventions.

HAT (Wang et al. 2020a), which ShiftAddNAS Table 3 follows: parameters without the embedding tables
and the output projection; FLOPs of one forward pass over 30 source and 30 target tokens, the
decoder run on all 30 target positions at once. The model therefore takes the *embedded* source and
target tokens, concatenated along time: ``[1, src_len + tgt_len, dim]``, and has no embedding or
output projection at all.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from repro.cost.models.blocks import Attention, Mlp


@dataclass(frozen=True)
class TransformerSpec:
    """Width, heads, FFN width and depths; ``src_len`` source tokens in the input (HAT: 30)."""
    dim: int
    heads: int
    ffn: int
    encoder_layers: int = 6
    decoder_layers: int = 6
    src_len: int = 30


BASE = TransformerSpec(dim=512, heads=8, ffn=2048)
BIG = TransformerSpec(dim=1024, heads=16, ffn=4096)


class EncoderLayer(nn.Module):
    def __init__(self, s: TransformerSpec):
        super().__init__()
        self.attn, self.ffn = Attention(s.dim, s.heads), Mlp(s.dim, s.ffn)
        self.norm1, self.norm2 = nn.LayerNorm(s.dim), nn.LayerNorm(s.dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.norm1(x + self.attn(x))
        return self.norm2(x + self.ffn(x))


class DecoderLayer(nn.Module):
    def __init__(self, s: TransformerSpec):
        super().__init__()
        self.self_attn, self.cross_attn, self.ffn = Attention(s.dim, s.heads), Attention(s.dim, s.heads), Mlp(s.dim, s.ffn)
        self.norm1, self.norm2, self.norm3 = nn.LayerNorm(s.dim), nn.LayerNorm(s.dim), nn.LayerNorm(s.dim)

    def forward(self, x: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        x = self.norm1(x + self.self_attn(x))
        x = self.norm2(x + self.cross_attn(x, memory))
        return self.norm3(x + self.ffn(x))


class Transformer(nn.Module):
    """Encoder and decoder stacks; input: embedded source then target tokens, ``[B, S + T, dim]``."""

    def __init__(self, spec: TransformerSpec):
        super().__init__()
        self.spec = spec
        self.encoder = nn.ModuleList(EncoderLayer(spec) for _ in range(spec.encoder_layers))
        self.decoder = nn.ModuleList(DecoderLayer(spec) for _ in range(spec.decoder_layers))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        src, tgt = tokens[:, : self.spec.src_len], tokens[:, self.spec.src_len:]
        for layer in self.encoder:
            src = layer(src)
        for layer in self.decoder:
            tgt = layer(tgt, src)
        return tgt
