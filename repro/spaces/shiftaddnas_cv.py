"""The ShiftAddNAS CV search space (Table 2): a multi-resolution stack of Attn / Conv / Add / Shift blocks.

A config is ``{"stages": [[code, ...], ...]}``: one list per stage (56²x128, 28²x256, 14²x512, 7²x1024
at paper scale), its length the stage's depth, each entry a block type code as in the released
encoding of Fig. 8: 0 Attn, 1 Conv, 2 Add, 3 Shift. The paper's searched model is
``{"stages": [[1, 1], [1, 1, 1, 1], [3, 1, 0, 2, 2], [0, 0, 1, 0, 0]]}``.

Resolution: the transition into every stage after the first halves it (stride 2), every other layer
keeps it (Sec. 3.1, "each layer can either stay unchanged or be reduced to half"); a space may keep a
stage's resolution (ShiftAddNAS-T1 keeps the last, after BossNAS).
``SCALES`` holds the paper's dimensions and the shrunken ones the CPU profiles use on 28x28 inputs:
the same four stages and block types at 1/2, 1/4, 1/8, 1/16 of the input (paper: 1/4 ... 1/32), with
narrower channels and fewer blocks.

Blocks (``CVSpaceDims.block``): at paper scale the Conv / Add / Shift layers are ResNet bottlenecks
(1x1, 3x3, 1x1 with expansion 4) and an Attn layer is a bottleneck whose 3x3 is 64-dim-head
self-attention with a depthwise position encoding, after a ResNet stem (7x7 stride 2, max-pool), as the
released models (``CV/retraining_hybrid/boss_models.py``: timm ResNet bottlenecks, ``ResAtt`` with heads
1, 2, 4, 8 of width 64). The stage widths are Table 2's (block outputs 128 ... 1024), those of the
released *search* supernet (``hytra_supernet_ws_dist.py``); the released retraining builds the searched
subnet at twice these widths (ResNet-50's, outputs 256 ... 2048: ``CVSpaceDims.retrain_width``,
:meth:`CVSpaceDims.retrained`), and at those the subnet of Fig. 8 is the network of Table 4 (30M
parameters, 3.7G MACs; ours 28.5M and 3.68G: ``tests/test_cv_supernet.py``). Deviations
from the released blocks: a stage's resolution and width change in a transition of its own (a 2x2
average pool and a 1x1 projection, the released ``avg_down`` shortcut) before its first block rather
than inside it; no squeeze-excitation, ReLU rather than SiLU. The reduced scales keep
ResNet basic blocks (two 3x3 layers, 3x3 stride-2 transitions): a bottleneck at 8-128 channels would
leave 2-32 channels inside.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, replace

from repro.registry import register
from repro.spaces.base import Config, InvalidConfig, SearchSpace

BLOCK_TYPES: tuple[str, ...] = ("Attn", "Conv", "Add", "Shift")  # index = code of the released encoding
BLOCK_STYLES: tuple[str, ...] = ("basic", "bottleneck")
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

    ``stem_stride``: the stem's stride (224 / 4 = 56 at paper scale, 1 on 28x28 inputs): a patchify
    convolution, or with ``resnet_stem`` the ResNet stem (7x7 stride-2 convolution to 64 channels,
    3x3 stride-2 max-pool; needs ``stem_stride`` 4).
    ``block``: ``"basic"`` (two 3x3 layers per Conv / Add / Shift block; Attn with a two-layer MLP of
    ``mlp_ratio``) or ``"bottleneck"`` (1x1, 3x3, 1x1 at ``channels // expansion`` inside; Attn in the
    middle of the same 1x1 pair, no MLP).
    ``heads``: attention heads of an Attn block, or with ``head_dim`` > 0 as many heads of that width as
    fit (at least one).
    ``retrain_width``: the width multiplier at which a searched subnet is retrained (:meth:`retrained`).
    """
    input_size: int
    in_channels: int
    num_classes: int
    stem_stride: int
    stages: tuple[Stage, ...]
    heads: int
    mlp_ratio: int = 4
    block: str = "basic"
    expansion: int = 4
    head_dim: int = 0
    resnet_stem: bool = False
    retrain_width: int = 1

    def __post_init__(self) -> None:
        if self.block not in BLOCK_STYLES:
            raise ValueError(f"unknown block style {self.block!r}; valid: {', '.join(BLOCK_STYLES)}")
        if self.resnet_stem and self.stem_stride != 4:
            raise ValueError(f"the ResNet stem has stride 4, got stem_stride={self.stem_stride}")
        side = self.input_size // self.stem_stride
        for i, st in enumerate(self.stages):
            valid = (side,) if i == 0 else (side, (side + 1) // 2)
            if st.resolution not in valid:
                raise ValueError(f"stage {i} resolution {st.resolution} is not in {valid}: the input size "
                                 f"{self.input_size} and stem stride {self.stem_stride} set the first stage's, "
                                 "every later stage keeps or halves the one before")
            if self.block == "bottleneck" and st.channels % self.expansion:
                raise ValueError(f"stage {i}: expansion {self.expansion} must divide {st.channels} channels")
            width, heads = self.attn_width(st.channels), self.attn_heads(st.channels)
            if heads < 1 or width % heads:
                raise ValueError(f"stage {i}: {heads} heads do not divide the attention width {width}")
            side = st.resolution

    @property
    def stem_channels(self) -> int:
        """Channels out of the stem (64 for the ResNet stem, else the first stage's)."""
        return 64 if self.resnet_stem else self.stages[0].channels

    def local_layers(self, channels: int) -> tuple[tuple[int, int, int], ...]:
        """``(in, out, kernel)`` of each layer of a Conv / Add / Shift block in a stage of ``channels``."""
        if self.block == "basic":
            return ((channels, channels, 3), (channels, channels, 3))
        mid = channels // self.expansion
        return ((channels, mid, 1), (mid, mid, 3), (mid, channels, 1))

    def attn_width(self, channels: int) -> int:
        """The width attention runs at in a stage of ``channels`` (the bottleneck's inside)."""
        return channels if self.block == "basic" else channels // self.expansion

    def attn_heads(self, channels: int) -> int:
        """Attention heads of an Attn block in a stage of ``channels``."""
        return max(1, self.attn_width(channels) // self.head_dim) if self.head_dim else self.heads

    def retrained(self) -> "CVSpaceDims":
        """These dimensions with every stage ``retrain_width`` times wider: the network a searched subnet
        is retrained as (the released retraining's ResNet-50 widths at paper scale)."""
        stages = tuple(replace(st, channels=st.channels * self.retrain_width) for st in self.stages)
        return replace(self, stages=stages, retrain_width=1)


def _stages(channels: tuple[int, ...], depths: tuple[tuple[int, ...], ...], first: int) -> tuple[Stage, ...]:
    sides = [first]
    for _ in channels[1:]:
        sides.append((sides[-1] + 1) // 2)
    return tuple(Stage(r, c, d) for r, c, d in zip(sides, channels, depths))


SCALES: dict[str, CVSpaceDims] = {
    "paper": CVSpaceDims(224, 3, 1000, 4, _stages((128, 256, 512, 1024),
                                                  ((1, 2, 3, 4), (1, 2, 3, 4), (3, 4, 5, 6, 7),
                                                   (4, 5, 6, 7, 8, 9)), 56), heads=4, block="bottleneck",
                         head_dim=64, resnet_stem=True, retrain_width=2),
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

        Counts the layers of :mod:`repro.supernets.shiftaddnas_cv`: the stem, the projection after a
        ResNet stem, the stride-2 transitions, the blocks (Conv / Add / Shift: their
        :meth:`CVSpaceDims.local_layers`; Attn: q, k, v, output projections, the two attention matmuls,
        the depthwise 3x3 position encoding, and the two-layer MLP or the bottleneck's 1x1 pair) and the
        classifier. Normalisation, activations, pooling and residual additions are not counted (the usual
        convention).
        """
        self.validate(config)
        d = self.dims
        c0, side = d.stages[0].channels, d.stages[0].resolution
        if d.resnet_stem:
            total = d.in_channels * 64 * 49 * (2 * side) ** 2 + 64 * c0 * side ** 2
        else:
            total = d.in_channels * c0 * (d.stem_stride ** 2 if d.stem_stride > 1 else 9) * side ** 2
        prev = c0
        for i, (st, layers) in enumerate(zip(d.stages, config["stages"])):
            hw = st.resolution ** 2
            if i:
                total += prev * st.channels * (9 if d.block == "basic" else 1) * hw
            for code in layers:
                total += block_macs(d, BLOCK_TYPES[code], st.channels, hw)
            prev = st.channels
        return total + prev * d.num_classes


def block_macs(dims: CVSpaceDims, block: str, channels: int, hw: int) -> int:
    """MACs of one block on an ``hw``-pixel map with ``channels`` channels (see :meth:`ShiftAddNASCVSpace.macs`)."""
    if block != "Attn":
        return sum(cin * cout * k * k * hw for cin, cout, k in dims.local_layers(channels))
    w = dims.attn_width(channels)
    attention = 4 * w * w * hw + 2 * hw * hw * w + 9 * w * hw
    if dims.block == "basic":
        return attention + 2 * dims.mlp_ratio * channels * channels * hw
    return attention + 2 * channels * w * hw
