"""The ShiftAddNAS NLP search space (Table 1): a HAT-style elastic encoder-decoder of hybrid blocks.

A config is a plain dict (HAT's layout: per-layer lists of the maximal length, entries past
``decoder_layers`` are ignored)::

    {"embed": 512,
     "encoder_types": ["Attn+Conv", ...], "encoder_heads": [8, ...], "encoder_mlp": [2048, ...],
     "decoder_layers": 3,
     "decoder_types": ["Attn", ...], "decoder_heads": [...], "decoder_mlp": [...],
     "decoder_arbitrary": [2, ...]}

Choices (Table 1): encoder blocks Attn, Attn+Conv, Attn+Shift, Attn+Add, Conv, Shift, Add; decoder
blocks Attn, Attn+Conv, Attn+Shift, Attn+Add (Conv / Shift / Add alone are disabled in the
decoder, Sec. 3.1); 1-6 decoder blocks; elastic embedding {1024, 768, 512}, heads {16, 8, 4} and
MLP {4096, 3072, 2048, 1024} (heads and MLP per layer, as in HAT); each decoder block attends to
the last 3, 2 or 1 encoder blocks ("Arbitrary Attn"). The encoder has 6 blocks (Transformer-Big).

Counting (HAT, DESIGN.md section 4): params exclude the embedding tables and the output
projection; FLOPs = 2 x MACs of one forward pass with 30 source and 30 target tokens, output
projection excluded, attention matmuls included. Shift and add MACs count like multiply MACs in
FLOPs; :meth:`ShiftAddNASNLPSpace.macs` also splits them by op (``mult`` / ``add`` / ``shift``).
"""
from __future__ import annotations

import random
from dataclasses import dataclass

from repro.registry import register
from repro.spaces.base import Config, InvalidConfig, SearchSpace

ENCODER_TYPES: tuple[str, ...] = ("Attn", "Attn+Conv", "Attn+Shift", "Attn+Add", "Conv", "Shift", "Add")
DECODER_TYPES: tuple[str, ...] = ("Attn", "Attn+Conv", "Attn+Shift", "Attn+Add")
LOCAL_OPS: dict[str, str] = {"Conv": "mult", "Shift": "shift", "Add": "add"}  # local op -> its MAC type
ENCODER_LISTS = ("encoder_types", "encoder_heads", "encoder_mlp")
DECODER_LISTS = ("decoder_types", "decoder_heads", "decoder_mlp", "decoder_arbitrary")


def split_block(block: str) -> tuple[bool, str | None]:
    """``"Attn+Conv"`` -> (has attention, local op ``"Conv"``); ``"Attn"`` -> (True, None)."""
    parts = block.split("+")
    attn = parts[0] == "Attn"
    local = parts[-1] if parts[-1] in LOCAL_OPS else None
    return attn, local


@dataclass(frozen=True)
class NlpSpaceDims:
    """The dimensions of the space. ``kernel``: width of the Conv / Shift / Add token mixer (odd).

    The head dimension is fixed at ``max(embed) / max(heads)`` (64 at paper scale), so the elastic
    head count selects the front heads of the largest projection (HAT).
    """
    encoder_layers: int
    decoder_layers: tuple[int, ...]
    embed: tuple[int, ...]
    heads: tuple[int, ...]
    mlp: tuple[int, ...]
    arbitrary: tuple[int, ...] = (3, 2, 1)
    kernel: int = 3
    src_len: int = 30
    tgt_len: int = 30

    def __post_init__(self) -> None:
        for name in ("decoder_layers", "embed", "heads", "mlp", "arbitrary"):
            values = getattr(self, name)
            if not values or min(values) < 1:
                raise ValueError(f"NlpSpaceDims.{name} must be a non-empty tuple of positive ints, got {values}")
        if max(self.arbitrary) > self.encoder_layers:
            raise ValueError(f"a decoder block cannot attend to {max(self.arbitrary)} encoder blocks of "
                             f"{self.encoder_layers}")
        if max(self.embed) % max(self.heads):
            raise ValueError(f"max heads {max(self.heads)} must divide max embed {max(self.embed)}")
        if any(e % 2 for e in self.embed) or any(h % 2 for h in self.heads):
            raise ValueError("embed dims and head counts must be even (Attn+X blocks halve both)")
        if self.kernel < 1 or self.kernel % 2 == 0:
            raise ValueError(f"kernel must be odd and positive, got {self.kernel}")

    @property
    def head_dim(self) -> int:
        return max(self.embed) // max(self.heads)

    @property
    def max_decoder_layers(self) -> int:
        return max(self.decoder_layers)


