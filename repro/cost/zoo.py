"""The paper-scale model zoo: every model the papers compare, built without weights, costed by name.

    names("resnet*")                # registered models matching a pattern (all by default)
    build("resnet50")               # an nn.Module on the meta device
    cost("transformer-big", bits=8) # {"params", "macs", "flops", "mult", "add", "shift", "energy_mj", ...}

    @register_model("my-net", (1, 3, 224, 224), Conventions(note="..."))
    def my_net(resolution): ...

A model is registered where its builder is defined (kind ``"zoo"`` of :mod:`repro.registry`, the
way timm's ``register_model`` works). ``builder(resolution)`` returns the model; ``resolution`` is
``None`` for the default input, else the image side to use (image models only). Counts follow
:mod:`repro.cost.counting`, energy and latency :mod:`repro.cost.eyeriss`.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Callable

import torch
from torch import nn

from repro import registry
from repro.cost.counting import OpCounts, count
from repro.cost.eyeriss import HardwareConfig, layers_cost
from repro.cost.models import resnet, transformer, vit
from repro.spaces.shiftaddnas_cv import PAPER_FIG8, dims_for
from repro.supernets.shiftaddnas_cv import CVNet

KIND = "zoo"
IMAGE = (1, 3, 224, 224)
Builder = Callable[[int | None], nn.Module]


@dataclass(frozen=True)
class Conventions:
    """How a model is counted: module-name prefixes left out of params and MACs, and a note."""
    exclude: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class Entry:
    name: str
    builder: Callable[[int | None], nn.Module]
    input_shape: tuple[int, ...]
    conventions: Conventions

    @property
    def is_image(self) -> bool:
        return len(self.input_shape) == 4

    def shape(self, resolution: int | None) -> tuple[int, ...]:
        if resolution is None:
            return self.input_shape
        if not self.is_image:
            raise ValueError(f"{self.name} takes input {self.input_shape}, not an image: --resolution does not apply")
        if resolution < 1:
            raise ValueError(f"resolution must be >= 1, got {resolution}")
        return (*self.input_shape[:2], resolution, resolution)


def register_model(name: str, input_shape: tuple[int, ...] = IMAGE,
                   conventions: Conventions | None = None) -> Callable[[Builder], Builder]:
    """Decorator: register ``builder`` as the zoo model ``name`` with its input shape and conventions."""
    def deco(builder: Builder) -> Builder:
        registry.register(KIND, name)(Entry(name, builder, tuple(input_shape), conventions or Conventions()))
        _counts.cache_clear()
        return builder
    return deco


def names(pattern: str = "*") -> list[str]:
    """The registered models matching the fnmatch ``pattern``, sorted."""
    return registry.list_names(KIND, pattern)


def entry(name: str) -> Entry:
    """The zoo entry; an unknown name lists the known ones."""
    try:
        return registry.get(KIND, name)
    except KeyError:
        raise KeyError(f"unknown model {name!r}; known models: {', '.join(names())}") from None


def build(name: str, device: str | torch.device = "meta", resolution: int | None = None) -> nn.Module:
    """The model, built on ``device`` (``meta`` by default: no memory for the weights)."""
    e = entry(name)
    e.shape(resolution)
    with torch.device(device):
        return e.builder(resolution).eval()


@lru_cache(maxsize=64)
def _counts(name: str, resolution: int | None) -> OpCounts:
    e = entry(name)
    return count(build(name, resolution=resolution), e.shape(resolution), exclude=e.conventions.exclude)


def counts(name: str, resolution: int | None = None) -> OpCounts:
    """Params, MACs and the op split of one forward pass (per-layer rows in ``.layers``)."""
    return _counts(name, resolution)


def counts_cost(c: OpCounts, hw: HardwareConfig) -> dict:
    """Params, MACs and their split, FLOPs, effective FLOPs at ``hw.bits``, and the dataflow model's
    energy (mJ) and latency (ms) of counted layers."""
    net = layers_cost(c.shapes(), hw)
    return {"params": c.params, "macs": c.macs, "flops": c.flops, "effective_flops": c.effective_flops(hw.bits),
            "mult": c.mult, "add": c.add, "shift": c.shift, "energy_mj": net.energy_mj, "latency_ms": net.latency_ms}


def cost(name: str, bits: int = 32, resolution: int | None = None, hw: HardwareConfig | None = None) -> dict:
    """Counts, FLOPs, effective FLOPs at ``bits``, and the dataflow model's energy (mJ) and latency (ms)."""
    e = entry(name)
    return {"model": name, "bits": bits, "input_shape": list(e.shape(resolution)),
            **counts_cost(counts(name, resolution), replace(hw or HardwareConfig(), bits=bits)),
            "conventions": e.conventions.note}


HAT = Conventions(note="HAT: no embeddings or output projection; 30 source + 30 target tokens")
#: The same convention on the ShiftAddNAS NLP networks (repro.supernets.shiftaddnas_nlp): module names left out.
HAT_EXCLUDE = ("embed_tokens", "output_projection")
MULT_FREE = Conventions(note="first conv and classifier stay multiplications (as in the AdderNet / DeepShift papers)")
OUR_READING = Conventions(note="the Fig. 8 encoding built from our CV supernet's blocks at the released retraining's "
                                "widths (repro.spaces.shiftaddnas_cv, repro.supernets.shiftaddnas_cv)")
MOBILE = "ImageNet-mobile, bit-shift domain: 14 cells, C=46"


def _tokens(spec: transformer.TransformerSpec) -> tuple[int, int, int]:
    """The input of a Transformer under HAT's conventions: source and target tokens concatenated."""
    return (1, 2 * spec.src_len, spec.dim)


