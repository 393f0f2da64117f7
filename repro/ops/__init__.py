"""Operators of ShiftAddNAS: Conv, Attn, Shift (DeepShift), Add (AdderNet), multi-branch blocks, heterogeneous weight sharing.

Modules: :mod:`~repro.ops.shift`, :mod:`~repro.ops.adder`, :mod:`~repro.ops.attention`,
:mod:`~repro.ops.blocks`, :mod:`~repro.ops.weight_sharing`.
"""
