"""Networks of the shift-oriented DARTS space (:mod:`repro.spaces.darts`; bit-shift paper, Sec. 4.1, 5.2).

The four convolutions (group ``O_c``) run in the bit-shift domain (weights ``flip(2^P, S)``,
:class:`repro.ops.shift.ShiftConv2d` in PS mode, 5-bit weights) or in the real domain
(``nn.Conv2d``); so do the stem, the cell pre-processing and the classifier, so a bit-shift network
holds no multiplication by a weight. ``domain="shift" | "real"`` switches all of them at once.

* :class:`SearchNetwork`: the stacked search cells, every edge a mixture of the eight operations;
  the search strategy (:mod:`repro.search.dots`, :mod:`repro.search.darts`) owns the architecture
  weights and passes the mixing weights in.
* :class:`NetworkCIFAR` / :class:`NetworkImageNet`: the evaluation networks built from a
  :class:`~repro.spaces.darts.Genotype` (CIFAR-style: 20 cells, C = 36; ImageNet-mobile: 14 cells, C = 46, Sec. 5.2).

Cells are drawn by :mod:`repro.experiments.bitshift.figures` (graphviz's ``dot``).
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from repro.spaces.darts import PAPER_GENOTYPES, PRIMITIVES, STEPS, Domain, Genotype, check_domain, edges


def conv(c_in: int, c_out: int, kernel: int, *, stride: int = 1, padding: int = 0, dilation: int = 1,
         groups: int = 1, bias: bool = False, domain: Domain = "shift") -> nn.Module:
    """A convolution in the bit-shift domain (PS mode, 5-bit weights, Sec. 5) or the real domain."""
    check_domain(domain)
    if domain == "real":
        return nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, dilation=dilation,
                         groups=groups, bias=bias)
    from repro.ops.shift import ShiftConv2d

    return ShiftConv2d(c_in, c_out, kernel, stride=stride, padding=padding, dilation=dilation,
                       groups=groups, bias=bias, mode="ps", weight_bits=5)


def use_fixed_point(model: nn.Module, fixed_point: tuple[int, int] | None = (16, 16)) -> nn.Module:
    """Round the inputs and biases of every shift convolution of ``model`` to ``int.frac`` fixed point
    (16.16 in the paper's evaluation, Sec. 5), or stop rounding with ``None``; returns ``model``."""
    from repro.ops.shift import ShiftConv2d, check_fixed_point

    if fixed_point is not None:
        check_fixed_point(fixed_point)
    for m in model.modules():
        if isinstance(m, ShiftConv2d):
            m.fixed_point = fixed_point
    return model


class ReLUConvBN(nn.Sequential):
    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int, domain: Domain):
        super().__init__(nn.ReLU(inplace=False), conv(c_in, c_out, kernel, stride=stride, padding=padding,
                                                      domain=domain), nn.BatchNorm2d(c_out))


class DilConv(nn.Sequential):
    """ReLU, depthwise dilated convolution, pointwise convolution, BN."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int, dilation: int,
                 domain: Domain):
        super().__init__(
            nn.ReLU(inplace=False),
            conv(c_in, c_in, kernel, stride=stride, padding=padding, dilation=dilation, groups=c_in,
                 domain=domain),
            conv(c_in, c_out, 1, domain=domain),
            nn.BatchNorm2d(c_out))


class SepConv(nn.Sequential):
    """Two stacked (ReLU, depthwise, pointwise, BN) blocks, the first one carrying the stride."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int, domain: Domain):
        super().__init__(DilConv(c_in, c_in, kernel, stride, padding, 1, domain),
                         DilConv(c_in, c_out, kernel, 1, padding, 1, domain))


class Zero(nn.Module):
    def __init__(self, stride: int):
        super().__init__()
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, :, ::self.stride, ::self.stride].mul(0.0)