@register_model("transformer-base", _tokens(transformer.BASE), HAT)
def transformer_base(resolution: int | None) -> nn.Module:
    return transformer.Transformer(transformer.BASE)


@register_model("transformer-big", _tokens(transformer.BIG), HAT)
def transformer_big(resolution: int | None) -> nn.Module:
    return transformer.Transformer(transformer.BIG)


@register_model("resnet18")
def resnet18(resolution: int | None) -> nn.Module:
    return resnet.ResNet(18)


@register_model("resnet50")
def resnet50(resolution: int | None) -> nn.Module:
    return resnet.ResNet(50)


@register_model("resnet101")
def resnet101(resolution: int | None) -> nn.Module:
    return resnet.ResNet(101)


@register_model("addernet-resnet50", conventions=MULT_FREE)
def addernet_resnet50(resolution: int | None) -> nn.Module:
    return resnet.ResNet(50, op="add")


@register_model("deepshift-resnet50", conventions=MULT_FREE)
def deepshift_resnet50(resolution: int | None) -> nn.Module:
    return resnet.ResNet(50, op="shift")


@register_model("deit-tiny")
def deit_tiny(resolution: int | None) -> nn.Module:
    return vit.VisionTransformer(vit.DEIT_TINY, resolution or 224)


@register_model("deit-small")
def deit_small(resolution: int | None) -> nn.Module:
    return vit.VisionTransformer(vit.DEIT_SMALL, resolution or 224)


@register_model("vit-base-16")
def vit_base_16(resolution: int | None) -> nn.Module:
    return vit.VisionTransformer(vit.VIT_BASE, resolution or 224)


@register_model("autoformer-tiny")
def autoformer_tiny(resolution: int | None) -> nn.Module:
    return vit.VisionTransformer(vit.AUTOFORMER_TINY, resolution or 224)


@register_model("autoformer-small")
def autoformer_small(resolution: int | None) -> nn.Module:
    return vit.VisionTransformer(vit.AUTOFORMER_SMALL, resolution or 224)


@register_model("autoformer-base")
def autoformer_base(resolution: int | None) -> nn.Module:
    return vit.VisionTransformer(vit.AUTOFORMER_BASE, resolution or 224)


def _paper_cv_net(config: dict = PAPER_FIG8, depths: tuple[int, ...] | None = None,
                  last_downsample: bool = True) -> nn.Module:
    """A network of the paper-scale CV space at the retraining widths (:meth:`CVSpaceDims.retrained`):
    ``depths`` fixes one depth per stage (for a network outside the space's choices); without
    ``last_downsample`` the last stage keeps the resolution before it (BossNAS's T1)."""
    dims = dims_for("paper").retrained()
    stages = dims.stages
    if depths is not None:
        stages = tuple(replace(st, depths=(d,)) for st, d in zip(stages, depths))
    if not last_downsample:
        stages = stages[:-1] + (replace(stages[-1], resolution=stages[-2].resolution),)
    return CVNet(replace(dims, stages=stages), config)


@register_model("shiftaddnas-t0", conventions=OUR_READING)
def shiftaddnas_t0(resolution: int | None) -> nn.Module:
    return _paper_cv_net()


@register_model("shiftaddnas-t1", conventions=OUR_READING)
def shiftaddnas_t1(resolution: int | None) -> nn.Module:
    return _paper_cv_net(last_downsample=False)


@register_model("botnet-50", conventions=Conventions(
    note="BoTNet-50 (Srinivas et al. 2021): ResNet-50's depths and widths in our CV supernet's bottleneck blocks, "
         "self-attention (64-dim heads) in the last stage; a depthwise-conv position encoding stands in for "
         "relative position logits"))
def botnet_50(resolution: int | None) -> nn.Module:
    return _paper_cv_net({"stages": [[1] * 3, [1] * 4, [1] * 6, [0] * 3]}, depths=(3, 4, 6, 3))


@register_model("shiftnas-imagenet", conventions=Conventions(note=f"{MOBILE}, the CIFAR-10 cell of bit-shift Table 5"))
def shiftnas_imagenet(resolution: int | None) -> nn.Module:
    return _darts_imagenet("shiftnas")


@register_model("darts-v2-imagenet",
                conventions=Conventions(note=f"{MOBILE}, the DARTS (second order) cell of Liu et al. 2019"))
def darts_v2_imagenet(resolution: int | None) -> nn.Module:
    return _darts_imagenet("darts-v2")


# DARTS (second order) cell, Liu et al. 2019 (the DARTS_V2 genotype of the DARTS release).
DARTS_V2 = {
    "normal": (("sep_conv_3x3", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("sep_conv_3x3", 1),
               ("sep_conv_3x3", 1), ("skip_connect", 0), ("skip_connect", 0), ("dil_conv_3x3", 2)),
    "reduce": (("max_pool_3x3", 0), ("max_pool_3x3", 1), ("skip_connect", 2), ("max_pool_3x3", 1),
               ("max_pool_3x3", 0), ("skip_connect", 2), ("skip_connect", 2), ("max_pool_3x3", 1)),
}


def _darts_imagenet(cell: str) -> nn.Module:
    """A DARTS-space ImageNet-mobile network in the bit-shift domain (bit-shift paper Sec. 5.2, Table 2),
    built with :mod:`repro.supernets.darts`: ShiftNAS's CIFAR-10 cell or the DARTS-v2 cell."""
    from repro.spaces.darts import PAPER_GENOTYPES, Genotype
    from repro.supernets.darts import NetworkImageNet

    genotype = PAPER_GENOTYPES["cifar10"] if cell == "shiftnas" else Genotype(**DARTS_V2)
    return NetworkImageNet(genotype=genotype)

