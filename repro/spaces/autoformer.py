"""AutoFormer ViT search spaces (Chen et al. 2021), as searched by ShiftNAS-PS (Sec. 4.1, DESIGN 7).

A subnet picks one embedding dimension and one depth for the whole network, and a number of heads
and an MLP ratio per layer. Weights are entangled: every choice uses the front slice of the largest
weight. The attention of a layer with ``h`` heads has a query/key/value width ``h * head_dim``
(64 at paper scale, as in AutoFormer); the MLP hidden width is ``int(ratio * embed_dim)``.

A config is ``{"embed_dim": int, "depth": int, "num_heads": [int] * depth, "mlp_ratio": [float] * depth}``.

FLOPs are counted as multiply-accumulates of one forward pass (patch embedding, qkv, the two
attention matmuls, projection, MLP, classifier; norms, softmax and activations excluded), the
convention of the DeiT / AutoFormer "FLOPs" the paper's Table 1 lists (DeiT-tiny: 1.26 G here, 1.2
reported). The same formula evaluates exact configs (numbers) and generator policies (tensors): on
one-hot policies it gives the exact FLOPs, which makes Eq. 10's resource loss differentiable.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, replace
from typing import Any, Sequence

from repro.registry import register
from repro.spaces.base import Config, InvalidConfig, SearchSpace
from repro.spaces.masks import depth_masks

Decision = tuple[str, str, tuple]  # (name, kind, choices): one step of the architecture generator


@register("space", "autoformer")
@dataclass(frozen=True)
class ViTSpace(SearchSpace):
    """One AutoFormer space: the choices and the fixed geometry (image, patch, head width, classes)."""
    name: str
    embed_dims: tuple[int, ...]
    depths: tuple[int, ...]
    mlp_ratios: tuple[float, ...]
    num_heads: tuple[int, ...]
    head_dim: int = 64
    img_size: int = 224
    patch_size: int = 16
    in_chans: int = 3
    num_classes: int = 1000

    def __post_init__(self) -> None:
        if self.img_size % self.patch_size:
            raise ValueError(f"patch {self.patch_size} must divide image {self.img_size}")
        for field in ("embed_dims", "depths", "mlp_ratios", "num_heads"):
            values = getattr(self, field)
            if not values or list(values) != sorted(values) or min(values) <= 0:
                raise ValueError(f"{self.name}: {field} must be positive and increasing, got {values}")

    # geometry
    @property
    def tokens(self) -> int:
        """Patches plus the class token (197 at 224 / 16)."""
        return (self.img_size // self.patch_size) ** 2 + 1

    @property
    def max_embed(self) -> int:
        return self.embed_dims[-1]

    @property
    def max_depth(self) -> int:
        return self.depths[-1]

    @property
    def max_heads(self) -> int:
        return self.num_heads[-1]

    @property
    def max_hidden(self) -> int:
        return hidden_width(self.mlp_ratios[-1], self.max_embed)

    def largest(self) -> Config:
        d = self.max_depth
        return {"embed_dim": self.max_embed, "depth": d, "num_heads": [self.max_heads] * d,
                "mlp_ratio": [self.mlp_ratios[-1]] * d}

    def smallest(self) -> Config:
        d = self.depths[0]
        return {"embed_dim": self.embed_dims[0], "depth": d, "num_heads": [self.num_heads[0]] * d,
                "mlp_ratio": [self.mlp_ratios[0]] * d}

    # SearchSpace
    def sample(self, rng: random.Random) -> Config:
        """Eq. 2: every decision drawn uniformly and independently."""
        depth = rng.choice(self.depths)
        return {"embed_dim": rng.choice(self.embed_dims), "depth": depth,
                "num_heads": [rng.choice(self.num_heads) for _ in range(depth)],
                "mlp_ratio": [rng.choice(self.mlp_ratios) for _ in range(depth)]}

    def mutate(self, config: Config, prob: float, rng: random.Random) -> Config:
        self.validate(config)

        def pick(old: Any, options: tuple) -> Any:
            return rng.choice(options) if rng.random() < prob else old

        def layer(key: str, i: int) -> Any:
            options = getattr(self, _CHOICES[key])
            return pick(config[key][i], options) if i < config["depth"] else rng.choice(options)
        depth = pick(config["depth"], self.depths)
        return {"embed_dim": pick(config["embed_dim"], self.embed_dims), "depth": depth,
                "num_heads": [layer("num_heads", i) for i in range(depth)],
                "mlp_ratio": [layer("mlp_ratio", i) for i in range(depth)]}

    def crossover(self, a: Config, b: Config, rng: random.Random) -> Config:
        self.validate(a)
        self.validate(b)
        depth = rng.choice((a["depth"], b["depth"]))

        def layer(key: str, i: int) -> Any:
            options = [c[key][i] for c in (a, b) if i < c["depth"]]
            return rng.choice(options)
        return {"embed_dim": rng.choice((a["embed_dim"], b["embed_dim"])), "depth": depth,
                "num_heads": [layer("num_heads", i) for i in range(depth)],
                "mlp_ratio": [layer("mlp_ratio", i) for i in range(depth)]}

    def encode(self, config: Config) -> list[float]:
        """embed, depth, then heads and ratio per layer, zero-padded to the largest depth."""
        self.validate(config)
        pad = [0.0] * (self.max_depth - config["depth"])
        return ([float(config["embed_dim"]), float(config["depth"])]
                + [float(h) for h in config["num_heads"]] + pad + [float(r) for r in config["mlp_ratio"]] + pad)

    def validate(self, config: Config) -> None:
        keys = {"embed_dim", "depth", "num_heads", "mlp_ratio"}
        if not isinstance(config, dict) or set(config) != keys:
            raise InvalidConfig(f"a {self.name} config has exactly the keys {sorted(keys)}, got {config!r}")
        if config["embed_dim"] not in self.embed_dims:
            raise InvalidConfig(f"embed_dim {config['embed_dim']} not in {self.embed_dims}")
        if config["depth"] not in self.depths:
            raise InvalidConfig(f"depth {config['depth']} not in {self.depths}")
        for key in ("num_heads", "mlp_ratio"):
            values, valid = config[key], getattr(self, _CHOICES[key])
            if len(values) != config["depth"]:
                raise InvalidConfig(f"{key} needs one entry per layer ({config['depth']}), got {len(values)}")
            bad = [v for v in values if v not in valid]
            if bad:
                raise InvalidConfig(f"{key} values {bad} not in {valid}")

    def size(self) -> int:
        per_layer = len(self.num_heads) * len(self.mlp_ratios)
        return len(self.embed_dims) * sum(per_layer ** d for d in self.depths)

    # the architecture generator's view: one decision per searchable dimension (Sec. 4.1)
    def decisions(self) -> list[Decision]:
        """Embed dim and depth once, then heads and MLP ratio per layer (block-wise policies)."""
        steps: list[Decision] = [("embed_dim", "embed", self.embed_dims), ("depth", "depth", self.depths)]
        for i in range(self.max_depth):
            steps += [(f"num_heads.{i}", "heads", self.num_heads), (f"mlp_ratio.{i}", "mlp", self.mlp_ratios)]
        return steps

    def config_from_indices(self, index: dict[str, int]) -> Config:
        """The config whose choices are ``choices[index[name]]`` for every decision."""
        depth = self.depths[index["depth"]]
        return {"embed_dim": self.embed_dims[index["embed_dim"]], "depth": depth,
                "num_heads": [self.num_heads[index[f"num_heads.{i}"]] for i in range(depth)],
                "mlp_ratio": [self.mlp_ratios[index[f"mlp_ratio.{i}"]] for i in range(depth)]}

    # cost
    def flops(self, config: Config) -> float:
        """Exact multiply-accumulates of one image through the subnet."""
        self.validate(config)
        e = config["embed_dim"]
        hidden = [hidden_width(r, e) for r in config["mlp_ratio"]]
        return float(self._macs(e, [1.0] * config["depth"], config["num_heads"], hidden))

    def flops_from_policies(self, policies: dict[str, Any]) -> Any:
        """Eq. 10's resource term: the same count with every width replaced by ``policy . choices``.

        ``policies[name]`` is a probability (or one-hot) vector over that decision's choices, or a
        batch of them ``(batch, choices)``; the result has the batch shape.
        """
        import torch

        p_e = policies["embed_dim"]
        embeds = torch.tensor(self.embed_dims, dtype=p_e.dtype)
        heads = torch.tensor(self.num_heads, dtype=p_e.dtype)
        hid = torch.tensor([[hidden_width(r, e) for r in self.mlp_ratios] for e in self.embed_dims], dtype=p_e.dtype)
        gates = policies["depth"] @ depth_masks(self.depths, dtype=p_e.dtype)
        e = p_e @ embeds
        h = [policies[f"num_heads.{i}"] @ heads for i in range(self.max_depth)]
        hidden = [torch.einsum("...k,kr,...r->...", p_e, hid, policies[f"mlp_ratio.{i}"])
                  for i in range(self.max_depth)]
        return self._macs(e, list(gates.unbind(-1)), h, hidden)

    def _macs(self, embed: Any, gates: Sequence[Any], heads: Sequence[Any], hidden: Sequence[Any]) -> Any:
        total = self.outer_macs(embed)
        for g, h, hid in zip(gates, heads, hidden):
            total = total + g * self.layer_macs(embed, h, hid)
        return total

    def outer_macs(self, embed: Any) -> Any:
        """Patch embedding and classifier."""
        return (self.tokens - 1) * self.patch_size ** 2 * self.in_chans * embed + embed * self.num_classes

    def layer_macs(self, embed: Any, heads: Any, hidden: Any) -> Any:
        """One block: qkv ``N e 3q``, ``QK^T`` and ``AV`` ``2 N^2 q``, projection ``N q e``, MLP ``2 N e hidden``."""
        n, q = self.tokens, heads * self.head_dim
        return n * embed * 3 * q + 2 * n * n * q + n * q * embed + 2 * n * embed * hidden

    def params(self, config: Config) -> int:
        """Parameters of the subnet: patch embedding, class and position tokens, blocks, norm, head."""
        self.validate(config)
        e, n, c = config["embed_dim"], self.tokens, self.num_classes
        total = self.patch_size ** 2 * self.in_chans * e + e + e + n * e + 2 * e + e * c + c
        for h, r in zip(config["num_heads"], config["mlp_ratio"]):
            q, hid = h * self.head_dim, hidden_width(r, e)
            total += 4 * e + 3 * (e * q + q) + q * e + e + e * hid + hid + hid * e + e
        return total


_CHOICES = {"num_heads": "num_heads", "mlp_ratio": "mlp_ratios"}


def hidden_width(ratio: float, embed: int) -> int:
    """The MLP hidden width of a layer: ``int(ratio * embed_dim)`` (AutoFormer)."""
    return int(ratio * embed)


# The paper's spaces (DESIGN 7; AutoFormer Table 1), 224 x 224 ImageNet, patch 16, head width 64.
PAPER_SPACES: dict[str, ViTSpace] = {
    "T": ViTSpace("ViT-T", (192, 216, 240), (12, 13, 14), (3.5, 4.0), (3, 4)),
    "S": ViTSpace("ViT-S", (320, 384, 448), (12, 13, 14), (3.0, 3.5, 4.0), (5, 6, 7)),
    "B": ViTSpace("ViT-B", (528, 576, 624), (14, 15, 16), (3.0, 3.5, 4.0), (9, 10)),
}


def scaled(space: ViTSpace, *, width_div: int = 4, depth_sub: int = 9, head_dim: int = 16) -> ViTSpace:
    """The same space shrunk for 28 x 28 Fashion-MNIST: widths / ``width_div``, depths - ``depth_sub``,
    head width ``head_dim``, patch 7 (16 patches + class token), one channel, 10 classes."""
    return replace(space, name=f"{space.name}-fashion",
                   embed_dims=tuple(e // width_div for e in space.embed_dims),
                   depths=tuple(d - depth_sub for d in space.depths), head_dim=head_dim,
                   img_size=28, patch_size=7, in_chans=1, num_classes=10)


def get_space(name: str) -> ViTSpace:
    """``T`` / ``S`` / ``B`` at paper scale, ``T-fashion`` / ... scaled; unknown names list the valid ones."""
    valid = list(PAPER_SPACES) + [f"{k}-fashion" for k in PAPER_SPACES]
    key, _, suffix = name.partition("-")
    if key not in PAPER_SPACES or suffix not in ("", "fashion"):
        raise KeyError(f"unknown ViT space {name!r}; valid: {valid}")
    return scaled(PAPER_SPACES[key]) if suffix else PAPER_SPACES[key]
