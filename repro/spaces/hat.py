"""HAT interoperability: HAT's SubTransformer config files, their costs under HAT's conventions, and
their conversion to and from configs of the ShiftAddNAS NLP space.

HAT (Wang et al. 2020, released code ``mit-han-lab/hardware-aware-transformers``) describes a
SubTransformer with ten keys (``configs/<task>/subtransformer/HAT_*.yml``)::

    encoder-embed-dim-subtransformer: 512          decoder-embed-dim-subtransformer: 512
    encoder-layer-num-subtransformer: 6            decoder-layer-num-subtransformer: 2
    encoder-ffn-embed-dim-all-subtransformer: [3072, ...]        (one per encoder layer)
    decoder-ffn-embed-dim-all-subtransformer: [3072, 3072]       (one per decoder layer)
    encoder-self-attention-heads-all-subtransformer: [8, ...]
    decoder-self-attention-heads-all-subtransformer: [8, 8]
    decoder-ende-attention-heads-all-subtransformer: [8, 8]
    decoder-arbitrary-ende-attn-all-subtransformer: [-1, 1]      (-1: the last encoder layer,
                                                                  1: the last two, 2: the last three)

HAT's conventions (README "Testing" table; ``train.py``; ``fairseq/modules/*_super.py``):

* every attention has a fixed query/key/value width ``qkv-dim`` (512 for the WMT and IWSLT spaces),
  so a head count changes the head width (512 / heads), never the parameters or the MACs;
* #Params: ``get_sampled_params_numel``: the sampled q/k/v and output projections (q/k/v biases at
  the full ``3 x qkv-dim``), the FFNs and the LayerNorms of the active layers (post-norm, no final
  LayerNorm in the WMT / IWSLT architectures); embeddings and the output projection excluded;
* FLOPs: ``2 x torchprofile.profile_macs`` of one forward pass of ``tokens`` source and ``tokens``
  target tokens (30 for WMT, 23 for IWSLT), minus the output projection. Besides the matmuls,
  torchprofile counts one MAC per output element of every affine LayerNorm and of every elementwise
  multiplication (the query scaling of each attention, the sqrt(d) embedding scale): ~0.05 % of the
  total, yet needed to land every released model on the table's second decimal.

Our space (:mod:`repro.spaces.shiftaddnas_nlp`) differs: its head width is fixed (64 at paper scale),
so an attention's width is ``heads x 64``, and one head count serves a decoder block's self- and
encoder-decoder attention; its ``params`` include the final encoder and decoder LayerNorms of our
(pre-norm) supernet and its ``flops`` count the matmuls only. :func:`from_hat` / :func:`to_hat` map
the *choices* (embedding, depths, FFN widths, head counts, arbitrary attention), so a HAT layer with
4 heads (4 x 128 wide) becomes one of our layers with 4 heads (4 x 64 wide): the two counts of one
architecture differ by exactly those conventions (``tests/test_hat_config.py`` measures it).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from repro.cost.counting import Layer, LayerShape
from repro.data.errors import DataError
from repro.spaces.base import Config, InvalidConfig
from repro.spaces.shiftaddnas_nlp import ShiftAddNASNLPSpace

QKV_DIM = 512  # qkv-dim of HAT's WMT and IWSLT SuperTransformers (configs/*/supertransformer/space*.yml)
TOKENS = 30    # HAT train.py: dummy sentence length for WMT (23 for IWSLT)
ARBITRARY = {-1: 1, 1: 2, 2: 3}  # HAT's decoder-arbitrary-ende-attn value -> encoder layers attended
KEYS: dict[str, str] = {  # HAT key -> field of HatConfig
    "encoder-embed-dim-subtransformer": "encoder_embed",
    "decoder-embed-dim-subtransformer": "decoder_embed",
    "encoder-layer-num-subtransformer": "encoder_layers",
    "decoder-layer-num-subtransformer": "decoder_layers",
    "encoder-ffn-embed-dim-all-subtransformer": "encoder_ffn",
    "decoder-ffn-embed-dim-all-subtransformer": "decoder_ffn",
    "encoder-self-attention-heads-all-subtransformer": "encoder_heads",
    "decoder-self-attention-heads-all-subtransformer": "decoder_heads",
    "decoder-ende-attention-heads-all-subtransformer": "decoder_ende_heads",
    "decoder-arbitrary-ende-attn-all-subtransformer": "decoder_arbitrary",
}
_KEY_OF = {field: key for key, field in KEYS.items()}
_ENCODER_LISTS = ("encoder_ffn", "encoder_heads")
_DECODER_LISTS = ("decoder_ffn", "decoder_heads", "decoder_ende_heads", "decoder_arbitrary")


def _positive_int(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidConfig(f"HAT config: {key} = {value!r} must be a positive integer")
    return value


@dataclass(frozen=True)
class HatConfig:
    """One HAT SubTransformer, validated; per-layer tuples hold exactly the active layers (HAT reads
    the first ``*-layer-num`` entries of each list)."""
    encoder_embed: int
    decoder_embed: int
    encoder_layers: int
    decoder_layers: int
    encoder_ffn: tuple[int, ...]
    decoder_ffn: tuple[int, ...]
    encoder_heads: tuple[int, ...]
    decoder_heads: tuple[int, ...]
    decoder_ende_heads: tuple[int, ...]
    decoder_arbitrary: tuple[int, ...]

    def __post_init__(self) -> None:
        for name in ("encoder_embed", "decoder_embed", "encoder_layers", "decoder_layers"):
            _positive_int(_KEY_OF[name], getattr(self, name))
        for names, n in ((_ENCODER_LISTS, self.encoder_layers), (_DECODER_LISTS, self.decoder_layers)):
            for name in names:
                values = getattr(self, name)
                if len(values) != n:
                    raise InvalidConfig(f"HAT config: {_KEY_OF[name]} needs {n} entries (one per layer), "
                                        f"got {list(values)}")
        for name in ("encoder_ffn", "encoder_heads", "decoder_ffn", "decoder_heads", "decoder_ende_heads"):
            for i, v in enumerate(getattr(self, name)):
                _positive_int(f"{_KEY_OF[name]}[{i}]", v)
        for i, a in enumerate(self.decoder_arbitrary):
            if isinstance(a, bool) or a not in ARBITRARY:
                raise InvalidConfig(f"HAT config: {_KEY_OF['decoder_arbitrary']}[{i}] = {a!r}; valid: "
                                    f"{list(ARBITRARY)} (-1: last encoder layer, 1: last two, 2: last three)")
            if ARBITRARY[a] > self.encoder_layers:
                raise InvalidConfig(f"HAT config: decoder layer {i} attends to {ARBITRARY[a]} encoder layers "
                                    f"of {self.encoder_layers}")

    @classmethod
    def from_dict(cls, hat: dict) -> "HatConfig":
        """From HAT's keys; other keys (the training settings of HAT's ``common.yml``) are ignored."""
        if not isinstance(hat, dict):
            raise InvalidConfig(f"a HAT config is a mapping of HAT's keys {list(KEYS)}, got {type(hat).__name__}")
        missing = [k for k in KEYS if k not in hat]
        if missing:
            raise InvalidConfig(f"HAT config: missing keys {missing}; a SubTransformer config has {list(KEYS)}")
        raw = {field: hat[key] for key, field in KEYS.items()}
        for names, n_key in ((_ENCODER_LISTS, "encoder_layers"), (_DECODER_LISTS, "decoder_layers")):
            n = _positive_int(_KEY_OF[n_key], raw[n_key])
            for name in names:
                values = raw[name]
                if not isinstance(values, (list, tuple)) or len(values) < n:
                    raise InvalidConfig(f"HAT config: {_KEY_OF[name]} must be a list of at least {n} entries "
                                        f"({_KEY_OF[n_key]} = {n}), got {values!r}")
                raw[name] = tuple(values[:n])
        return cls(**raw)

    def to_dict(self) -> dict:
        """HAT's keys, lists of exactly the active layers (HAT's released files' layout)."""
        return {_KEY_OF[field]: list(v) if isinstance(v, tuple) else v for field, v in asdict(self).items()}


