"""The weight-entangled BigNAS-style CNN supernet (ShiftNAS-PS Sec. 4.1) over a :class:`CNNSpace`.

As for the ViT supernet, ``set_active_subnet(config)`` then ``model(x)`` runs the subnet on sliced
weights (first channels, first blocks, centre of the largest kernel), and ``model(x, masks)`` runs the
largest network with Eq. 9's masks: channel masks after each block, a kernel mask on the weights, a
gate per residual block. Batch norm always uses batch statistics (so narrower subnets need no
recalibration), which also makes both forwards agree on one-hot policies.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from repro.spaces.base import Config
from repro.spaces.masks import Policies, depth_masks, prefix_masks
from repro.spaces.bignas_cnn import CNNSpace
from repro.supernets.base import Supernet

Masks = dict[str, Tensor]


def kernel_masks(kernels: tuple[int, ...]) -> Tensor:
    """Row ``i``: the centred ``k_i x k_i`` window inside the largest kernel, flattened."""
    kmax = max(kernels)
    out = torch.zeros(len(kernels), kmax, kmax)
    for i, k in enumerate(kernels):
        lo = (kmax - k) // 2
        out[i, lo:lo + k, lo:lo + k] = 1.0
    return out


class ConvBlock(nn.Module):
    """Convolution (largest kernel and widths), batch norm on batch statistics, ReLU."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int):
        super().__init__()
        self.stride, self.kernel = stride, kernel
        self.weight = nn.Parameter(torch.empty(c_out, c_in, kernel, kernel))
        nn.init.kaiming_normal_(self.weight, nonlinearity="relu")
        self.bn_weight = nn.Parameter(torch.ones(c_out))
        self.bn_bias = nn.Parameter(torch.zeros(c_out))

    def _finish(self, y: Tensor, c_out: int) -> Tensor:
        return F.relu(F.batch_norm(y, None, None, self.bn_weight[:c_out], self.bn_bias[:c_out], training=True))

    def sliced(self, x: Tensor, c_out: int, k: int) -> Tensor:
        lo = (self.kernel - k) // 2
        w = self.weight[:c_out, : x.shape[1], lo:lo + k, lo:lo + k]
        return self._finish(F.conv2d(x, w, stride=self.stride, padding=k // 2), c_out)

    def masked(self, x: Tensor, channels: Tensor, kernel: Tensor) -> Tensor:
        y = F.conv2d(x, self.weight * kernel, stride=self.stride, padding=self.kernel // 2)
        return self._finish(y, len(channels)) * channels[:, None, None]


class CNNSupernet(nn.Module, Supernet):
    """Stem, stages of :class:`ConvBlock` (residual after the first of each stage), pooling, classifier."""

    def __init__(self, space: CNNSpace):
        super().__init__()
        self.space = space
        kmax = max(space.kernels)
        self.stem = ConvBlock(space.in_chans, space.stem, 3, 1)
        stages, c_in = [], space.stem
        for s, widths in enumerate(space.widths):
            stages.append(nn.ModuleList(ConvBlock(c_in if b == 0 else widths[-1], widths[-1], kmax,
                                                  2 if (b == 0 and s > 0) else 1) for b in range(space.max_depth)))
            c_in = widths[-1]
        self.stages = nn.ModuleList(stages)
        self.head = nn.Linear(c_in, space.num_classes)
        self.active: Config = space.largest()
        for s, widths in enumerate(space.widths):
            self.register_buffer(f"width_masks_{s}", prefix_masks(widths, widths[-1]), persistent=False)
        self.register_buffer("depth_masks", depth_masks(space.depths), persistent=False)
        self.register_buffer("kernel_masks", kernel_masks(space.kernels), persistent=False)

    def set_active_subnet(self, config: Config) -> None:
        self.space.validate(config)
        self.active = config

    @torch.no_grad()
    def export(self, config: Config) -> "CNNSubnet":
        """A :class:`CNNSubnet` of ``config``: first channels, first blocks, centred kernels (same outputs)."""
        net = CNNSubnet(self.space, config)
        pairs = [(net.stem, self.stem)] + [(mine, theirs) for s, blocks in enumerate(net.stages)
                                           for mine, theirs in zip(blocks, self.stages[s])]
        for mine, theirs in pairs:
            c_out, c_in, k, _ = mine.weight.shape
            lo = (theirs.kernel - k) // 2
            mine.weight.copy_(theirs.weight[:c_out, :c_in, lo:lo + k, lo:lo + k])
            mine.bn_weight.copy_(theirs.bn_weight[:c_out])
            mine.bn_bias.copy_(theirs.bn_bias[:c_out])
        net.head.weight.copy_(self.head.weight[:, :net.head.in_features])
        net.head.bias.copy_(self.head.bias)
        return net

    def masks(self, policies: Policies) -> Masks:
        """Eq. 9 per decision: channel prefixes, block gates, kernel windows."""
        out = {}
        for s in range(self.space.stages):
            out[f"width.{s}"] = policies[f"width.{s}"] @ getattr(self, f"width_masks_{s}")
            out[f"depth.{s}"] = policies[f"depth.{s}"] @ self.depth_masks
            for b in range(self.space.max_depth):
                out[f"kernel.{s}.{b}"] = torch.einsum("k,kij->ij", policies[f"kernel.{s}.{b}"], self.kernel_masks)
        return out

    def forward(self, x: Tensor, masks: Masks | None = None) -> Tensor:
        x = self.stem.sliced(x, self.space.stem, 3)
        for s, blocks in enumerate(self.stages):
            if masks is None:
                width, depth, kernels = self.active["width"][s], self.active["depth"][s], self.active["kernel"][s]
                for b in range(depth):
                    y = blocks[b].sliced(x, width, kernels[b])
                    x = y if b == 0 else x + y
            else:
                m, gates = masks[f"width.{s}"], masks[f"depth.{s}"]
                for b, blk in enumerate(blocks):
                    y = blk.masked(x, m, masks[f"kernel.{s}.{b}"])
                    x = y if b == 0 else x + gates[b] * y
        return F.linear(x.mean((2, 3)), self.head.weight[:, : x.shape[1]], self.head.bias)


class CNNSubnet(nn.Module):
    """One subnet of a :class:`CNNSupernet` as a standalone CNN: exact widths, depths and kernels."""

    def __init__(self, space: CNNSpace, config: Config):
        super().__init__()
        space.validate(config)
        self.stem = ConvBlock(space.in_chans, space.stem, 3, 1)
        stages, c_in = [], space.stem
        for s in range(space.stages):
            width, depth, kernels = config["width"][s], config["depth"][s], config["kernel"][s]
            stages.append(nn.ModuleList(ConvBlock(c_in if b == 0 else width, width, kernels[b],
                                                  2 if (b == 0 and s > 0) else 1) for b in range(depth)))
            c_in = width
        self.stages = nn.ModuleList(stages)
        self.head = nn.Linear(c_in, space.num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = self.stem.sliced(x, self.stem.weight.shape[0], 3)
        for blocks in self.stages:
            for b, blk in enumerate(blocks):
                y = blk.sliced(x, blk.weight.shape[0], blk.kernel)
                x = y if b == 0 else x + y
        return self.head(x.mean((2, 3)))
