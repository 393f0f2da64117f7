"""Eq. 9's prefix-mask matrices of ShiftNAS-PS: a one-hot policy ``p`` over the choices of one
decision selects its mask ``p @ M`` over the entangled weight units (heads, channels, layers).

The one module for these masks: spaces use them for the differentiable FLOPs of Eq. 10, supernets
to mask their weights, the architecture generator emits the policies. Torch is imported on use, so
that the spaces stay importable without it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    import torch

#: One-hot policies ``{decision name: (batch, choices)}`` (or ``(choices,)`` for one subnet).
Policies = dict[str, "torch.Tensor"]


def prefix_masks(sizes: Sequence[int], length: int, dtype: "torch.dtype | None" = None) -> "torch.Tensor":
    """Eq. 9's matrix ``M``: row ``i`` keeps the first ``sizes[i]`` of ``length`` units.

    Heads choosable in (1, 2, 3) give ``[[1,0,0],[1,1,0],[1,1,1]]``; ``p @ M`` is the mask of a policy.
    """
    import torch

    if max(sizes) > length or min(sizes) < 0:
        raise ValueError(f"sizes {list(sizes)} must lie in 0..{length}")
    return (torch.arange(length)[None, :] < torch.tensor(sizes)[:, None]).to(dtype or torch.get_default_dtype())


def depth_masks(depths: Sequence[int], dtype: "torch.dtype | None" = None) -> "torch.Tensor":
    """The depth decision's masks: row ``i`` gates layers ``0 .. depths[i]-1`` of ``max(depths)``."""
    return prefix_masks(depths, max(depths), dtype)