def read_hat_config(path: str | Path) -> dict:
    """A HAT SubTransformer config file (YAML), validated; errors name the file and the fix."""
    import yaml

    path = Path(path)
    fix = ("give a HAT SubTransformer config (configs/<task>/subtransformer/HAT_*.yml of "
           "mit-han-lab/hardware-aware-transformers) with its ten *-subtransformer keys")
    try:
        text = path.read_text()
    except OSError as err:
        raise DataError(path, f"cannot be read ({err.strerror or err})", fix) from err
    try:
        hat = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise DataError(path, f"is not YAML ({str(err).splitlines()[0]})", fix) from err
    try:
        return HatConfig.from_dict(hat).to_dict()
    except InvalidConfig as err:
        raise DataError(path, str(err), fix) from err


def write_hat_config(path: str | Path, hat: dict) -> Path:
    """Write a HAT config in HAT's layout (loadable by HAT's ``--configs``); returns the path."""
    import yaml

    path = Path(path)
    path.write_text(yaml.safe_dump(HatConfig.from_dict(hat).to_dict(), sort_keys=False, default_flow_style=None))
    return path


# ---------------------------------------------------------------- costs under HAT's conventions

def _check_qkv(h: HatConfig, qkv_dim: int) -> None:
    heads = [*h.encoder_heads, *h.decoder_heads, *h.decoder_ende_heads]
    bad = sorted({n for n in heads if qkv_dim % n})
    if bad:
        raise InvalidConfig(f"HAT config: head counts {bad} do not divide qkv-dim {qkv_dim} (HAT asserts it)")


