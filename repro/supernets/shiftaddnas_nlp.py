"""The ShiftAddNAS NLP supernet (Fig. 2a): an elastic encoder-decoder of hybrid multi-branch blocks.

Every block holds the largest weights of its layer; a subnet uses their front slices (HAT's
elastic embed / heads / MLP, through the layers of :mod:`repro.ops.elastic`). The token mixer of a
block is Attn, a local op (Conv, Shift or Add: a 1-D convolution over time of width ``kernel``,
causal in the decoder) or a multi-branch Attn+X
(Lite Transformer's long-short range attention: the first half of the channels go through
attention with half the heads, the second half through the local op, then concatenated). Each
block is followed by its two-layer MLP; pre-LayerNorm residual blocks; each decoder block attends
to the concatenation (along time) of the last 1, 2 or 3 encoder outputs.

Weight sharing of the Conv / Shift / Add weights of a layer (Sec. 3.2.2): ``"heterogeneous"``
(one pool; Conv uses it with a KL term to N(0, I), Shift quantises it to powers of two, Add maps
it through the learnable transformation kernel T with a KL term to Laplace(0, 1): Eq. 5-6),
``"naive"`` (one pool used as is by all three) and ``"none"`` (a weight per op). Attention and
MLP weights are shared by every block type of a layer in all three modes (elastic front slices).
Each local op is followed by its own LayerNorm (AdderNet's normalisation after every adder layer).

A standalone network of one config is the same class built on that config's exact widths with
``sharing="none"`` (:func:`standalone`); :func:`copy_subnet_weights` fills it from a supernet.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from repro.cost.counting import Layer, LayerShape, register
from repro.ops.adder import adder_linear
from repro.ops.checks import check_choice
from repro.ops.elastic import ElasticLayerNorm, ElasticLinear
from repro.ops.shift import round_to_power_of_two, shift_linear
from repro.ops.weight_sharing import SHARING, SharedPool
from repro.spaces.base import Config
from repro.supernets.base import Supernet
from repro.spaces.shiftaddnas_nlp import (DECODER_LISTS, DECODER_TYPES, ENCODER_LISTS, ENCODER_TYPES, LOCAL_OPS,
                                         NlpSpaceDims, ShiftAddNASNLPSpace, split_block)


class ElasticAttention(nn.Module):
    """Multi-head attention (Eq. 1) whose input, head count and output are front slices."""

    def __init__(self, embed: int, width: int, head_dim: int):
        super().__init__()
        self.head_dim = head_dim
        self.q, self.k, self.v = (ElasticLinear(embed, width) for _ in range(3))
        self.out = ElasticLinear(width, embed)

    def forward(self, x: torch.Tensor, memory: torch.Tensor, heads: int, key_pad: torch.Tensor | None,
                causal: bool) -> torch.Tensor:
        b, t, c_in = x.shape
        c_out, a, dh = c_in, heads * self.head_dim, self.head_dim
        q = self.q.sliced(x, a).view(b, t, heads, dh).transpose(1, 2)
        k = self.k.sliced(memory, a).view(b, -1, heads, dh).transpose(1, 2)
        v = self.v.sliced(memory, a).view(b, -1, heads, dh).transpose(1, 2)
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(dh)
        if key_pad is not None:
            scores = scores.masked_fill(key_pad[:, None, None, :], float("-inf"))
        if causal:
            future = torch.ones(t, k.shape[2], dtype=torch.bool, device=x.device).triu(1)
            scores = scores.masked_fill(future, float("-inf"))
        y = torch.matmul(scores.softmax(-1), v).transpose(1, 2).reshape(b, t, a)
        return self.out.sliced(y, c_out)


class LocalMixer(nn.Module):
    """The Conv / Shift / Add token mixer of one layer (Eq. 2 over a window of ``kernel`` tokens).

    ``ops`` are the local ops this layer may run; their weights follow ``sharing``
    (:mod:`repro.ops.weight_sharing`). Weights are ``(C, C, kernel)``, drawn from N(0, 1) (the Conv
    view's KL target and AdderNet's init; a LayerNorm follows every op); a subnet of width ``c``
    uses ``[:c, :c, :]``. ``op`` is the active view (:meth:`set_op`; ``forward`` sets it from its ``op``
    argument), which the cost counter reads.
    """

    def __init__(self, channels: int, kernel: int, ops: tuple[str, ...], sharing: str, causal: bool,
                 transform_kernel: str = "paper"):
        super().__init__()
        self.kernel, self.ops, self.causal, self.sharing = kernel, ops, causal, sharing
        self.pool = SharedPool((channels, channels, kernel), ops, sharing, kernel=transform_kernel, bias=True)
        self.norms = nn.ModuleDict({op: ElasticLayerNorm(channels) for op in ops})
        self.op: str | None = None

    def set_op(self, op: str) -> "LocalMixer":
        """Choose the active view: one of ``ops`` (``"Conv"``, ``"Shift"``, ``"Add"``)."""
        check_choice("op", op, self.ops)
        self.op = op
        return self

    def forward(self, x: torch.Tensor, op: str, pad: torch.Tensor | None) -> torch.Tensor:
        self.set_op(op)
        b, t, c = x.shape
        k = self.kernel
        if pad is not None:
            x = x.masked_fill(pad[..., None], 0.0)
        left = k - 1 if self.causal else (k - 1) // 2
        windows = F.pad(x, (0, 0, left, k - 1 - left)).unfold(1, k, 1).reshape(b, t, c * k)
        w = self.pool.view(op)[:c, :c].reshape(c, c * k)
        bias = self.pool.bias(op)[:c]
        if op == "Conv":
            y = F.linear(windows, w, bias)
        elif op == "Shift":
            y = shift_linear(windows, round_to_power_of_two(w), bias)
        else:
            y = adder_linear(windows, w, bias)
        return self.norms[op].sliced(y)

    def regularization_loss(self) -> torch.Tensor:
        """Eq. 5's KL terms: the pool to N(0, I) and T(pool) to Laplace(0, 1) (heterogeneous only)."""
        return self.pool.regularization_loss()


