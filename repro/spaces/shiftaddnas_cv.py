"""The ShiftAddNAS CV search space (Table 2): a multi-resolution stack of Attn / Conv / Add / Shift blocks.

A config is ``{"stages": [[code, ...], ...]}``: one list per stage (56²x128, 28²x256, 14²x512, 7²x1024
at paper scale), its length the stage's depth, each entry a block type code as in the released
encoding of Fig. 8: 0 Attn, 1 Conv, 2 Add, 3 Shift. The paper's searched model is
``{"stages": [[1, 1], [1, 1, 1, 1], [3, 1, 0, 2, 2], [0, 0, 1, 0, 0]]}``.

Resolution: the first layer of every stage after the first halves it (a stride-2 transition), every
other layer keeps it (Sec. 3.1, "each layer can either stay unchanged or be reduced to half").
``SCALES`` holds the paper's dimensions and the shrunken ones the CPU profiles use on 28x28 inputs:
the same four stages and block types at 1/2, 1/4, 1/8, 1/16 of the input (paper: 1/4 ... 1/32), with
narrower channels and fewer blocks.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

from repro.registry import register
from repro.spaces.base import Config, InvalidConfig, SearchSpace

BLOCK_TYPES: tuple[str, ...] = ("Attn", "Conv", "Add", "Shift")  # index = code of the released encoding
PAPER_FIG8: Config = {"stages": [[1, 1], [1, 1, 1, 1], [3, 1, 0, 2, 2], [0, 0, 1, 0, 0]]}


@dataclass(frozen=True)
class Stage:
    """One resolution stage: its feature-map side, channels and the depths it may take."""
    resolution: int
    channels: int
    depths: tuple[int, ...]

    def __post_init__(self) -> None:
        if self.resolution < 1 or self.channels < 1 or not self.depths or min(self.depths) < 1:
            raise ValueError(f"invalid stage {self}: resolution, channels and depths must be positive")


@dataclass(frozen=True)
class CVSpaceDims:
    """The dimensions of the space and of the blocks every subnet is built from.

    ``stem_stride``: the stem's patchify stride (224 / 4 = 56 at paper scale, 1 on 28x28 inputs).
    ``heads``: attention heads of an Attn block; ``mlp_ratio``: hidden width of its two-layer MLP.
    """
    input_size: int
    in_channels: int
    num_classes: int
    stem_stride: int
    stages: tuple[Stage, ...]
    heads: int
    mlp_ratio: int = 4

    def __post_init__(self) -> None:
        side = self.input_size // self.stem_stride
        for i, st in enumerate(self.stages):
            if st.resolution != side:
                raise ValueError(f"stage {i} resolution {st.resolution} != {side} implied by the input size "
                                 f"{self.input_size}, stem stride {self.stem_stride} and halving per stage")
            if st.channels % self.heads:
                raise ValueError(f"stage {i}: {self.heads} heads must divide {st.channels} channels")
            side = (side + 1) // 2


def _stages(channels: tuple[int, ...], depths: tuple[tuple[int, ...], ...], first: int) -> tuple[Stage, ...]:
    sides = [first]
    for _ in channels[1:]:
        sides.append((sides[-1] + 1) // 2)
    return tuple(Stage(r, c, d) for r, c, d in zip(sides, channels, depths))


SCALES: dict[str, CVSpaceDims] = {
    "paper": CVSpaceDims(224, 3, 1000, 4, _stages((128, 256, 512, 1024),
                                                  ((1, 2, 3, 4), (1, 2, 3, 4), (3, 4, 5, 6, 7),
                                                   (4, 5, 6, 7, 8, 9)), 56), heads=4),
    "small": CVSpaceDims(28, 1, 10, 2, _stages((16, 32, 64, 128),
                                               ((1, 2), (1, 2), (1, 2, 3), (2, 3, 4)), 14), heads=2),
    "tiny": CVSpaceDims(28, 1, 10, 2, _stages((8, 16, 32, 64),
                                              ((1, 2), (1, 2), (1, 2), (1, 2, 3)), 14), heads=2),
}


def dims_for(scale: str) -> CVSpaceDims:
    """The dimensions of one scale; an unknown scale names the valid ones."""
    if scale not in SCALES:
        raise InvalidConfig(f"unknown CV scale {scale!r}; valid scales: {', '.join(SCALES)}")
    return SCALES[scale]


@register("space", "shiftaddnas-cv")
class ShiftAddNASCVSpace(SearchSpace):
    """Table 2 as an object: per stage a depth, per layer one of four block types."""

    def __init__(self, dims: CVSpaceDims | str = "paper"):
        self.dims = dims_for(dims) if isinstance(dims, str) else dims

    @property
    def stages(self) -> tuple[Stage, ...]:
        return self.dims.stages

    def sample(self, rng: random.Random) -> Config:
        return {"stages": [[rng.randrange(len(BLOCK_TYPES)) for _ in range(rng.choice(st.depths))]
                           for st in self.stages]}

    def mutate(self, config: Config, prob: float, rng: random.Random) -> Config:
        """Each stage's depth, then each layer's type, resampled with probability ``prob`` (AutoFormer)."""
        self.validate(config)
        out = []
        for st, layers in zip(self.stages, config["stages"]):
            layers = list(layers)
            if rng.random() < prob:
                depth = rng.choice(st.depths)
                layers = (layers + [rng.randrange(len(BLOCK_TYPES)) for _ in range(depth)])[:depth]
            out.append([rng.randrange(len(BLOCK_TYPES)) if rng.random() < prob else t for t in layers])
        return {"stages": out}

    def crossover(self, a: Config, b: Config, rng: random.Random) -> Config:
        """Per stage the depth of ``a`` or ``b``; per layer the type of either parent that has the layer."""
        self.validate(a)
        self.validate(b)
        out = []
        for la, lb in zip(a["stages"], b["stages"]):
            depth = len(rng.choice((la, lb)))
            out.append([rng.choice([p[i] for p in (la, lb) if i < len(p)]) for i in range(depth)])
        return {"stages": out}

    def encode(self, config: Config) -> list[float]:
        """One-hot block type per layer slot (all zeros for an absent layer), stage by stage."""
        self.validate(config)
        vec: list[float] = []
        for st, layers in zip(self.stages, config["stages"]):
            for i in range(max(st.depths)):
                vec += [float(i < len(layers) and layers[i] == t) for t in range(len(BLOCK_TYPES))]
        return vec

    def validate(self, config: Config) -> None:
        if not isinstance(config, dict) or set(config) != {"stages"}:
            keys = sorted(config) if isinstance(config, dict) else type(config).__name__
            raise InvalidConfig(f"a CV config is {{'stages': [[codes], ...]}}; got keys {keys}")
        stages = config["stages"]
        if not isinstance(stages, (list, tuple)) or len(stages) != len(self.stages):
            raise InvalidConfig(f"expected {len(self.stages)} stages, got {stages!r}")
        valid = {code: name for code, name in enumerate(BLOCK_TYPES)}
        for i, (st, layers) in enumerate(zip(self.stages, stages)):
            if len(layers) not in st.depths:
                raise InvalidConfig(f"stage {i} ({st.resolution}²x{st.channels}) has {len(layers)} blocks; "
                                    f"valid depths: {list(st.depths)}")
            for j, code in enumerate(layers):
                if isinstance(code, bool) or code not in valid:
                    raise InvalidConfig(f"stage {i} layer {j}: unknown block type {code!r}; valid codes: {valid}")

    def size(self) -> int:
        """Exact count: product over stages of sum over depths d of 4^d (types chosen per layer)."""
        total = 1
        for st in self.stages:
            total *= sum(len(BLOCK_TYPES) ** d for d in st.depths)
        return total

    def describe(self) -> list[dict[str, str]]:
        """The rows of Table 2, read from this space."""
        rows = [{"choice": "Block types", "values": str(list(BLOCK_TYPES))}]
        rows += [{"choice": f"Num. of {st.resolution}²×{st.channels} blocks", "values": str(list(st.depths))}
                 for st in self.stages]
        return rows

    def macs(self, config: Config) -> int:
        """Multiply-, add- or shift-accumulates of one forward pass of a subnet (one image), analytic.

        Counts the layers of :mod:`repro.supernets.shiftaddnas_cv`: the stem, the stride-2 transitions,
        the blocks (Conv / Add / Shift: two 3x3 layers; Attn: q, k, v, output projections, the two
        attention matmuls, the depthwise 3x3 position encoding and the two-layer MLP) and the classifier.
        Normalisation, activations and residual additions are not counted (the usual convention).
        """
        self.validate(config)
        d = self.dims
        c0 = d.stages[0].channels
        side = d.stages[0].resolution
        total = d.in_channels * c0 * d.stem_stride ** 2 * side ** 2 if d.stem_stride > 1 else \
            d.in_channels * c0 * 9 * side ** 2
        prev = c0
        for i, (st, layers) in enumerate(zip(d.stages, config["stages"])):
            hw = st.resolution ** 2
            if i:
                total += prev * st.channels * 9 * hw
            for code in layers:
                total += block_macs(BLOCK_TYPES[code], st.channels, hw, d.mlp_ratio)
            prev = st.channels
        return total + prev * d.num_classes


def block_macs(block: str, channels: int, hw: int, mlp_ratio: int) -> int:
    """MACs of one block on an ``hw``-pixel map with ``channels`` channels (see :meth:`macs`)."""
    c = channels
    if block == "Attn":
        return 4 * c * c * hw + 2 * hw * hw * c + 9 * c * hw + 2 * mlp_ratio * c * c * hw
    return 2 * 9 * c * c * hw