class FactorizedReduce(nn.Module):
    """Halve the resolution with two offset stride-2 1x1 convolutions, concatenated."""

    def __init__(self, c_in: int, c_out: int, domain: Domain):
        super().__init__()
        self.relu = nn.ReLU(inplace=False)
        self.conv1 = conv(c_in, c_out // 2, 1, stride=2, domain=domain)
        self.conv2 = conv(c_in, c_out - c_out // 2, 1, stride=2, domain=domain)
        self.bn = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(x)
        shifted = nn.functional.pad(x[:, :, 1:, 1:], (0, 1, 0, 1))  # the one-pixel offset, same size
        return self.bn(torch.cat([self.conv1(x), self.conv2(shifted)], dim=1))


def operation(name: str, c: int, stride: int, domain: Domain) -> nn.Module:
    """One of the eight :data:`PRIMITIVES` on ``c`` channels."""
    if name == "none":
        return Zero(stride)
    if name == "max_pool_3x3":
        return nn.MaxPool2d(3, stride=stride, padding=1)
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=stride, padding=1, count_include_pad=False)
    if name == "skip_connect":
        return nn.Identity() if stride == 1 else FactorizedReduce(c, c, domain)
    if name.startswith("sep_conv_"):
        k = int(name[-1])
        return SepConv(c, c, k, stride, k // 2, domain)
    if name.startswith("dil_conv_"):
        k = int(name[-1])
        return DilConv(c, c, k, stride, k - 1, 2, domain)
    raise ValueError(f"unknown operation {name!r}; valid operations: {', '.join(PRIMITIVES)}")


# ---------------------------------------------------------------- cells

def _preprocess(c_pp: int, c_p: int, c: int, reduction_prev: bool, domain: Domain) -> tuple[nn.Module, nn.Module]:
    pre0 = FactorizedReduce(c_pp, c, domain) if reduction_prev else ReLUConvBN(c_pp, c, 1, 1, 0, domain)
    return pre0, ReLUConvBN(c_p, c, 1, 1, 0, domain)


class MixedOp(nn.Module):
    """All eight operations of one edge; the output is ``sum_o w_o * o(x)`` over the kept ones (Eq. 3).
    Pooling is followed by a BatchNorm without affine parameters, as in DARTS's and DOTS's search cells."""

    def __init__(self, c: int, stride: int, domain: Domain):
        super().__init__()
        self.ops = nn.ModuleList(nn.Sequential(operation(name, c, stride, domain), nn.BatchNorm2d(c, affine=False))
                                 if "pool" in name else operation(name, c, stride, domain) for name in PRIMITIVES)

    def forward(self, x: torch.Tensor, weights: torch.Tensor, keep: Sequence[int]) -> torch.Tensor:
        return sum(weights[k] * self.ops[k](x) for k in keep)


class SearchCell(nn.Module):
    """A cell of the search network: a :class:`MixedOp` on every edge of :func:`edges`."""

    def __init__(self, c_pp: int, c_p: int, c: int, reduction: bool, reduction_prev: bool, domain: Domain):
        super().__init__()
        self.reduction = reduction
        self.pre0, self.pre1 = _preprocess(c_pp, c_p, c, reduction_prev, domain)
        self.edges = edges()
        self.mixed = nn.ModuleList(MixedOp(c, 2 if reduction and i < 2 else 1, domain) for i, _ in self.edges)

    def forward(self, s0: torch.Tensor, s1: torch.Tensor, op_weights: torch.Tensor,
                edge_weights: torch.Tensor | None, keep: list[list[int]]) -> torch.Tensor:
        """``op_weights``: (edges, 8); ``edge_weights``: (edges,) importance (Eq. 14) or ``None``."""
        states = [self.pre0(s0), self.pre1(s1)]
        e = 0
        for j in range(2, STEPS + 2):
            node = 0
            for i in range(j):
                out = self.mixed[e](states[i], op_weights[e], keep[e])
                node = node + (out if edge_weights is None else edge_weights[e] * out)
                e += 1
            states.append(node)
        return torch.cat(states[2:], dim=1)


def _stem(in_channels: int, c: int, domain: Domain) -> nn.Module:
    return nn.Sequential(conv(in_channels, c, 3, padding=1, domain=domain), nn.BatchNorm2d(c))


class _Classifier(nn.Module):
    """Global average pooling and a 1x1 convolution (a linear layer in the chosen domain)."""

    def __init__(self, c: int, num_classes: int, domain: Domain):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = conv(c, num_classes, 1, bias=True, domain=domain)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.pool(x)).flatten(1)


def _reductions(layers: int) -> set[int]:
    """The cells that halve the resolution: at 1/3 and 2/3 of the depth (DARTS)."""
    return {layers // 3, 2 * layers // 3}


class SearchNetwork(nn.Module):
    """The search supernet: a stem, ``layers`` search cells (two of them reductions), a classifier.

    ``forward(x, weights)`` takes ``weights = {"normal": (op_weights, edge_weights), "reduce": ...}``
    from the search strategy; :meth:`restrict` limits each edge to the operations kept after the
    operation search (Eq. 11), so the pruned ones are no longer computed.
    """

    def __init__(self, c: int = 16, num_classes: int = 10, layers: int = 8, in_channels: int = 3,
                 domain: Domain = "shift", stem_multiplier: int = 3):
        super().__init__()
        check_domain(domain)
        self.domain = domain
        c_curr = stem_multiplier * c
        self.stem = _stem(in_channels, c_curr, domain)
        c_pp, c_p, c_curr = c_curr, c_curr, c
        self.cells = nn.ModuleList()
        reduction_prev = False
        for layer in range(layers):
            reduction = layer in _reductions(layers)
            c_curr = c_curr * 2 if reduction else c_curr
            self.cells.append(SearchCell(c_pp, c_p, c_curr, reduction, reduction_prev, domain))
            reduction_prev = reduction
            c_pp, c_p = c_p, STEPS * c_curr
        self.classifier = _Classifier(c_p, num_classes, domain)
        n_edges = len(edges())
        self.keep = {kind: [list(range(len(PRIMITIVES))) for _ in range(n_edges)] for kind in ("normal", "reduce")}

    def restrict(self, keep: dict[str, list[list[int]]]) -> None:
        """Compute only the operations ``keep[kind][edge]`` (indices into :data:`PRIMITIVES`)."""
        self.keep = {kind: [list(k) for k in keep[kind]] for kind in ("normal", "reduce")}

    def forward(self, x: torch.Tensor, weights: dict[str, tuple[torch.Tensor, torch.Tensor | None]]) -> torch.Tensor:
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            kind = "reduce" if cell.reduction else "normal"
            s0, s1 = s1, cell(s0, s1, *weights[kind], self.keep[kind])
        return self.classifier(s1)


class EvalCell(nn.Module):
    """A cell of an evaluation network: the genotype's two operations per node, summed."""

    def __init__(self, genotype: Genotype, c_pp: int, c_p: int, c: int, reduction: bool, reduction_prev: bool,
                 domain: Domain):
        super().__init__()
        self.reduction = reduction
        self.pre0, self.pre1 = _preprocess(c_pp, c_p, c, reduction_prev, domain)
        cell = genotype.reduce if reduction else genotype.normal
        self.inputs = [src for _, src in cell]
        self.ops = nn.ModuleList(operation(op, c, 2 if reduction and src < 2 else 1, domain) for op, src in cell)
        self.drop_prob = 0.0

    def _drop_path(self, x: torch.Tensor, op: nn.Module) -> torch.Tensor:
        if not self.training or self.drop_prob == 0.0 or isinstance(op, nn.Identity):
            return x
        keep = 1.0 - self.drop_prob
        mask = torch.bernoulli(torch.full((x.shape[0], 1, 1, 1), keep, device=x.device))
        return x * mask / keep

    def forward(self, s0: torch.Tensor, s1: torch.Tensor) -> torch.Tensor:
        states = [self.pre0(s0), self.pre1(s1)]
        for k in range(STEPS):
            node = 0
            for e in (2 * k, 2 * k + 1):
                op = self.ops[e]
                node = node + self._drop_path(op(states[self.inputs[e]]), op)
            states.append(node)
        return torch.cat(states[2:], dim=1)


class _EvalNetwork(nn.Module):
    """Stacked :class:`EvalCell`s after a given stem; ``drop_path_prob`` applies to every cell."""

    def __init__(self, stem: nn.Module, c_stem: int, c: int, num_classes: int, layers: int, genotype: Genotype,
                 domain: Domain, reduction_prev: bool):
        super().__init__()
        self.domain = domain
        self.genotype = genotype
        self.stem = stem
        c_pp, c_p, c_curr = c_stem, c_stem, c
        self.cells = nn.ModuleList()
        for layer in range(layers):
            reduction = layer in _reductions(layers)
            c_curr = c_curr * 2 if reduction else c_curr
            self.cells.append(EvalCell(genotype, c_pp, c_p, c_curr, reduction, reduction_prev, domain))
            reduction_prev = reduction
            c_pp, c_p = c_p, STEPS * c_curr
        self.classifier = _Classifier(c_p, num_classes, domain)

    @property
    def drop_path_prob(self) -> float:
        return self.cells[0].drop_prob

    @drop_path_prob.setter
    def drop_path_prob(self, p: float) -> None:
        for cell in self.cells:
            cell.drop_prob = p

    def stem_states(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        s = self.stem(x)
        return s, s

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s0, s1 = self.stem_states(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1)
        return self.classifier(s1)


class NetworkCIFAR(_EvalNetwork):
    """The CIFAR-style evaluation network (Sec. 5.1: 20 cells, 18 normal + 2 reduction, C = 36)."""

    def __init__(self, c: int = 36, num_classes: int = 10, layers: int = 20,
                 genotype: Genotype = PAPER_GENOTYPES["cifar10"], in_channels: int = 3,
                 domain: Domain = "shift", stem_multiplier: int = 3):
        check_domain(domain)
        c_stem = stem_multiplier * c
        super().__init__(_stem(in_channels, c_stem, domain), c_stem, c, num_classes, layers, genotype, domain,
                         reduction_prev=False)


class _ImageNetStems(nn.Module):
    """The ImageNet-mobile stems: 224 -> 56 (stem0, two stride-2 convs) -> 28 (stem1)."""

    def __init__(self, c: int, domain: Domain):
        super().__init__()
        self.stem0 = nn.Sequential(
            conv(3, c // 2, 3, stride=2, padding=1, domain=domain), nn.BatchNorm2d(c // 2), nn.ReLU(inplace=True),
            conv(c // 2, c, 3, stride=2, padding=1, domain=domain), nn.BatchNorm2d(c))
        self.stem1 = nn.Sequential(nn.ReLU(inplace=True), conv(c, c, 3, stride=2, padding=1, domain=domain),
                                   nn.BatchNorm2d(c))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        s0 = self.stem0(x)
        return s0, self.stem1(s0)


class NetworkImageNet(_EvalNetwork):
    """The ImageNet-mobile evaluation network (Sec. 5.2: 224x224 input, 14 cells, C = 46), built
    from the CIFAR-10 cell (Table 5) by default."""

    def __init__(self, c: int = 46, num_classes: int = 1000, layers: int = 14,
                 genotype: Genotype = PAPER_GENOTYPES["cifar10"], domain: Domain = "shift"):
        check_domain(domain)
        super().__init__(_ImageNetStems(c, domain), c, c, num_classes, layers, genotype, domain,
                         reduction_prev=True)

    def stem_states(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.stem(x)