@register(LocalMixer)
def _local_mixer_layers(module: LocalMixer, inputs: tuple, output: torch.Tensor) -> list[Layer]:
    """Cost counting: a 1-D convolution over ``tokens`` of width ``kernel``, MACs of the active op."""
    c = output.shape[-1]
    shape = LayerShape(c, c, out_h=output.numel() // c, kernel_w=module.kernel)
    return [Layer(shape, LOCAL_OPS[module.op])]


@dataclass(frozen=True)
class BlockSpec:
    """The largest shape of one block: embed, attention width (heads x head dim), MLP, block types."""
    embed: int
    heads: int
    mlp: int
    types: tuple[str, ...]


class Block(nn.Module):
    """One encoder or decoder block: token mixer (self), cross attention (decoder), MLP."""

    def __init__(self, spec: BlockSpec, head_dim: int, kernel: int, sharing: str, decoder: bool,
                 dropout: float):
        super().__init__()
        d, width = spec.embed, spec.heads * head_dim
        parts = [split_block(t) for t in spec.types]
        local_ops = tuple(sorted({op for _, op in parts if op}, key=list(LOCAL_OPS).index))
        # a branch only ever fed half the channels (Attn+X) is built half as wide
        attn_div = 1 if any(a and not op for a, op in parts) else 2
        local_div = 1 if any(op and not a for a, op in parts) else 2
        self.decoder, self.dropout = decoder, dropout
        self.norm_mix = ElasticLayerNorm(d)
        self.attn = (ElasticAttention(d // attn_div, width // attn_div, head_dim)
                     if any(a for a, _ in parts) else None)
        self.local = (LocalMixer(d // local_div, kernel, local_ops, sharing, causal=decoder)
                      if local_ops else None)
        if decoder:
            self.norm_cross = ElasticLayerNorm(d)
            self.cross = ElasticAttention(d, width, head_dim)
        self.norm_mlp = ElasticLayerNorm(d)
        self.fc1, self.fc2 = ElasticLinear(d, spec.mlp), ElasticLinear(spec.mlp, d)

    def _drop(self, x: torch.Tensor) -> torch.Tensor:
        return F.dropout(x, self.dropout, self.training)

    def mix(self, x: torch.Tensor, block: str, heads: int, pad: torch.Tensor | None) -> torch.Tensor:
        attn, local = split_block(block)
        if attn and local:
            half = x.shape[-1] // 2
            xa, xl = x[..., :half], x[..., half:]
            return torch.cat([self.attn(xa, xa, heads // 2, pad, self.decoder),
                              self.local(xl, local, pad)], dim=-1)
        if attn:
            return self.attn(x, x, heads, pad, self.decoder)
        return self.local(x, local, pad)

    def forward(self, x: torch.Tensor, block: str, heads: int, mlp: int, pad: torch.Tensor | None,
                memory: torch.Tensor | None = None, memory_pad: torch.Tensor | None = None) -> torch.Tensor:
        d = x.shape[-1]
        x = x + self._drop(self.mix(self.norm_mix.sliced(x), block, heads, pad))
        if self.decoder:
            h = self.norm_cross.sliced(x)
            x = x + self._drop(self.cross(h, memory, heads, memory_pad, causal=False))
        h = F.relu(self.fc1.sliced(self.norm_mlp.sliced(x), mlp))
        return x + self._drop(self.fc2.sliced(h, d))


class OutputProjection(nn.Module):
    """Logits from the (tied) token embedding, sliced to the active embed dim."""

    def __init__(self, embedding: nn.Embedding):
        super().__init__()
        self.embedding = [embedding]  # a plain list: the tied weight stays owned by the embedding

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.embedding[0].weight[:, : x.shape[-1]])


def _positions(t: int, d: int, device: torch.device) -> torch.Tensor:
    """Sinusoidal position encoding (Vaswani et al.) of ``t`` positions, ``d`` channels."""
    pos = torch.arange(t, device=device, dtype=torch.float32)[:, None]
    freq = torch.exp(torch.arange(0, d, 2, device=device, dtype=torch.float32) * (-math.log(10000.0) / d))
    pe = torch.zeros(t, d, device=device)
    pe[:, 0::2], pe[:, 1::2] = torch.sin(pos * freq), torch.cos(pos * freq)
    return pe


class ShiftAddNASTransformer(nn.Module, Supernet):
    """The supernet (or, built with :func:`standalone`, one subnet) over a shared source/target vocab.

    ``layout``: the largest shape of every encoder and decoder block; by default the whole space.
    """

    def __init__(self, dims: NlpSpaceDims, vocab_size: int, sharing: str = "heterogeneous", *,
                 dropout: float = 0.1, pad_id: int = 0, layout: tuple[list[BlockSpec], list[BlockSpec]] | None = None):
        super().__init__()
        self.space = ShiftAddNASNLPSpace(dims)
        check_choice("sharing", sharing, SHARING)
        self.dims, self.sharing, self.pad_id = dims, sharing, pad_id
        if layout is None:
            full = lambda types: BlockSpec(max(dims.embed), max(dims.heads), max(dims.mlp), types)  # noqa: E731
            layout = ([full(ENCODER_TYPES)] * dims.encoder_layers, [full(DECODER_TYPES)] * dims.max_decoder_layers)
        self.max_embed = layout[0][0].embed
        self.embed_tokens = nn.Embedding(vocab_size, self.max_embed, padding_idx=pad_id)
        nn.init.normal_(self.embed_tokens.weight, 0.0, self.max_embed ** -0.5)
        with torch.no_grad():
            self.embed_tokens.weight[pad_id].zero_()
        kw = dict(head_dim=dims.head_dim, kernel=dims.kernel, sharing=sharing, dropout=dropout)
        self.encoder = nn.ModuleList(Block(s, decoder=False, **kw) for s in layout[0])
        self.decoder = nn.ModuleList(Block(s, decoder=True, **kw) for s in layout[1])
        self.encoder_norm, self.decoder_norm = ElasticLayerNorm(self.max_embed), ElasticLayerNorm(self.max_embed)
        self.output_projection = OutputProjection(self.embed_tokens)
        self.dropout = dropout
        self.config: Config = self.space.transformer()

    def set_active_subnet(self, config: Config) -> None:
        self.space.validate(config)
        self.config = config

    def export(self, config: Config) -> "ShiftAddNASTransformer":
        """A :func:`standalone` network of ``config`` holding the weights it inherits (same outputs)."""
        net = standalone(config, self.dims, self.embed_tokens.num_embeddings, dropout=self.dropout, pad_id=self.pad_id)
        copy_subnet_weights(self, net)
        return net

    def regularization_loss(self) -> torch.Tensor:
        """Sum of the KL terms of Eq. 5 over every layer (zero unless heterogeneous sharing)."""
        total = self.embed_tokens.weight.new_zeros(())
        for block in (*self.encoder, *self.decoder):
            if block.local is not None:
                total = total + block.local.regularization_loss()
        return total

    def _embed(self, tokens: torch.Tensor) -> torch.Tensor:
        d = self.config["embed"]
        x = self.embed_tokens.weight[:, :d][tokens] * math.sqrt(d)
        return F.dropout(x + _positions(tokens.shape[1], d, tokens.device), self.dropout, self.training)

    def encode(self, src: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
        """Encoder outputs of every block (after the final norm) and the source padding mask."""
        pad = src.eq(self.pad_id)
        x, outs = self._embed(src), []
        for block, (typ, heads, mlp) in zip(self.encoder, zip(*(self.config[k] for k in ENCODER_LISTS))):
            x = block(x, typ, heads, mlp, pad)
            outs.append(self.encoder_norm.sliced(x))
        return outs, pad

    def decode(self, tgt_in: torch.Tensor, encoded: tuple[list[torch.Tensor], torch.Tensor]) -> torch.Tensor:
        """Next-token logits for every target position (teacher forcing)."""
        outs, src_pad = encoded
        pad = tgt_in.eq(self.pad_id)
        x = self._embed(tgt_in)
        cfg = self.config
        for i in range(cfg["decoder_layers"]):
            typ, heads, mlp, arb = (cfg[k][i] for k in DECODER_LISTS)
            memory = torch.cat(outs[-arb:], dim=1)
            x = self.decoder[i](x, typ, heads, mlp, pad, memory, src_pad.repeat(1, arb))
        return self.output_projection(self.decoder_norm.sliced(x))

    def forward(self, src: torch.Tensor, tgt_in: torch.Tensor) -> torch.Tensor:
        return self.decode(tgt_in, self.encode(src))


def standalone(config: Config, dims: NlpSpaceDims, vocab_size: int, *, dropout: float = 0.1,
               pad_id: int = 0) -> ShiftAddNASTransformer:
    """A network with exactly the weights of ``config`` (no sharing, no unused op or width)."""
    space = ShiftAddNASNLPSpace(dims)
    space.validate(config)
    d = config["embed"]
    enc = [BlockSpec(d, h, m, (t,)) for t, h, m in zip(*(config[k] for k in ENCODER_LISTS))]
    dec = [BlockSpec(d, h, m, (t,)) for t, h, m in
           list(zip(*(config[k] for k in DECODER_LISTS[:3])))[: config["decoder_layers"]]]
    net = ShiftAddNASTransformer(dims, vocab_size, "none", dropout=dropout, pad_id=pad_id, layout=(enc, dec))
    net.set_active_subnet(config)
    return net


@torch.no_grad()
def copy_subnet_weights(supernet: ShiftAddNASTransformer, net: ShiftAddNASTransformer) -> None:
    """Fill a :func:`standalone` network with the front slices its config inherits from ``supernet``.

    Local-op weights are the op's effective weight (T(pool) for Add under heterogeneous sharing).
    """
    source = dict(supernet.named_parameters())
    for name, p in net.named_parameters():
        if ".local.pool.weights." in name or ".local.pool.biases." in name:
            prefix, kind, op = name.rsplit(".", 2)
            pool: SharedPool = supernet.get_submodule(prefix)
            full = pool.view(op) if kind == "weights" else pool.bias(op)
        else:
            full = source[name]
        p.copy_(full[tuple(slice(0, n) for n in p.shape)])
