"""The ShiftAddNAS CV supernet (Sec. 3.1, Fig. 2b) and the standalone network of one of its subnets.

Layout (dimensions from :class:`repro.spaces.shiftaddnas_cv.CVSpaceDims`): a stem, then one stage per
resolution; every stage after the first opens with a fixed transition (stride 2 where the resolution
halves), then holds ``depth`` searchable layers. Each layer is one of four residual blocks, in the
space's block style (``dims.block``; paper scale: bottleneck, the reduced scales: basic):

* **Attn**: depthwise-3x3 position encoding (Sec. 4.1, after BossNAS) and multi-head self-attention,
  then (basic) a two-layer MLP, each with a residual (Sec. 3.1); (bottleneck) between a 1x1 reduction
  and a 1x1 expansion, as BoTNet and the released ``ResAtt``;
* **Conv / Add / Shift**: a ResNet block ``relu(x + BN(op(... relu(BN(op(x))))))`` whose layers
  (basic: two 3x3; bottleneck: 1x1, 3x3, 1x1) are convolutions, AdderNet layers or DeepShift-Q layers,
  each followed by its own BatchNorm.

Transitions: a 3x3 stride-2 convolution (basic), or a 2x2 average pool and a 1x1 projection (bottleneck,
the released ``avg_down`` path); after a ResNet stem a 1x1 projection to the first stage's width.

Weight sharing (Sec. 3.2.2) of the Conv / Add / Shift candidates of a layer, through
:class:`repro.ops.weight_sharing.SharedConv2d`, ``sharing=``:

* ``"heterogeneous"``: one weight pool per layer position serves all three; Conv uses it as is, Shift
  rounds it to powers of two, Add uses it through a learnable transformation kernel T (Eq. 6); the
  KL terms of Eq. (5) (pool vs N(0, 1), T(pool) vs Laplace(0, 1)) of the active layers' pools are
  returned by :meth:`CVSupernet.regularization_loss`;
* ``"naive"``: one pool, used as is by all three (no kernel, no KL);
* ``"none"``: separate weights per candidate.

The Attn candidates never share. Pool and candidate weights start from N(0, 1) (the Gaussian the
Conv view is pulled towards). :meth:`CVSupernet.export` copies a subnet's weights into a
:class:`CVNet`, which then computes the same function. The supernet has no elastic widths (its
choices are block types and depths), so it does not use the sliced layers of :mod:`repro.ops.elastic`.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from repro.ops.attention import Attention2d
from repro.ops.blocks import LocalBranch
from repro.ops.weight_sharing import SHARING, SharedConv2d
from repro.spaces.base import Config
from repro.supernets.base import Supernet
from repro.spaces.shiftaddnas_cv import BLOCK_TYPES, CVSpaceDims, ShiftAddNASCVSpace

LOCAL_BLOCKS = ("Conv", "Add", "Shift")


class AttnBlock(nn.Module):
    """Attn block (basic): ``x += Attn(BN(x))`` (depthwise-conv position encoding inside), ``x += MLP(BN(x))``."""

    def __init__(self, channels: int, heads: int, mlp_ratio: int):
        super().__init__()
        self.norm1, self.norm2 = nn.BatchNorm2d(channels), nn.BatchNorm2d(channels)
        self.attn = Attention2d(channels, heads)
        self.mlp = nn.Sequential(nn.Conv2d(channels, mlp_ratio * channels, 1), nn.GELU(),
                                 nn.Conv2d(mlp_ratio * channels, channels, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class AttnBottleneck(nn.Module):
    """Attn block (bottleneck): ``y = relu(BN(1x1(x)))``, ``y += Attn(BN(y))``, ``relu(x + BN(1x1(relu(BN(y)))))``."""

    def __init__(self, channels: int, width: int, heads: int):
        super().__init__()
        self.reduce = nn.Sequential(nn.Conv2d(channels, width, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU())
        self.norm = nn.BatchNorm2d(width)
        self.attn = Attention2d(width, heads)
        self.expand = nn.Sequential(nn.BatchNorm2d(width), nn.ReLU(), nn.Conv2d(width, channels, 1, bias=False),
                                    nn.BatchNorm2d(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.reduce(x)
        return F.relu(x + self.expand(y + self.attn(self.norm(y))))


def attn_block(dims: CVSpaceDims, channels: int) -> nn.Module:
    """The Attn candidate of a stage of ``channels`` in the space's block style."""
    if dims.block == "bottleneck":
        return AttnBottleneck(channels, dims.attn_width(channels), dims.attn_heads(channels))
    return AttnBlock(channels, dims.attn_heads(channels), dims.mlp_ratio)


