"""Bottleneck ResNets (He et al. 2016, torchvision's v1.5 layout: stride on the 3x3 convolution).

``op`` turns every convolution except the stem and the classifier into adder (AdderNet, Chen et al.
2020) or shift (DeepShift, Elhoushi et al. 2021) layers, as those papers do for ResNet-50. The same
:class:`Bottleneck` is the Conv / Shift / Add block of the ShiftAddNAS-T models.
"""
from __future__ import annotations

import torch
from torch import nn

from repro.cost.models.blocks import OpConv2d

EXPANSION = 4
DEPTHS = {18: (2, 2, 2, 2), 50: (3, 4, 6, 3), 101: (3, 4, 23, 3)}
WIDTHS = (64, 128, 256, 512)


def conv_bn(c_in: int, c_out: int, k: int, stride: int = 1, op: str = "mult", groups: int = 1) -> nn.Sequential:
    return nn.Sequential(OpConv2d(c_in, c_out, k, stride=stride, padding=k // 2, groups=groups, bias=False, op=op),
                         nn.BatchNorm2d(c_out))


class Bottleneck(nn.Module):
    """1x1 -> 3x3 (stride) -> 1x1 (x4), with a projection shortcut when the shape changes."""

    def __init__(self, c_in: int, width: int, stride: int = 1, op: str = "mult"):
        super().__init__()
        c_out = width * EXPANSION
        self.body = nn.Sequential(conv_bn(c_in, width, 1, op=op), nn.ReLU(), conv_bn(width, width, 3, stride, op=op),
                                  nn.ReLU(), conv_bn(width, c_out, 1, op=op))
        self.shortcut = conv_bn(c_in, c_out, 1, stride, op=op) if stride != 1 or c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.shortcut(x))


class BasicBlock(nn.Module):
    """Two 3x3 convolutions (ResNet-18/34)."""

    expansion = 1

    def __init__(self, c_in: int, width: int, stride: int = 1, op: str = "mult"):
        super().__init__()
        self.body = nn.Sequential(conv_bn(c_in, width, 3, stride, op=op), nn.ReLU(), conv_bn(width, width, 3, op=op))
        self.shortcut = conv_bn(c_in, width, 1, stride, op=op) if stride != 1 or c_in != width else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.shortcut(x))


def stem() -> nn.Sequential:
    """7x7 stride-2 convolution and 3x3 stride-2 max-pool: 224 -> 56."""
    return nn.Sequential(conv_bn(3, 64, 7, 2), nn.ReLU(), nn.MaxPool2d(3, 2, 1))


class ResNet(nn.Module):
    def __init__(self, depth: int = 50, op: str = "mult", num_classes: int = 1000):
        super().__init__()
        if depth not in DEPTHS:
            raise ValueError(f"unknown ResNet depth {depth}; valid: {sorted(DEPTHS)}")
        block, expansion = (BasicBlock, 1) if depth < 50 else (Bottleneck, EXPANSION)
        layers, c_in = [stem()], 64
        for i, (n, width) in enumerate(zip(DEPTHS[depth], WIDTHS)):
            for j in range(n):
                layers.append(block(c_in, width, 2 if j == 0 and i > 0 else 1, op=op))
                c_in = width * expansion
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(c_in, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x).mean((2, 3)))
