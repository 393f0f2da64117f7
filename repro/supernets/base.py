"""The supernet contract every supernet implements (as once-for-all's and HAT's supernets do).

* ``set_active_subnet(config)`` — run the subnet ``config`` of :attr:`space` on the shared weights;
* ``sample_active_subnet(rng)`` — draw a config uniformly per decision from :attr:`space`, activate it
  and return it (one-shot training, Eq. 3 of ShiftAddNAS);
* ``export(config) -> nn.Module`` — a standalone network holding the weights ``config`` inherits,
  whose output equals the supernet's with ``config`` active (tested for every supernet);
* ``regularization_loss()`` — a term the trainer adds to the loss (the KL terms of ShiftAddNAS Eq. 5;
  zero by default).
"""
from __future__ import annotations

import random

import torch
from torch import nn

from repro.spaces.base import Config, SearchSpace


class Supernet:
    """Mixin of the contract; the class also derives from :class:`torch.nn.Module`."""

    space: SearchSpace

    def set_active_subnet(self, config: Config) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement set_active_subnet(config)")

    def sample_active_subnet(self, rng: random.Random) -> Config:
        """Draw a config from the space, activate it and return it."""
        config = self.space.sample(rng)
        self.set_active_subnet(config)
        return config

    def export(self, config: Config) -> nn.Module:
        raise NotImplementedError(f"{type(self).__name__} must implement export(config)")

    def regularization_loss(self) -> torch.Tensor:
        """Zero: no regulariser unless the supernet defines one."""
        return torch.zeros(())
