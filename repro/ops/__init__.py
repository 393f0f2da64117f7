"""Operators of ShiftAddNAS: Conv, Attn, Shift (DeepShift), Add (AdderNet), multi-branch blocks, heterogeneous weight sharing;
and the elastic (front-sliced) Linear, LayerNorm and Conv2d of the weight-entangled supernets.

Modules: :mod:`~repro.ops.shift`, :mod:`~repro.ops.adder`, :mod:`~repro.ops.attention`,
:mod:`~repro.ops.blocks`, :mod:`~repro.ops.weight_sharing`, :mod:`~repro.ops.elastic`; their layers are
public names here.
"""
from repro.ops.adder import Adder2d, AdderLinear
from repro.ops.attention import Attention2d, MultiHeadSelfAttention
from repro.ops.blocks import LocalBranch, MultiBranchBlock, make_block
from repro.ops.elastic import ElasticConv2d, ElasticLayerNorm, ElasticLinear
from repro.ops.shift import ShiftConv2d, ShiftLinear
from repro.ops.weight_sharing import ReleasedTransformationKernel, SharedConv2d, TransformationKernel

__all__ = ["Adder2d", "AdderLinear", "Attention2d", "ElasticConv2d", "ElasticLayerNorm", "ElasticLinear",
           "LocalBranch", "MultiBranchBlock", "MultiHeadSelfAttention", "ReleasedTransformationKernel", "SharedConv2d",
           "ShiftConv2d", "ShiftLinear", "TransformationKernel", "make_block"]
