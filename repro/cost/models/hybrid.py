"""The ShiftAddNAS-T CV models (ShiftAddNAS Table 4) from the released architecture encoding.

Our reading of the released encoding ``[[1,1],[1,1,1,1],[3,1,0,2,2],[0,0,1,0,0]]`` (one list per
stage, one block type per layer: 0 Attn, 1 Conv, 2 Add, 3 Shift), with stage widths 64/128/256/512:
the macro-structure is BossNAS's ResNet-like HyTra space (ShiftAddNAS follows BossNAS, Sec. 4.3):

* the ResNet stem (7x7 stride 2 + max-pool) to 56x56, four stages at 56, 28, 14 and 7 pixels; the
  first layer of stages 2-4 halves the resolution; T1 drops the last down-sampling (stage 4 at 14);
* Conv / Shift / Add layers are ResNet bottlenecks (1x1, 3x3, 1x1 with expansion 4) whose three
  convolutions and projection shortcut are of that op type;
* an Attn layer is a bottleneck whose 3x3 convolution is replaced by a depthwise 3x3 convolution (the
  position encoding, Sec. 4.1) and 4-head self-attention over the pixels (BoTNet), then a 2x2
  average pool when it down-samples;
* global average pool and a linear classifier.
This is a reading, not the released code: the counts it gives are compared with Table 4 in notebook 02.
"""
from __future__ import annotations

import torch
from torch import nn

from repro.cost.models.blocks import Attention
from repro.cost.models.resnet import EXPANSION, WIDTHS, Bottleneck, conv_bn, stem

ATTN, CONV, ADD, SHIFT = 0, 1, 2, 3
BLOCK_OPS = {CONV: "mult", ADD: "add", SHIFT: "shift"}
RELEASED_ENCODING = ((1, 1), (1, 1, 1, 1), (3, 1, 0, 2, 2), (0, 0, 1, 0, 0))
BOTNET50_ENCODING = ((1, 1, 1), (1, 1, 1, 1), (1,) * 6, (0, 0, 0))   # ResNet-50 depths, Attn in stage 4


class AttnBottleneck(nn.Module):
    """1x1 -> depthwise 3x3 position encoding -> multi-head self-attention (-> 2x2 avg pool) -> 1x1 (x4)."""

    def __init__(self, c_in: int, width: int, stride: int = 1, heads: int = 4):
        super().__init__()
        c_out = width * EXPANSION
        self.reduce = nn.Sequential(conv_bn(c_in, width, 1), nn.ReLU())
        self.pos = conv_bn(width, width, 3, groups=width)
        self.attn = Attention(width, heads)
        self.pool = nn.AvgPool2d(2) if stride == 2 else nn.Identity()
        self.expand = nn.Sequential(nn.BatchNorm2d(width), nn.ReLU(), conv_bn(width, c_out, 1))
        self.shortcut = conv_bn(c_in, c_out, 1, stride) if stride != 1 or c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.reduce(x)
        y = y + self.pos(y)
        b, c, h, w = y.shape
        y = self.attn(y.flatten(2).transpose(1, 2)).transpose(1, 2).reshape(b, c, h, w)
        return torch.relu(self.expand(self.pool(y)) + self.shortcut(x))


def check_encoding(encoding) -> None:
    if len(encoding) != len(WIDTHS):
        raise ValueError(f"the encoding needs {len(WIDTHS)} stages, got {len(encoding)}")
    for stage in encoding:
        for t in stage:
            if t not in (ATTN, *BLOCK_OPS):
                raise ValueError(f"unknown block type {t!r}; valid: 0 Attn, 1 Conv, 2 Add, 3 Shift")


class HybridNet(nn.Module):
    """A ShiftAddNAS CV model from an encoding; ``last_downsample=False`` gives the T1 variant."""

    def __init__(self, encoding=RELEASED_ENCODING, last_downsample: bool = True, num_classes: int = 1000):
        super().__init__()
        check_encoding(encoding)
        layers, c_in = [stem()], 64
        for i, (stage, width) in enumerate(zip(encoding, WIDTHS)):
            for j, t in enumerate(stage):
                down = j == 0 and i > 0 and (last_downsample or i < len(WIDTHS) - 1)
                stride = 2 if down else 1
                block = AttnBottleneck(c_in, width, stride) if t == ATTN else Bottleneck(c_in, width, stride, BLOCK_OPS[t])
                layers.append(block)
                c_in = width * EXPANSION
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(c_in, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x).mean((2, 3)))
