"""Latency predictor (ShiftAddNAS Sec. 4.1, after HAT): a three-layer MLP on the architecture encoding.

It is trained on (``space.encode(config)``, latency) pairs, where the latencies come from the cost
model (or measurements) of sampled subnets, and replaces the slow cost model inside the search.
The paper reports an average prediction error under 5%; :meth:`LatencyPredictor.mape` measures ours
on held-out subnets.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from repro.spaces.base import Config, SearchSpace
from repro.train import engine


@dataclass(frozen=True)
class PredictorSettings:
    """MLP size and training recipe (HAT: 3 layers, 400 hidden units)."""
    hidden: int = 400
    layers: int = 3
    epochs: int = 300
    lr: float = 1e-3
    batch_size: int = 64

    def __post_init__(self) -> None:
        for name in ("hidden", "layers", "epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"PredictorSettings.{name} must be >= 1, got {getattr(self, name)}")
        if self.lr <= 0:
            raise ValueError(f"PredictorSettings.lr must be > 0, got {self.lr}")


class LatencyPredictor:
    """An MLP from ``space.encode(config)`` to latency; targets are scaled by their training mean."""

    def __init__(self, space: SearchSpace, settings: PredictorSettings = PredictorSettings(), seed: int = 0):
        self.space, self.settings, self.seed = space, settings, seed
        torch.manual_seed(seed)
        width = len(space.encode(space.sample(random.Random(seed))))
        dims = [width] + [settings.hidden] * (settings.layers - 1)
        mods: list[nn.Module] = []
        for a, b in zip(dims[:-1], dims[1:]):
            mods += [nn.Linear(a, b), nn.ReLU()]
        self.mlp = nn.Sequential(*mods, nn.Linear(dims[-1], 1))
        self.scale = 1.0

    def _features(self, configs: Sequence[Config]) -> torch.Tensor:
        return torch.tensor([self.space.encode(c) for c in configs], dtype=torch.float32)

    def fit(self, configs: Sequence[Config], latencies: Sequence[float]) -> list[float]:
        """Train on the pairs (MSE on mean-scaled targets, Adam); returns the per-epoch training loss."""
        if len(configs) != len(latencies) or not configs:
            raise ValueError(f"need as many latencies as configs (> 0), got {len(configs)} and {len(latencies)}")
        x = self._features(configs)
        y = torch.tensor(latencies, dtype=torch.float32)
        self.scale = float(y.mean())
        y = y / self.scale
        size = self.settings.batch_size
        per_epoch = -(-len(x) // size)

        def batches():  # epoch after epoch, a fresh seeded permutation each
            gen = torch.Generator().manual_seed(self.seed)
            for _ in range(self.settings.epochs):
                perm = torch.randperm(len(x), generator=gen)
                for i in range(0, len(x), size):
                    yield x[perm[i:i + size]], y[perm[i:i + size]]

        opt = torch.optim.Adam(self.mlp.parameters(), lr=self.settings.lr)
        res = engine.run(self.mlp, opt, batches, lambda m, b: nn.functional.mse_loss(m(b[0]).squeeze(1), b[1]),
                         engine.RunConfig(steps=self.settings.epochs * per_epoch, device="cpu", seed=None,
                                          ckpt_every=self.settings.epochs * per_epoch, desc="latency predictor"))
        counts = [min(size, len(x) - i) for i in range(0, len(x), size)]
        history = [sum(loss * n for loss, n in zip(res.losses[e * per_epoch:(e + 1) * per_epoch], counts)) / len(x)
                   for e in range(self.settings.epochs)]
        self.mlp.eval()
        return history

    @torch.no_grad()
    def predict(self, configs: Sequence[Config]) -> np.ndarray:
        return self.mlp(self._features(configs)).squeeze(1).numpy() * self.scale

    def mape(self, configs: Sequence[Config], latencies: Sequence[float]) -> float:
        """Mean absolute percentage error (in %) on these configs."""
        truth = np.asarray(latencies, dtype=float)
        return float(np.mean(np.abs(self.predict(configs) - truth) / np.abs(truth)) * 100.0)


def sample_latencies(space: SearchSpace, latency: Callable[[Config], float], n: int,
                     seed: int = 0) -> tuple[list[Config], list[float]]:
    """``n`` distinct uniformly sampled configs and their latencies (cost model or measurement)."""
    rng = random.Random(seed)
    configs: dict[str, Config] = {}
    for _ in range(100 * n):
        cfg = space.sample(rng)
        configs.setdefault(repr(cfg), cfg)
        if len(configs) == n:
            break
    chosen = list(configs.values())
    return chosen, [float(latency(c)) for c in tqdm(chosen, desc="latency samples", leave=False)]
