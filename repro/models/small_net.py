"""The small network of ShiftAddNAS Fig. 3 / Fig. 7 (notebook 01): a full-precision stem, two studied layers
of one operator type (Conv, Add or Shift) and a linear classifier on the flattened features, as in AdderNet's
and DeepShift's LeNet-style MNIST networks (full-precision first and last layers).

The classifier reads the flattened 7x7 feature map, not its global average: with the average the Conv network
reached 76.7% on the Fashion-MNIST test set after one epoch on all 60,000 images (measured, seed 0), under the
accuracy gate of 84% that the weight-distribution claims need; flattened, the same epoch gives 88.6% (Conv),
87.9% (Add) and 88.5% (Shift)."""
from __future__ import annotations

import math

import torch
from torch import nn

from repro.ops.adder import Adder2d
from repro.ops.checks import check_choice
from repro.ops.shift import ShiftConv2d, effective_weight

OPS = ("conv", "add", "shift")
STUDIED = ("layer1", "layer2")


def _op_layer(op: str, cin: int, cout: int) -> nn.Module:
    """A 3x3, stride-2 layer of the studied type with Gaussian initial weights: N(0, 2 / fan_in) for
    Conv and Shift, N(0, 1) for Add (AdderNet's init; its adaptive learning rate assumes unit-scale weights)."""
    check_choice("op", op, OPS)
    layer = {"conv": lambda: nn.Conv2d(cin, cout, 3, stride=2, padding=1, bias=False),
             "add": lambda: Adder2d(cin, cout, 3, stride=2, padding=1),
             "shift": lambda: ShiftConv2d(cin, cout, 3, stride=2, padding=1, mode="q")}[op]()
    with torch.no_grad():
        layer.weight.normal_(0.0, 1.0 if op == "add" else math.sqrt(2.0 / (cin * 9)))
    return layer


class SmallNet(nn.Module):
    """Stem conv (full precision) -> two studied layers (Conv / Add / Shift, each + BN + ReLU, stride 2)
    -> flatten -> linear, for ``image_size`` x ``image_size`` single-channel inputs."""

    def __init__(self, op: str, width: int, image_size: int = 28):
        super().__init__()
        self.op = op
        block = lambda layer, c: nn.Sequential(layer, nn.BatchNorm2d(c), nn.ReLU())  # noqa: E731
        self.stem = block(nn.Conv2d(1, width, 3, padding=1, bias=False), width)
        self.layer1 = block(_op_layer(op, width, 2 * width), 2 * width)
        self.layer2 = block(_op_layer(op, 2 * width, 4 * width), 4 * width)
        side = (image_size + 3) // 4  # two stride-2 3x3 layers with padding 1
        self.head = nn.Linear(4 * width * side * side, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.layer2(self.layer1(self.stem(x)))
        return self.head(x.flatten(1))

    def studied_weights(self) -> dict[str, torch.Tensor]:
        """The weights each studied layer (:data:`STUDIED`) uses in its forward pass (powers of two for Shift)."""
        out = {}
        for name in STUDIED:
            layer = getattr(self, name)[0]
            out[name] = (effective_weight(layer) if self.op == "shift" else layer.weight).detach().clone()
        return out
