"""Argument checks shared by the operators: clear errors that name the valid choices."""
from __future__ import annotations

from typing import Iterable

import torch


def check_choice(name: str, value: object, valid: Iterable[object]) -> None:
    """Raise ``ValueError`` unless ``value`` is one of ``valid``."""
    valid = tuple(valid)
    if value not in valid:
        raise ValueError(f"unknown {name} {value!r}; valid choices: {', '.join(map(repr, valid))}")


def check_positive(**values: int) -> None:
    """Raise ``ValueError`` for any count that is not a positive integer."""
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")


def check_conv_args(in_channels: int, out_channels: int, kernel_size: int, stride: int, padding: int,
                    dilation: int, groups: int) -> None:
    """Validate the arguments of a square 2-D convolution-like layer."""
    check_positive(in_channels=in_channels, out_channels=out_channels, kernel_size=kernel_size,
                   stride=stride, dilation=dilation, groups=groups)
    if isinstance(padding, bool) or not isinstance(padding, int) or padding < 0:
        raise ValueError(f"padding must be a non-negative integer, got {padding!r}")
    if in_channels % groups or out_channels % groups:
        raise ValueError(f"groups={groups} must divide in_channels={in_channels} and out_channels={out_channels}")


def check_input(x: torch.Tensor, channels: int, what: str, *, ndim: int | None = None, dim: int = 1) -> None:
    """Raise ``ValueError`` unless ``x`` has ``ndim`` dimensions (if given) and ``channels`` in dimension ``dim``."""
    if ndim is not None and x.dim() != ndim:
        raise ValueError(f"{what} expects a {ndim}-D input, got shape {tuple(x.shape)}")
    if x.dim() == 0 or x.shape[dim] != channels:
        raise ValueError(f"{what} expects {channels} channels/features in dimension {dim}, got shape {tuple(x.shape)}")
