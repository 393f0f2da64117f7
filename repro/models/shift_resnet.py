"""The hand-designed baseline of the bit-shift ShiftNAS paper (Table 1, Table 3): ResNet-20 with every
convolution and the classifier in the shift (``flip(2^P, S)``) or the real domain."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from repro.spaces.darts import Domain
from repro.supernets.darts import conv


class BasicBlock(nn.Module):
    """Two 3x3 conv-BN layers with an identity (or 1x1 conv-BN) shortcut (He et al., 2016)."""

    def __init__(self, c_in: int, c_out: int, stride: int, domain: Domain):
        super().__init__()
        self.body = nn.Sequential(conv(c_in, c_out, 3, stride=stride, padding=1, domain=domain), nn.BatchNorm2d(c_out),
                                  nn.ReLU(inplace=True), conv(c_out, c_out, 3, padding=1, domain=domain),
                                  nn.BatchNorm2d(c_out))
        self.shortcut = (nn.Identity() if stride == 1 and c_in == c_out else
                         nn.Sequential(conv(c_in, c_out, 1, stride=stride, domain=domain), nn.BatchNorm2d(c_out)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.body(x) + self.shortcut(x))


class ShiftResNet20(nn.Module):
    """ResNet-20 (3 stages x 3 blocks, widths w, 2w, 4w; w = 16 in the paper's Table 1), every
    convolution and the classifier in the chosen domain."""

    def __init__(self, width: int = 16, num_classes: int = 10, in_channels: int = 3, domain: Domain = "shift"):
        super().__init__()
        self.stem = nn.Sequential(conv(in_channels, width, 3, padding=1, domain=domain), nn.BatchNorm2d(width),
                                  nn.ReLU(inplace=True))
        blocks, c = [], width
        for stage, c_out in enumerate((width, 2 * width, 4 * width)):
            for b in range(3):
                blocks.append(BasicBlock(c, c_out, 2 if stage and b == 0 else 1, domain))
                c = c_out
        self.blocks = nn.Sequential(*blocks)
        self.fc = conv(c, num_classes, 1, bias=True, domain=domain)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(F.adaptive_avg_pool2d(self.blocks(self.stem(x)), 1)).flatten(1)
