"""Operators of ShiftAddNAS: Conv, Attn, Shift (DeepShift), Add (AdderNet), multi-branch blocks, heterogeneous weight sharing."""