SCALES: dict[str, NlpSpaceDims] = {
    "paper": NlpSpaceDims(6, (1, 2, 3, 4, 5, 6), (1024, 768, 512), (16, 8, 4), (4096, 3072, 2048, 1024)),
    "small": NlpSpaceDims(6, (1, 2, 3, 4, 5, 6), (256, 192, 128), (8, 4, 2), (1024, 768, 512, 256)),
    "tiny": NlpSpaceDims(3, (1, 2, 3), (128, 96, 64), (8, 4, 2), (512, 384, 256, 128)),
}


def dims_for(scale: str) -> NlpSpaceDims:
    """The dimensions of one scale; an unknown scale names the valid ones."""
    if scale not in SCALES:
        raise InvalidConfig(f"unknown NLP scale {scale!r}; valid scales: {', '.join(SCALES)}")
    return SCALES[scale]


@register("space", "shiftaddnas-nlp")
class ShiftAddNASNLPSpace(SearchSpace):
    """Table 1 as an object: sample, mutate, cross over, encode, validate, count, cost."""

    def __init__(self, dims: NlpSpaceDims | str = "paper"):
        self.dims = dims_for(dims) if isinstance(dims, str) else dims

    def choices(self) -> dict[str, tuple]:
        """Every decision and its valid values (the per-layer lists share their layer's choices)."""
        d = self.dims
        return {"embed": d.embed, "encoder_types": ENCODER_TYPES, "encoder_heads": d.heads,
                "encoder_mlp": d.mlp, "decoder_layers": d.decoder_layers, "decoder_types": DECODER_TYPES,
                "decoder_heads": d.heads, "decoder_mlp": d.mlp, "decoder_arbitrary": d.arbitrary}

    def _length(self, key: str) -> int:
        return self.dims.encoder_layers if key.startswith("encoder") else self.dims.max_decoder_layers

    def sample(self, rng: random.Random) -> Config:
        cfg: Config = {}
        for key, values in self.choices().items():
            if key in ENCODER_LISTS or key in DECODER_LISTS:
                cfg[key] = [rng.choice(values) for _ in range(self._length(key))]
            else:
                cfg[key] = rng.choice(values)
        return cfg

    def mutate(self, config: Config, prob: float, rng: random.Random) -> Config:
        self.validate(config)
        out: Config = {}
        for key, values in self.choices().items():
            v = config[key]
            if isinstance(v, list):
                out[key] = [rng.choice(values) if rng.random() < prob else x for x in v]
            else:
                out[key] = rng.choice(values) if rng.random() < prob else v
        return out

    def crossover(self, a: Config, b: Config, rng: random.Random) -> Config:
        self.validate(a)
        self.validate(b)
        out: Config = {}
        for key in self.choices():
            if isinstance(a[key], list):
                out[key] = [rng.choice((x, y)) for x, y in zip(a[key], b[key])]
            else:
                out[key] = rng.choice((a[key], b[key]))
        return out

    def encode(self, config: Config) -> list[float]:
        """Numeric features (HAT's predictor encoding): normalised widths, one-hot block types, zeros
        for decoder layers past ``decoder_layers``."""
        self.validate(config)
        d = self.dims
        vec = [config["embed"] / max(d.embed), config["decoder_layers"] / d.max_decoder_layers]
        for i in range(d.encoder_layers):
            vec += [float(t == config["encoder_types"][i]) for t in ENCODER_TYPES]
            vec += [config["encoder_heads"][i] / max(d.heads), config["encoder_mlp"][i] / max(d.mlp)]
        for i in range(d.max_decoder_layers):
            on = i < config["decoder_layers"]
            vec += [float(on and t == config["decoder_types"][i]) for t in DECODER_TYPES]
            vec += [on * config["decoder_heads"][i] / max(d.heads), on * config["decoder_mlp"][i] / max(d.mlp),
                    on * config["decoder_arbitrary"][i] / max(d.arbitrary)]
        return vec

    def validate(self, config: Config) -> None:
        if not isinstance(config, dict):
            raise InvalidConfig(f"a config is a dict with keys {list(self.choices())}, got {type(config).__name__}")
        choices = self.choices()
        unknown = sorted(set(config) - set(choices))
        missing = [k for k in choices if k not in config]
        if unknown or missing:
            raise InvalidConfig(f"config keys: unknown {unknown}, missing {missing}; valid keys: {list(choices)}")
        for key, values in choices.items():
            v = config[key]
            if key in ENCODER_LISTS or key in DECODER_LISTS:
                n = self._length(key)
                if not isinstance(v, list) or len(v) != n:
                    raise InvalidConfig(f"{key} must be a list of {n} choices from {list(values)}, got {v!r}")
                for i, x in enumerate(v):
                    if isinstance(x, bool) or x not in values:
                        raise InvalidConfig(f"{key}[{i}] = {x!r} is not a valid choice; valid: {list(values)}")
            elif isinstance(v, bool) or v not in values:
                raise InvalidConfig(f"{key} = {v!r} is not a valid choice; valid: {list(values)}")

    def _per_layer_counts(self) -> tuple[int, int]:
        d = self.dims
        return (len(ENCODER_TYPES) * len(d.heads) * len(d.mlp),
                len(DECODER_TYPES) * len(d.heads) * len(d.mlp) * len(d.arbitrary))

    def size(self) -> int:
        """Exact count of distinct subnets with per-layer choices (HAT's convention):
        ``|embed| * (7 |heads| |mlp|)^E * sum_L (4 |heads| |mlp| |arbitrary|)^L``."""
        enc, dec = self._per_layer_counts()
        d = self.dims
        return len(d.embed) * enc ** d.encoder_layers * sum(dec ** n for n in d.decoder_layers)

    def size_conventions(self) -> dict[str, int]:
        """The size under several counting conventions (the paper does not state its own)."""
        d = self.dims
        global_dims = len(d.embed) * len(d.heads) * len(d.mlp) * len(d.arbitrary)
        types_only = len(ENCODER_TYPES) ** d.encoder_layers * sum(len(DECODER_TYPES) ** n for n in d.decoder_layers)
        return {"per-layer types, heads, MLP, arbitrary attn (HAT)": self.size(),
                "per-layer block types, global elastic dims": global_dims * types_only,
                "per-layer block types only": types_only}

    def describe(self) -> list[dict[str, str]]:
        """The rows of Table 1, read from this space."""
        d = self.dims
        desc = lambda v: str(sorted(v, reverse=True))  # noqa: E731  (the paper lists them descending)
        return [
            {"choice": "Encoder block types", "values": str(list(ENCODER_TYPES))},
            {"choice": "Decoder block types", "values": str(list(DECODER_TYPES))},
            {"choice": "Num. of decoder blocks", "values": desc(d.decoder_layers)},
            {"choice": "Elastic embed. dim.", "values": desc(d.embed)},
            {"choice": "Elastic head num.", "values": desc(d.heads)},
            {"choice": "Elastic MLP dim.", "values": desc(d.mlp)},
            {"choice": "Arbitrary Attn", "values": desc(d.arbitrary)},
            {"choice": "Num. of encoder blocks (fixed)", "values": str(d.encoder_layers)},
        ]

    def transformer(self) -> Config:
        """The plain Transformer of the space (Transformer-Big at paper scale): Attn blocks only, every
        width and depth at its maximum, each decoder block attending to the last encoder block."""
        d = self.dims
        e, n = d.encoder_layers, d.max_decoder_layers
        return {"embed": max(d.embed), "encoder_types": ["Attn"] * e, "encoder_heads": [max(d.heads)] * e,
                "encoder_mlp": [max(d.mlp)] * e, "decoder_layers": n, "decoder_types": ["Attn"] * n,
                "decoder_heads": [max(d.heads)] * n, "decoder_mlp": [max(d.mlp)] * n,
                "decoder_arbitrary": [min(d.arbitrary)] * n}

    def macs(self, config: Config, src_len: int | None = None, tgt_len: int | None = None) -> dict[str, int]:
        """MACs of one forward pass split by op (``mult``, ``add``, ``shift``), analytic (HAT convention).

        Counts the q/k/v/output projections, both attention matmuls, the Conv / Shift / Add token
        mixers (``c x c x kernel`` per token) and the two MLP layers of every active block, with the
        k/v projections of the encoder memory in every decoder block; embeddings, the output
        projection, normalisation and residual additions are left out.
        """
        self.validate(config)
        d = self.dims
        ns, nt = src_len or d.src_len, tgt_len or d.tgt_len
        emb = config["embed"]
        out = {"mult": 0, "add": 0, "shift": 0}
        for block, heads, mlp in zip(*(config[k] for k in ENCODER_LISTS)):
            for op, m in self.block_macs(block, emb, heads, mlp, ns).items():
                out[op] += m
        for i in range(config["decoder_layers"]):
            block, heads, mlp, arb = (config[k][i] for k in DECODER_LISTS)
            for op, m in self.block_macs(block, emb, heads, mlp, nt).items():
                out[op] += m
            a = heads * d.head_dim
            out["mult"] += nt * emb * a + 2 * arb * ns * emb * a + 2 * nt * arb * ns * a + nt * a * emb
        return out

    def block_macs(self, block: str, embed: int, heads: int, mlp: int, n: int) -> dict[str, int]:
        """MACs of one block's token mixer and MLP on ``n`` tokens, by op."""
        attn, local = split_block(block)
        branch = embed // 2 if attn and local else embed
        a = heads * self.dims.head_dim // (2 if attn and local else 1)
        out = {"mult": 2 * n * embed * mlp, "add": 0, "shift": 0}
        if attn:
            out["mult"] += 3 * n * branch * a + 2 * n * n * a + n * a * branch
        if local:
            out[LOCAL_OPS[local]] += n * branch * branch * self.dims.kernel
        return out

    def flops(self, config: Config) -> int:
        """FLOPs = 2 x MACs (all op types), HAT's 30 + 30 token convention."""
        return 2 * sum(self.macs(config).values())

    def params(self, config: Config) -> int:
        """Parameters of the subnet (embeddings and output projection excluded), analytic: weights,
        biases and LayerNorms of :mod:`repro.supernets.shiftaddnas_nlp` built with ``sharing="none"``
        restricted to the active ops."""
        self.validate(config)
        d = self.dims
        emb = config["embed"]
        total = 2 * emb * 2  # the final encoder and decoder LayerNorms
        for block, heads, mlp in zip(*(config[k] for k in ENCODER_LISTS)):
            total += self.block_params(block, emb, heads, mlp)
        for i in range(config["decoder_layers"]):
            block, heads, mlp = (config[k][i] for k in DECODER_LISTS[:3])
            a = heads * d.head_dim
            total += self.block_params(block, emb, heads, mlp) + 4 * emb * a + 3 * a + emb + 2 * emb
        return total

    def block_params(self, block: str, embed: int, heads: int, mlp: int) -> int:
        """Parameters of one block: two LayerNorms, its token mixer and the MLP."""
        attn, local = split_block(block)
        branch = embed // 2 if attn and local else embed
        a = heads * self.dims.head_dim // (2 if attn and local else 1)
        total = 2 * 2 * embed + 2 * embed * mlp + mlp + embed
        if attn:
            total += 4 * branch * a + 3 * a + branch
        if local:
            total += branch * branch * self.dims.kernel + branch + 2 * branch  # weight, bias, its LayerNorm
        return total