def residual(x: torch.Tensor, layers: list) -> torch.Tensor:
    """``relu(x + f_n(relu(... relu(f_1(x)))))``: a ResNet block of the layers ``f_i`` (each op + BN)."""
    h = x
    for i, layer in enumerate(layers):
        h = layer(h) if i == len(layers) - 1 else F.relu(layer(h))
    return F.relu(x + h)


class LocalBlock(nn.Module):
    """A standalone Conv / Add / Shift residual block: one :class:`LocalBranch` (op + BN) per layer of
    :meth:`CVSpaceDims.local_layers`."""

    def __init__(self, block: str, dims: CVSpaceDims, channels: int):
        super().__init__()
        self.branches = nn.ModuleList(LocalBranch(block.lower(), cin, k, out_channels=cout)
                                      for cin, cout, k in dims.local_layers(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return residual(x, list(self.branches))


def _transition(dims: CVSpaceDims, cin: int, cout: int, stride: int) -> nn.Module:
    """A change of width (and of resolution with ``stride`` 2) between stem or stages, + BN + ReLU."""
    if dims.block == "basic":
        return nn.Sequential(nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(cout),
                             nn.ReLU())
    pool = nn.AvgPool2d(2, ceil_mode=True, count_include_pad=False) if stride == 2 else nn.Identity()
    return nn.Sequential(pool, nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())


class _Backbone(nn.Module):
    """Stem, stride-2 transitions and classifier: the fixed parts every subnet shares."""

    def __init__(self, dims: CVSpaceDims):
        super().__init__()
        self.dims = dims
        c0, stem_out = dims.stages[0].channels, dims.stem_channels
        if dims.resnet_stem:
            self.stem = nn.Sequential(nn.Conv2d(dims.in_channels, stem_out, 7, stride=2, padding=3, bias=False),
                                      nn.BatchNorm2d(stem_out), nn.ReLU(), nn.MaxPool2d(3, stride=2, padding=1))
        else:
            stem = (nn.Conv2d(dims.in_channels, c0, dims.stem_stride, stride=dims.stem_stride, bias=False)
                    if dims.stem_stride > 1 else nn.Conv2d(dims.in_channels, c0, 3, padding=1, bias=False))
            self.stem = nn.Sequential(stem, nn.BatchNorm2d(c0), nn.ReLU())
        self.entry = _transition(dims, stem_out, c0, 1) if stem_out != c0 else nn.Identity()
        self.transitions = nn.ModuleList(_transition(dims, a.channels, b.channels, 1 if a.resolution == b.resolution else 2)
                                         for a, b in zip(dims.stages[:-1], dims.stages[1:]))
        self.head = nn.Linear(dims.stages[-1].channels, dims.num_classes)

    def _forward(self, x: torch.Tensor, stages: list[list[nn.Module]]) -> torch.Tensor:
        x = self.entry(self.stem(x))
        for i, blocks in enumerate(stages):
            if i:
                x = self.transitions[i - 1](x)
            for block in blocks:
                x = block(x)
        return self.head(x.mean((2, 3)))


class CVNet(_Backbone):
    """The standalone network of one config (for training from scratch and for cost counting)."""

    def __init__(self, dims: CVSpaceDims, config: Config):
        super().__init__(dims)
        ShiftAddNASCVSpace(dims).validate(config)
        self.config = config
        self.stages = nn.ModuleList(
            nn.ModuleList(attn_block(dims, st.channels) if BLOCK_TYPES[t] == "Attn"
                          else LocalBlock(BLOCK_TYPES[t], dims, st.channels) for t in layers)
            for st, layers in zip(dims.stages, config["stages"]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._forward(x, [list(s) for s in self.stages])


class SharedLocal(nn.Module):
    """The Conv / Add / Shift candidates of one supernet layer: one :class:`SharedConv2d` per layer
    position (one pool each in the sharing modes) and a BatchNorm per candidate and position."""

    def __init__(self, dims: CVSpaceDims, channels: int, sharing: str):
        super().__init__()
        shapes = dims.local_layers(channels)
        self.convs = nn.ModuleList(SharedConv2d(cin, cout, k, padding=k // 2, sharing=sharing)
                                   for cin, cout, k in shapes)
        self.norms = nn.ModuleDict({b: nn.ModuleList(nn.BatchNorm2d(cout) for _, cout, _ in shapes)
                                    for b in LOCAL_BLOCKS})

    def forward(self, x: torch.Tensor, block: str) -> torch.Tensor:
        for conv in self.convs:
            conv.set_op(block.lower())
        return residual(x, [lambda h, conv=conv, bn=bn: bn(conv(h)) for conv, bn in zip(self.convs, self.norms[block])])

    def regularization_loss(self) -> torch.Tensor:
        """Eq. (5) for this layer's pools (zero unless heterogeneous sharing)."""
        return sum(conv.regularization_loss() for conv in self.convs)


class SuperLayer(nn.Module):
    """One searchable layer: the Attn candidate and the (shared) Conv / Add / Shift candidates."""

    def __init__(self, dims: CVSpaceDims, channels: int, sharing: str):
        super().__init__()
        self.attn = attn_block(dims, channels)
        self.local = SharedLocal(dims, channels, sharing)

    def forward(self, x: torch.Tensor, block: str) -> torch.Tensor:
        return self.attn(x) if block == "Attn" else self.local(x, block)


class CVSupernet(_Backbone, Supernet):
    """All subnets of the CV space on shared weights; ``set_active_subnet`` picks the path to run."""

    def __init__(self, dims: CVSpaceDims, sharing: str = "heterogeneous"):
        if sharing not in SHARING:
            raise ValueError(f"unknown sharing mode {sharing!r}; valid modes: {', '.join(SHARING)}")
        super().__init__(dims)
        self.space = ShiftAddNASCVSpace(dims)
        self.sharing = sharing
        self.layers = nn.ModuleList(
            nn.ModuleList(SuperLayer(dims, st.channels, sharing) for _ in range(max(st.depths)))
            for st in dims.stages)
        self.active: Config = {"stages": [[1] * max(st.depths) for st in dims.stages]}

    def set_active_subnet(self, config: Config) -> None:
        self.space.validate(config)
        self.active = config

    def _active_layers(self) -> list[list[tuple[SuperLayer, str]]]:
        return [[(layers[j], BLOCK_TYPES[t]) for j, t in enumerate(codes)]
                for layers, codes in zip(self.layers, self.active["stages"])]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        stages = [[lambda h, layer=layer, block=block: layer(h, block) for layer, block in stage]
                  for stage in self._active_layers()]
        return self._forward(x, stages)

    def regularization_loss(self) -> torch.Tensor:
        """The KL terms of Eq. (5) of the active Conv / Add / Shift layers' pools, averaged over those
        layers so their weight against the cross-entropy does not grow with depth (zero unless
        heterogeneous sharing)."""
        if self.sharing != "heterogeneous":
            return torch.zeros(())
        terms = [layer.local.regularization_loss() for stage in self._active_layers() for layer, block in stage
                 if block != "Attn"]
        return sum(terms) / len(terms) if terms else torch.zeros(())

    @torch.no_grad()
    def export(self, config: Config) -> CVNet:
        """A :class:`CVNet` of ``config`` holding this supernet's weights (same outputs)."""
        net = CVNet(self.dims, config)
        for name in ("stem", "entry", "transitions", "head"):
            getattr(net, name).load_state_dict(getattr(self, name).state_dict())
        for blocks, layers, codes in zip(net.stages, self.layers, config["stages"]):
            for block, layer, code in zip(blocks, layers, codes):
                kind = BLOCK_TYPES[code]
                if kind == "Attn":
                    block.load_state_dict(layer.attn.state_dict())
                    continue
                for branch, conv, bn in zip(block.branches, layer.local.convs, layer.local.norms[kind]):
                    branch.layer.weight.copy_(conv.view(kind.lower()))
                    branch.norm.load_state_dict(bn.state_dict())
        return net
