"""The weight-entangled AutoFormer ViT supernet (ShiftNAS-PS Sec. 3.3, 4.1).

Every subnet uses the front slices of the largest weights: the first ``embed_dim`` channels, the
first ``h`` heads, the first ``hidden`` MLP units, the first ``depth`` blocks. Two forwards share
the weights (the sliced and masked forms of :mod:`repro.ops.elastic`):

- ``set_active_subnet(config)`` then ``model(x)``: the subnet itself, on sliced weights;
- ``model(x, masks)``: the largest network with every width multiplied by a mask, the
  differentiable route the architecture generator trains through (Eq. 9). ``masks`` come from
  :meth:`ViTSupernet.masks` (policies -> prefix masks). On one-hot policies both forwards agree;
  the layer norms normalise over the active channels only, so the masked zeros change nothing.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from repro.ops.elastic import ElasticLayerNorm, ElasticLinear
from repro.spaces.autoformer import ViTSpace, hidden_width
from repro.spaces.base import Config
from repro.spaces.masks import Policies, depth_masks, prefix_masks
from repro.supernets.base import Supernet

Masks = dict[str, Tensor]


class Block(nn.Module):
    """Pre-norm transformer block at its largest widths."""

    def __init__(self, embed: int, heads: int, head_dim: int, hidden: int):
        super().__init__()
        self.heads, self.head_dim = heads, head_dim
        q = heads * head_dim
        self.norm1, self.norm2 = ElasticLayerNorm(embed), ElasticLayerNorm(embed)
        self.q, self.k, self.v = ElasticLinear(embed, q), ElasticLinear(embed, q), ElasticLinear(embed, q)
        self.proj = ElasticLinear(q, embed)
        self.fc1, self.fc2 = ElasticLinear(embed, hidden), ElasticLinear(hidden, embed)

    def _attend(self, x: Tensor, h: int, head_mask: Tensor | None = None) -> Tensor:
        """Attention of the first ``h`` heads on ``x``."""
        b, n, _ = x.shape
        q = h * self.head_dim
        split = lambda lin: lin.sliced(x, q).view(b, n, h, self.head_dim).transpose(1, 2)  # noqa: E731
        att = (split(self.q) @ split(self.k).transpose(-2, -1)) / math.sqrt(self.head_dim)
        out = att.softmax(-1) @ split(self.v)                      # (b, h, n, head_dim)
        if head_mask is not None:
            out = out * head_mask[:, None, None]
        return out.transpose(1, 2).reshape(b, n, q)

    def sliced(self, x: Tensor, h: int, hidden: int) -> Tensor:
        """The subnet block on ``x``'s embed width: ``h`` heads, ``hidden`` MLP units."""
        e = x.shape[-1]
        x = x + self.proj.sliced(self._attend(self.norm1.sliced(x), h), e)
        y = F.gelu(self.fc1.sliced(self.norm2.sliced(x), hidden))
        return x + self.fc2.sliced(y, e)

    def masked(self, x: Tensor, embed: Tensor, gate: Tensor, heads: Tensor, hidden: Tensor) -> Tensor:
        """The largest block with channel masks and a depth gate (each from Eq. 9)."""
        x = x + gate * self.proj(self._attend(self.norm1.masked(x, embed), self.heads, heads)) * embed
        y = self.norm2.masked(x, embed)
        return x + gate * self.fc2(F.gelu(self.fc1(y)) * hidden) * embed


