"""The weight-entangled BigNAS-style CNN supernet (ShiftNAS-PS Sec. 4.1) over a :class:`CNNSpace`.

As for the ViT supernet, ``set_active_subnet(config)`` then ``model(x)`` runs the subnet on sliced
weights (first channels, first blocks, centre of the largest kernel), and ``model(x, masks)`` runs the
largest network with Eq. 9's masks: channel masks after each block, a kernel mask on the weights, a
gate per residual block (the elastic layers of :mod:`repro.ops.elastic`). Batch norm always uses
batch statistics (so narrower subnets need no recalibration), which also makes both forwards agree
on one-hot policies.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from repro.ops.elastic import ElasticConv2d, ElasticLinear, kernel_masks
from repro.spaces.base import Config
from repro.spaces.masks import Policies, depth_masks, prefix_masks
from repro.spaces.bignas_cnn import CNNSpace
from repro.supernets.base import Supernet

Masks = dict[str, Tensor]


class ConvBlock(ElasticConv2d):
    """Elastic convolution (largest kernel and widths, no bias), batch norm on batch statistics, ReLU."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int):
        super().__init__(c_in, c_out, kernel, stride, padding=kernel // 2, bias=False)
        self.bn_weight = nn.Parameter(torch.ones(c_out))
        self.bn_bias = nn.Parameter(torch.zeros(c_out))

    def reset_parameters(self) -> None:
        """Kaiming-normal weights for the ReLU that follows (called by ``nn.Conv2d.__init__``)."""
        nn.init.kaiming_normal_(self.weight, nonlinearity="relu")

    def _finish(self, y: Tensor) -> Tensor:
        c = y.shape[1]
        return F.relu(F.batch_norm(y, None, None, self.bn_weight[:c], self.bn_bias[:c], training=True))

    def sliced(self, x: Tensor, out_channels: int | None = None, kernel_size: int | None = None) -> Tensor:
        """The subnet block: ``out_channels`` filters with the centred ``kernel_size`` window."""
        return self._finish(super().sliced(x, out_channels, kernel_size))

    def masked(self, x: Tensor, kernel: Tensor, channels: Tensor) -> Tensor:
        """The largest block with a kernel mask on the weight and a channel mask on the output (Eq. 9)."""
        return self._finish(super().masked(x, kernel)) * channels[:, None, None]


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
        self.head = ElasticLinear(c_in, space.num_classes)
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
            mine.weight.copy_(theirs.sliced_weight(c_out, c_in, k))
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
        x = self.stem.sliced(x)
        for s, blocks in enumerate(self.stages):
            if masks is None:
                width, depth, kernels = self.active["width"][s], self.active["depth"][s], self.active["kernel"][s]
                for b in range(depth):
                    y = blocks[b].sliced(x, width, kernels[b])
                    x = y if b == 0 else x + y
            else:
                m, gates = masks[f"width.{s}"], masks[f"depth.{s}"]
                for b, blk in enumerate(blocks):
                    y = blk.masked(x, masks[f"kernel.{s}.{b}"], m)
                    x = y if b == 0 else x + gates[b] * y
        return self.head.sliced(x.mean((2, 3)))


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
        x = self.stem.sliced(x)
        for blocks in self.stages:
            for b, blk in enumerate(blocks):
                y = blk.sliced(x)
                x = y if b == 0 else x + y
        return self.head(x.mean((2, 3)))
