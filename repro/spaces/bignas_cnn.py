"""A small BigNAS-style CNN space (Yu et al. 2020), as ShiftNAS-PS searches it (Sec. 4.1): per stage
a width and a depth, per block a kernel size. Weights are entangled: a narrower stage keeps the first
channels, a shallower stage the first blocks, a smaller kernel the centre of the largest one.

A stem (3 x 3 convolution, fixed width) is followed by stages; the first block of every stage but the
first halves the resolution and has no residual path, the other blocks are residual. Every block is
convolution, batch norm (batch statistics) and ReLU; global average pooling and a linear classifier
close the network. A config is ``{"width": [w per stage], "depth": [d per stage],
"kernel": [[k per block] per stage]}``.

FLOPs are multiply-accumulates of the convolutions and the classifier (as in the paper's CNN rows);
:meth:`CNNSpace.flops_from_policies` evaluates the same count on generator policies (Eq. 10).
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any, Sequence

from repro.registry import register
from repro.spaces.autoformer import Decision
from repro.spaces.masks import depth_masks
from repro.spaces.base import Config, InvalidConfig, SearchSpace


@register("space", "bignas-cnn")
@dataclass(frozen=True)
class CNNSpace(SearchSpace):
    """Per-stage width choices, the depth choices (every stage), the kernel choices (every block)."""
    name: str
    widths: tuple[tuple[int, ...], ...]
    depths: tuple[int, ...]
    kernels: tuple[int, ...] = (3, 5)
    stem: int = 8
    img_size: int = 28
    in_chans: int = 1
    num_classes: int = 10

    def __post_init__(self) -> None:
        if len({len(w) for w in self.widths}) != 1:
            raise ValueError(f"every stage needs the same number of width choices, got {self.widths}")
        for name, values in [("depths", self.depths), ("kernels", self.kernels), *(
                (f"widths[{s}]", w) for s, w in enumerate(self.widths))]:
            if not values or list(values) != sorted(values) or min(values) <= 0:
                raise ValueError(f"{self.name}: {name} must be positive and increasing, got {values}")
        if any(k % 2 == 0 for k in self.kernels):
            raise ValueError(f"kernel sizes must be odd, got {self.kernels}")

    @property
    def stages(self) -> int:
        return len(self.widths)

    @property
    def max_depth(self) -> int:
        return self.depths[-1]

    def side(self, stage: int) -> int:
        """Feature-map side of a stage (the stem keeps the input size, each later stage halves it)."""
        return math.ceil(self.img_size / 2 ** stage)

    def largest(self) -> Config:
        return {"width": [w[-1] for w in self.widths], "depth": [self.max_depth] * self.stages,
                "kernel": [[self.kernels[-1]] * self.max_depth for _ in self.widths]}

    def smallest(self) -> Config:
        d = self.depths[0]
        return {"width": [w[0] for w in self.widths], "depth": [d] * self.stages,
                "kernel": [[self.kernels[0]] * d for _ in self.widths]}

    # SearchSpace
    def sample(self, rng: random.Random) -> Config:
        depth = [rng.choice(self.depths) for _ in self.widths]
        return {"width": [rng.choice(w) for w in self.widths], "depth": depth,
                "kernel": [[rng.choice(self.kernels) for _ in range(d)] for d in depth]}

    def mutate(self, config: Config, prob: float, rng: random.Random) -> Config:
        self.validate(config)

        def pick(old: Any, options: Sequence) -> Any:
            return rng.choice(options) if rng.random() < prob else old
        depth = [pick(d, self.depths) for d in config["depth"]]
        kernel = [[pick(ks[b], self.kernels) if b < len(ks) else rng.choice(self.kernels) for b in range(d)]
                  for ks, d in zip(config["kernel"], depth)]
        return {"width": [pick(w, ch) for w, ch in zip(config["width"], self.widths)], "depth": depth, "kernel": kernel}

    def crossover(self, a: Config, b: Config, rng: random.Random) -> Config:
        self.validate(a)
        self.validate(b)
        depth = [rng.choice(pair) for pair in zip(a["depth"], b["depth"])]
        kernel = [[rng.choice([c["kernel"][s][i] for c in (a, b) if i < c["depth"][s]]) for i in range(d)]
                  for s, d in enumerate(depth)]
        return {"width": [rng.choice(pair) for pair in zip(a["width"], b["width"])], "depth": depth, "kernel": kernel}

    def encode(self, config: Config) -> list[float]:
        """Widths, depths, then the kernel of every block slot (0 where the block is skipped)."""
        self.validate(config)
        kernels = [float(ks[b]) if b < len(ks) else 0.0 for ks in config["kernel"] for b in range(self.max_depth)]
        return [float(w) for w in config["width"]] + [float(d) for d in config["depth"]] + kernels

    def validate(self, config: Config) -> None:
        keys = {"width", "depth", "kernel"}
        if not isinstance(config, dict) or set(config) != keys:
            raise InvalidConfig(f"a {self.name} config has exactly the keys {sorted(keys)}, got {config!r}")
        if not all(len(config[k]) == self.stages for k in keys):
            raise InvalidConfig(f"width, depth and kernel need one entry per stage ({self.stages})")
        for s, (w, d, ks) in enumerate(zip(config["width"], config["depth"], config["kernel"])):
            if w not in self.widths[s]:
                raise InvalidConfig(f"stage {s} width {w} not in {self.widths[s]}")
            if d not in self.depths:
                raise InvalidConfig(f"stage {s} depth {d} not in {self.depths}")
            if len(ks) != d or any(k not in self.kernels for k in ks):
                raise InvalidConfig(f"stage {s} needs {d} kernels from {self.kernels}, got {ks}")

    def size(self) -> int:
        per_stage = len(self.widths[0]) * sum(len(self.kernels) ** d for d in self.depths)
        return per_stage ** self.stages

    # the architecture generator's view: width and depth stage-wise, kernel block-wise (Sec. 4.1)
    def decisions(self) -> list[Decision]:
        steps: list[Decision] = []
        for s, w in enumerate(self.widths):
            steps += [(f"width.{s}", "width", w), (f"depth.{s}", "depth", self.depths)]
            steps += [(f"kernel.{s}.{b}", "kernel", self.kernels) for b in range(self.max_depth)]
        return steps

    def config_from_indices(self, index: dict[str, int]) -> Config:
        depth = [self.depths[index[f"depth.{s}"]] for s in range(self.stages)]
        return {"width": [w[index[f"width.{s}"]] for s, w in enumerate(self.widths)], "depth": depth,
                "kernel": [[self.kernels[index[f"kernel.{s}.{b}"]] for b in range(d)] for s, d in enumerate(depth)]}

    # cost
    def flops(self, config: Config) -> float:
        """Exact multiply-accumulates of one image through the subnet."""
        self.validate(config)
        gates = [[1.0 if b < d else 0.0 for b in range(self.max_depth)] for d in config["depth"]]
        ksq = [[float(ks[b] ** 2) if b < len(ks) else 0.0 for b in range(self.max_depth)] for ks in config["kernel"]]
        return float(self._macs(config["width"], gates, ksq))

    def flops_from_policies(self, policies: dict[str, Any]) -> Any:
        """The same count with every width, gate and squared kernel replaced by ``policy . choices``."""
        import torch

        ref = policies["width.0"]
        ksq = torch.tensor([k * k for k in self.kernels], dtype=ref.dtype)
        masks = depth_masks(self.depths, dtype=ref.dtype)
        widths = [policies[f"width.{s}"] @ torch.tensor(w, dtype=ref.dtype) for s, w in enumerate(self.widths)]
        gates = [list((policies[f"depth.{s}"] @ masks).unbind(-1)) for s in range(self.stages)]
        kernels = [[policies[f"kernel.{s}.{b}"] @ ksq for b in range(self.max_depth)] for s in range(self.stages)]
        return self._macs(widths, gates, kernels)

    def _macs(self, widths: Sequence[Any], gates: Sequence[Sequence[Any]], ksq: Sequence[Sequence[Any]]) -> Any:
        total = self.side(0) ** 2 * 9 * self.in_chans * self.stem + widths[-1] * self.num_classes
        c_in = self.stem
        for s, w in enumerate(widths):
            for b in range(self.max_depth):
                total = total + gates[s][b] * self.side(s) ** 2 * ksq[s][b] * (c_in if b == 0 else w) * w
            c_in = w
        return total

    def params(self, config: Config) -> int:
        """Convolution weights (no bias), batch-norm scales and shifts, the classifier."""
        self.validate(config)
        total = 9 * self.in_chans * self.stem + 2 * self.stem + (config["width"][-1] + 1) * self.num_classes
        c_in = self.stem
        for w, ks in zip(config["width"], config["kernel"]):
            for b, k in enumerate(ks):
                total += k * k * (c_in if b == 0 else w) * w + 2 * w
            c_in = w
        return total


SPACES: dict[str, CNNSpace] = {
    "cnn-fashion": CNNSpace("CNN-fashion", ((4, 6, 8), (8, 12, 16), (16, 24, 32)), (1, 2, 3)),
}


def get_space(name: str) -> CNNSpace:
    """A CNN space by name; an unknown name lists the valid ones."""
    if name not in SPACES:
        raise KeyError(f"unknown CNN space {name!r}; valid: {list(SPACES)}")
    return SPACES[name]