class ViTSupernet(nn.Module, Supernet):
    """ViT over patches of ``space.patch_size`` with the largest widths of ``space``."""

    def __init__(self, space: ViTSpace):
        super().__init__()
        self.space = space
        e = space.max_embed
        self.patch = ElasticLinear(space.patch_size ** 2 * space.in_chans, e)
        self.cls = nn.Parameter(torch.zeros(1, 1, e))
        self.pos = nn.Parameter(torch.zeros(1, space.tokens, e))
        nn.init.trunc_normal_(self.pos, std=0.02)
        nn.init.trunc_normal_(self.cls, std=0.02)
        self.blocks = nn.ModuleList(Block(e, space.max_heads, space.head_dim, space.max_hidden)
                                    for _ in range(space.max_depth))
        self.norm = ElasticLayerNorm(e)
        self.head = ElasticLinear(e, space.num_classes)
        self.active: Config = space.largest()
        hid = [[hidden_width(r, emb) for r in space.mlp_ratios] for emb in space.embed_dims]
        self.register_buffer("embed_masks", prefix_masks(space.embed_dims, e), persistent=False)
        self.register_buffer("depth_masks", depth_masks(space.depths), persistent=False)
        self.register_buffer("head_masks", prefix_masks(space.num_heads, space.max_heads), persistent=False)
        self.register_buffer("hidden_masks", torch.stack([prefix_masks(row, space.max_hidden) for row in hid]),
                             persistent=False)

    def set_active_subnet(self, config: Config) -> None:
        """Make ``model(x)`` run this subnet (validated: bad choices name the valid ones)."""
        self.space.validate(config)
        self.active = config

    @torch.no_grad()
    def export(self, config: Config) -> "ViTSubnet":
        """A :class:`ViTSubnet` of ``config`` holding the front slices it inherits (same outputs)."""
        net = ViTSubnet(self.space, config)
        source = dict(self.named_parameters())
        for name, p in net.named_parameters():
            p.copy_(source[name][tuple(slice(0, n) for n in p.shape)])
        return net

    def masks(self, policies: Policies) -> Masks:
        """Eq. 9, ``p' = M p``: prefix masks weighted by the one-hot (or soft) policies."""
        p_e = policies["embed_dim"]
        out = {"embed": p_e @ self.embed_masks, "depth": policies["depth"] @ self.depth_masks}
        for i in range(self.space.max_depth):
            out[f"heads.{i}"] = policies[f"num_heads.{i}"] @ self.head_masks
            out[f"hidden.{i}"] = torch.einsum("k,r,krj->j", p_e, policies[f"mlp_ratio.{i}"], self.hidden_masks)
        return out

    def forward(self, x: Tensor, masks: Masks | None = None) -> Tensor:
        p = self.space.patch_size
        patches = F.unfold(x, p, stride=p).transpose(1, 2)          # (b, patches, p*p*c)
        if masks is None:
            return self._forward_sliced(patches)
        m = masks["embed"]
        t = torch.cat([self.cls.expand(len(x), -1, -1), self.patch(patches)], 1) + self.pos
        t = t * m
        for i, blk in enumerate(self.blocks):
            t = blk.masked(t, m, masks["depth"][i], masks[f"heads.{i}"], masks[f"hidden.{i}"])
        return self.head(self.norm.masked(t[:, 0], m))

    def _forward_sliced(self, patches: Tensor) -> Tensor:
        cfg = self.active
        e = cfg["embed_dim"]
        t = self.patch.sliced(patches, e)
        t = torch.cat([self.cls[..., :e].expand(len(patches), -1, -1), t], 1) + self.pos[..., :e]
        for blk, h, r in zip(self.blocks, cfg["num_heads"], cfg["mlp_ratio"]):
            t = blk.sliced(t, h, hidden_width(r, e))
        return self.head.sliced(self.norm.sliced(t[:, 0]))


class ViTSubnet(nn.Module):
    """One subnet of a :class:`ViTSupernet` as a standalone ViT: every weight at its exact width."""

    def __init__(self, space: ViTSpace, config: Config):
        super().__init__()
        space.validate(config)
        e, self.config = config["embed_dim"], config
        self.patch_size = space.patch_size
        self.patch = nn.Linear(space.patch_size ** 2 * space.in_chans, e)
        self.cls = nn.Parameter(torch.zeros(1, 1, e))
        self.pos = nn.Parameter(torch.zeros(1, space.tokens, e))
        self.blocks = nn.ModuleList(Block(e, h, space.head_dim, hidden_width(r, e))
                                    for h, r in zip(config["num_heads"], config["mlp_ratio"]))
        self.norm = nn.LayerNorm(e)
        self.head = nn.Linear(e, space.num_classes)

    def forward(self, x: Tensor) -> Tensor:
        p = self.patch_size
        t = self.patch(F.unfold(x, p, stride=p).transpose(1, 2))
        t = torch.cat([self.cls.expand(len(x), -1, -1), t], 1) + self.pos
        for blk in self.blocks:
            t = blk.sliced(t, blk.heads, blk.fc1.out_features)
        return self.head(self.norm(t[:, 0]))
