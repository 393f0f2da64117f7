"""Elastic layers of the weight-entangled supernets: Linear, LayerNorm and Conv2d with front slices.

A subnet uses the front slices of the largest weights (AutoFormer, BigNAS, HAT; ShiftNAS-PS Sec. 3.3):
the first output channels over the input's channels, the centred ``k x k`` window of the largest
kernel. Each layer has two forms besides its ordinary forward (the largest layer):

- ``sliced``: the subnet layer on sliced weights;
- ``masked``: the largest layer under Eq. 9's masks ``p' = M p`` (a channel mask for the layer norm,
  a kernel mask for the convolution), the differentiable route of the architecture generator. On 0/1
  prefix masks it equals ``sliced`` padded with zeros.

The classes subclass the ``torch.nn`` layers, so parameters, state_dict keys, initialisation and
cost-counting formulas are those of the plain layers. The elastic forms are methods, not
``forward``: their matmuls and convolutions are counted at the dispatcher on the sliced shapes
(:mod:`repro.cost.counting`), not by the plain layer's formula on the full weight.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def kernel_masks(kernels: tuple[int, ...]) -> Tensor:
    """Row ``i``: the centred ``k_i x k_i`` window inside the largest kernel (the masks M of Eq. 9)."""
    kmax = max(kernels)
    out = torch.zeros(len(kernels), kmax, kmax)
    for i, k in enumerate(kernels):
        lo = (kmax - k) // 2
        out[i, lo:lo + k, lo:lo + k] = 1.0
    return out


class ElasticLinear(nn.Linear):
    """A linear layer whose subnets use ``weight[:out, :in]`` and ``bias[:out]``."""

    def sliced(self, x: Tensor, out_features: int | None = None) -> Tensor:
        """The first ``out_features`` outputs (all by default) over the first ``x.shape[-1]`` inputs."""
        bias = None if self.bias is None else self.bias[:out_features]
        return F.linear(x, self.weight[:out_features, : x.shape[-1]], bias)


class ElasticLayerNorm(nn.LayerNorm):
    """A layer norm (elementwise affine, over the last dim) whose subnets normalise the first channels."""

    def sliced(self, x: Tensor) -> Tensor:
        """The layer norm of the first ``x.shape[-1]`` channels."""
        c = x.shape[-1]
        return F.layer_norm(x, (c,), self.weight[:c], self.bias[:c], self.eps)

    def masked(self, x: Tensor, mask: Tensor) -> Tensor:
        """Layer norm over the channels where ``mask`` is on (``sliced`` padded with zeros when it is 0/1)."""
        count = mask.sum()
        mean = (x * mask).sum(-1, keepdim=True) / count
        var = (((x - mean) * mask) ** 2).sum(-1, keepdim=True) / count
        return ((x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias) * mask


class ElasticConv2d(nn.Conv2d):
    """A square-kernel convolution (groups 1, dilation 1, zero padding) whose subnets use the first
    filters over the input's channels and the centred ``k x k`` window of the kernel, padded so the
    output size is that of the largest kernel."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if (self.groups != 1 or self.dilation != (1, 1) or self.padding_mode != "zeros" or isinstance(self.padding, str)
                or self.kernel_size[0] != self.kernel_size[1]):
            raise ValueError("ElasticConv2d supports square kernels, groups=1, dilation=1 and integer zero padding only")

    def sliced_weight(self, out_channels: int | None, in_channels: int, kernel_size: int) -> Tensor:
        """``weight[:out_channels, :in_channels]`` cropped to its centred ``kernel_size x kernel_size`` window."""
        lo = (self.kernel_size[0] - kernel_size) // 2
        return self.weight[:out_channels, :in_channels, lo:lo + kernel_size, lo:lo + kernel_size]

    def sliced(self, x: Tensor, out_channels: int | None = None, kernel_size: int | None = None) -> Tensor:
        """The first ``out_channels`` filters (all by default) over ``x``'s channels, centred ``kernel_size``."""
        full = self.kernel_size[0]
        k = full if kernel_size is None else kernel_size
        bias = None if self.bias is None else self.bias[:out_channels]
        return F.conv2d(x, self.sliced_weight(out_channels, x.shape[1], k), bias, self.stride,
                        self.padding[0] - (full - k) // 2)

    def masked(self, x: Tensor, kernel: Tensor) -> Tensor:
        """The largest convolution with the ``(k, k)`` ``kernel`` mask (a row of :func:`kernel_masks`, or a
        policy-weighted sum of rows) on its weight."""
        return self._conv_forward(x, self.weight * kernel, self.bias)