def _attention(n_q: int, n_kv: int, e_q: int, e_kv: int, heads: int, qkv: int) -> list[Layer]:
    d = qkv // heads
    shapes = [LayerShape(e_q, qkv, out_h=n_q), LayerShape(e_kv, qkv, out_h=n_kv), LayerShape(e_kv, qkv, out_h=n_kv),
              LayerShape(d, n_kv, out_h=n_q, groups=heads), LayerShape(n_kv, d, out_h=n_q, groups=heads),
              LayerShape(qkv, e_q, out_h=n_q)]
    return [Layer(s, "mult") for s in shapes]


def _ffn(n: int, e: int, f: int) -> list[Layer]:
    return [Layer(LayerShape(e, f, out_h=n), "mult"), Layer(LayerShape(f, e, out_h=n), "mult")]


def hat_layers(hat: dict, tokens: int = TOKENS, qkv_dim: int = QKV_DIM) -> list[tuple[str, Layer]]:
    """The MAC-bearing layers of one forward pass (``tokens`` source and target tokens), named, in
    order: per attention q / k / v projections, ``QK^T`` and ``AV`` (one group per head), the output
    projection; per layer the two FFN layers. A decoder layer's k / v run over the concatenated
    outputs of the last 1-3 encoder layers (HAT's arbitrary encoder-decoder attention)."""
    h = HatConfig.from_dict(hat)
    _check_qkv(h, qkv_dim)
    n, ee, de = tokens, h.encoder_embed, h.decoder_embed
    out: list[tuple[str, Layer]] = []
    for i, (f, heads) in enumerate(zip(h.encoder_ffn, h.encoder_heads)):
        out += [(f"encoder.{i}.self_attn", x) for x in _attention(n, n, ee, ee, heads, qkv_dim)]
        out += [(f"encoder.{i}.ffn", x) for x in _ffn(n, ee, f)]
    for i, (f, heads, ende, arb) in enumerate(zip(*(getattr(h, k) for k in _DECODER_LISTS))):
        out += [(f"decoder.{i}.self_attn", x) for x in _attention(n, n, de, de, heads, qkv_dim)]
        out += [(f"decoder.{i}.encoder_attn", x) for x in _attention(n, ARBITRARY[arb] * n, de, ee, ende, qkv_dim)]
        out += [(f"decoder.{i}.ffn", x) for x in _ffn(n, de, f)]
    return out


def hat_macs(hat: dict, tokens: int = TOKENS, qkv_dim: int = QKV_DIM) -> int:
    """MACs of the matmuls of one forward pass (:func:`hat_layers`), output projection excluded."""
    return sum(layer.shape.macs for _, layer in hat_layers(hat, tokens, qkv_dim))


def hat_elementwise_macs(hat: dict, tokens: int = TOKENS, qkv_dim: int = QKV_DIM) -> int:
    """What torchprofile adds to the matmuls: one MAC per output element of every affine LayerNorm
    (two per encoder layer, three per decoder layer), of every query scaling and of the two
    embedding scalings."""
    h = HatConfig.from_dict(hat)
    n = tokens
    norms = 2 * h.encoder_layers * n * h.encoder_embed + 3 * h.decoder_layers * n * h.decoder_embed
    scaling = (h.encoder_layers + 2 * h.decoder_layers) * n * qkv_dim
    return norms + scaling + n * (h.encoder_embed + h.decoder_embed)


def hat_flops(hat: dict, tokens: int = TOKENS, qkv_dim: int = QKV_DIM) -> int:
    """HAT's FLOPs: 2 x (matmul MACs + torchprofile's elementwise MACs), output projection excluded."""
    return 2 * (hat_macs(hat, tokens, qkv_dim) + hat_elementwise_macs(hat, tokens, qkv_dim))


def hat_params(hat: dict, qkv_dim: int = QKV_DIM) -> int:
    """HAT's #Params (``get_sampled_params_numel``): embeddings and output projection excluded."""
    h = HatConfig.from_dict(hat)
    _check_qkv(h, qkv_dim)
    ee, de, q = h.encoder_embed, h.decoder_embed, qkv_dim

    def attention(e_q: int, e_kv: int) -> int:
        return e_q * q + 2 * e_kv * q + 3 * q + q * e_q + e_q

    def ffn(e: int, f: int) -> int:
        return e * f + f + f * e + e
    total = sum(attention(ee, ee) + ffn(ee, f) + 2 * 2 * ee for f in h.encoder_ffn)
    total += sum(attention(de, de) + attention(de, ee) + ffn(de, f) + 3 * 2 * de for f in h.decoder_ffn)
    return total


