"""Operators of ShiftAddNAS: Conv, Attn, Shift (DeepShift), Add (AdderNet), multi-branch blocks, heterogeneous weight sharing.

Modules: :mod:`~repro.ops.shift`, :mod:`~repro.ops.adder`, :mod:`~repro.ops.attention`,
:mod:`~repro.ops.blocks`, :mod:`~repro.ops.weight_sharing`; their layers are public names here.
"""
from repro.ops.adder import Adder2d, AdderLinear
from repro.ops.attention import Attention2d, MultiHeadSelfAttention
from repro.ops.blocks import LocalBranch, MultiBranchBlock, make_block
from repro.ops.shift import ShiftConv2d, ShiftLinear
from repro.ops.weight_sharing import ReleasedTransformationKernel, SharedConv2d, TransformationKernel

__all__ = ["Adder2d", "AdderLinear", "Attention2d", "LocalBranch", "MultiBranchBlock", "MultiHeadSelfAttention",
           "ReleasedTransformationKernel", "SharedConv2d", "ShiftConv2d", "ShiftLinear", "TransformationKernel",
           "make_block"]
