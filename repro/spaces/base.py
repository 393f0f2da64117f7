"""The small interface every search space implements (after Archai): sample, mutate, crossover,
encode, validate, size. A config is a plain ``dict`` of choice name -> value (lists for per-layer
choices), so it can be hashed, stored in JSON and passed to ``supernet.set_active_subnet``.
"""
from __future__ import annotations

import random
from abc import ABC, abstractmethod
from typing import Any

Config = dict[str, Any]


class InvalidConfig(ValueError):
    """A config with an unknown key or a choice outside the space; the message names the valid ones."""


class SearchSpace(ABC):
    """A finite space of architectures."""

    @abstractmethod
    def sample(self, rng: random.Random) -> Config:
        """A config drawn uniformly per decision."""

    @abstractmethod
    def mutate(self, config: Config, prob: float, rng: random.Random) -> Config:
        """A copy with each decision resampled with probability ``prob``."""

    @abstractmethod
    def crossover(self, a: Config, b: Config, rng: random.Random) -> Config:
        """A child taking each decision from ``a`` or ``b`` with equal probability (and kept valid)."""

    @abstractmethod
    def encode(self, config: Config) -> list[float]:
        """A fixed-length numeric vector (for predictors)."""

    @abstractmethod
    def validate(self, config: Config) -> None:
        """Raise :class:`InvalidConfig` naming the valid choices if ``config`` is not in the space."""

    @abstractmethod
    def size(self) -> int:
        """The number of distinct configs (exact integer)."""