# ---------------------------------------------------------------- conversion to and from our space

def _choice(key: str, value: int, valid: tuple) -> int:
    if value not in valid:
        raise InvalidConfig(f"HAT config: {key} = {value!r} is not a choice of the ShiftAddNAS NLP space; "
                            f"valid: {sorted(valid)}")
    return value


def from_hat(hat: dict, space: ShiftAddNASNLPSpace) -> Config:
    """The config of ``space`` with HAT's choices: all-Attn blocks, the same embedding, depths, FFN
    widths and head counts, ``decoder_arbitrary`` = encoder layers attended (HAT's -1 / 1 / 2 -> 1 / 2 /
    3). Decoder entries past ``decoder_layers`` are the space's plain-Transformer values. A HAT choice
    our space cannot express is an :class:`InvalidConfig` naming the key, the value and the valid ones."""
    h = HatConfig.from_dict(hat)
    d = space.dims
    if h.encoder_embed != h.decoder_embed:
        raise InvalidConfig(f"HAT config: encoder-embed-dim-subtransformer = {h.encoder_embed} and "
                            f"decoder-embed-dim-subtransformer = {h.decoder_embed} differ; the ShiftAddNAS NLP "
                            "space has one embedding dim for both: make them equal")
    embed = _choice(_KEY_OF["encoder_embed"], h.encoder_embed, d.embed)
    _choice(_KEY_OF["encoder_layers"], h.encoder_layers, (d.encoder_layers,))
    n = _choice(_KEY_OF["decoder_layers"], h.decoder_layers, d.decoder_layers)
    for name, valid in (("encoder_ffn", d.mlp), ("decoder_ffn", d.mlp), ("encoder_heads", d.heads),
                        ("decoder_heads", d.heads)):
        for i, v in enumerate(getattr(h, name)):
            _choice(f"{_KEY_OF[name]}[{i}]", v, valid)
    for i, (s, c) in enumerate(zip(h.decoder_heads, h.decoder_ende_heads)):
        if s != c:
            raise InvalidConfig(f"HAT config: {_KEY_OF['decoder_ende_heads']}[{i}] = {c} differs from "
                                f"{_KEY_OF['decoder_heads']}[{i}] = {s}; a ShiftAddNAS decoder block uses one head "
                                "count for its self- and encoder-decoder attention: make them equal")
    arbitrary = [_choice(f"{_KEY_OF['decoder_arbitrary']}[{i}] (attends to {ARBITRARY[a]} encoder layers)",
                         ARBITRARY[a], d.arbitrary) for i, a in enumerate(h.decoder_arbitrary)]
    pad = space.transformer()
    m = d.max_decoder_layers

    def fill(values: list, key: str) -> list:
        return list(values) + pad[key][n:m]
    config = {"embed": embed, "encoder_types": ["Attn"] * d.encoder_layers, "encoder_heads": list(h.encoder_heads),
              "encoder_mlp": list(h.encoder_ffn), "decoder_layers": n,
              "decoder_types": fill(["Attn"] * n, "decoder_types"), "decoder_heads": fill(h.decoder_heads, "decoder_heads"),
              "decoder_mlp": fill(h.decoder_ffn, "decoder_mlp"), "decoder_arbitrary": fill(arbitrary, "decoder_arbitrary")}
    space.validate(config)
    return config


def to_hat(config: Config, space: ShiftAddNASNLPSpace) -> dict:
    """HAT's SubTransformer config of an all-Attn ``config`` (the inverse of :func:`from_hat`); a block
    with a Conv / Shift / Add branch has no HAT counterpart and is an :class:`InvalidConfig`."""
    space.validate(config)
    n = config["decoder_layers"]
    hybrid = [f"encoder_types[{i}] = {t!r}" for i, t in enumerate(config["encoder_types"]) if t != "Attn"]
    hybrid += [f"decoder_types[{i}] = {t!r}" for i, t in enumerate(config["decoder_types"][:n]) if t != "Attn"]
    if hybrid:
        raise InvalidConfig(f"HAT SubTransformers have attention blocks only; this config has {', '.join(hybrid)}: "
                            "only all-'Attn' configs convert to HAT")
    to_hat_arbitrary = {v: k for k, v in ARBITRARY.items()}
    heads = list(config["decoder_heads"][:n])
    return HatConfig(config["embed"], config["embed"], space.dims.encoder_layers, n, tuple(config["encoder_mlp"]),
                     tuple(config["decoder_mlp"][:n]), tuple(config["encoder_heads"]), tuple(heads), tuple(heads),
                     tuple(to_hat_arbitrary[a] for a in config["decoder_arbitrary"][:n])).to_dict()
