"""The paper-scale model zoo: every model the papers compare, built without weights, costed by name.

    names()                         # the registered models
    build("resnet50")               # an nn.Module on the meta device
    cost("transformer-big", bits=8) # {"params", "macs", "flops", "mult", "add", "shift", "energy_mj", ...}
    register("my-net", builder, (1, 3, 224, 224), Conventions(note="..."))

``builder(resolution)`` returns the model; ``resolution`` is ``None`` for the default input, else the
image side to use (image models only). Counts follow :mod:`repro.cost.counting`, energy and latency
:mod:`repro.cost.eyeriss`.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Callable

import torch
from torch import nn

from repro.cost.counting import OpCounts, count
from repro.cost.eyeriss import HardwareConfig, layers_cost


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


_ZOO: dict[str, Entry] = {}


def register(name: str, builder: Callable[[int | None], nn.Module], input_shape: tuple[int, ...],
             conventions: Conventions | None = None) -> None:
    """Add a model to the zoo (a name already taken is replaced)."""
    _ZOO[name] = Entry(name, builder, tuple(input_shape), conventions or Conventions())
    _counts.cache_clear()


def names() -> list[str]:
    return list(_ZOO)


def entry(name: str) -> Entry:
    """The zoo entry; an unknown name lists the known ones."""
    try:
        return _ZOO[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; known models: {', '.join(_ZOO)}") from None


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


def cost(name: str, bits: int = 32, resolution: int | None = None, hw: HardwareConfig | None = None) -> dict:
    """Counts, FLOPs, effective FLOPs at ``bits``, and the dataflow model's energy (mJ) and latency (ms)."""
    c = counts(name, resolution)
    hw = replace(hw or HardwareConfig(), bits=bits)
    net = layers_cost(c.shapes(), hw)
    e = entry(name)
    return {"model": name, "bits": bits, "input_shape": list(e.shape(resolution)), "params": c.params,
            "macs": c.macs, "flops": c.flops, "effective_flops": c.effective_flops(bits), "mult": c.mult,
            "add": c.add, "shift": c.shift, "energy_mj": net.energy_mj, "latency_ms": net.latency_ms,
            "conventions": e.conventions.note}


def _register_builtin() -> None:
    from repro.cost.models import hybrid, resnet, transformer, vit

    hat = Conventions(note="HAT: no embeddings or output projection; 30 source + 30 target tokens")
    for name, spec in (("transformer-base", transformer.BASE), ("transformer-big", transformer.BIG)):
        register(name, lambda r, s=spec: transformer.Transformer(s), (1, 2 * spec.src_len, spec.dim), hat)
    image = (1, 3, 224, 224)
    for depth in (18, 50, 101):
        register(f"resnet{depth}", lambda r, d=depth: resnet.ResNet(d), image)
    mult_free = "first conv and classifier stay multiplications (as in the AdderNet / DeepShift papers)"
    register("addernet-resnet50", lambda r: resnet.ResNet(50, op="add"), image, Conventions(note=mult_free))
    register("deepshift-resnet50", lambda r: resnet.ResNet(50, op="shift"), image, Conventions(note=mult_free))
    for name, spec in (("deit-tiny", vit.DEIT_TINY), ("deit-small", vit.DEIT_SMALL), ("vit-base-16", vit.VIT_BASE),
                       ("autoformer-tiny", vit.AUTOFORMER_TINY), ("autoformer-small", vit.AUTOFORMER_SMALL),
                       ("autoformer-base", vit.AUTOFORMER_BASE)):
        register(name, lambda r, s=spec: vit.VisionTransformer(s, r or 224), image)
    reading = Conventions(note="our reading of the released encoding (repro.cost.models.hybrid)")
    register("shiftaddnas-t0", lambda r: hybrid.HybridNet(), image, reading)
    register("shiftaddnas-t1", lambda r: hybrid.HybridNet(last_downsample=False), image, reading)
    register("botnet-50", lambda r: hybrid.HybridNet(hybrid.BOTNET50_ENCODING), image,
             Conventions(note="BoTNet-50 (Srinivas et al. 2021): ResNet-50 with self-attention in the last stage; "
                              "a depthwise-conv position encoding stands in for relative position logits"))
    mobile = "ImageNet-mobile, bit-shift domain: 14 cells, C=46"
    register("shiftnas-imagenet", lambda r: _darts_imagenet("shiftnas"), image,
             Conventions(note=f"{mobile}, the CIFAR-10 cell of bit-shift Table 5"))
    register("darts-v2-imagenet", lambda r: _darts_imagenet("darts-v2"), image,
             Conventions(note=f"{mobile}, the DARTS (second order) cell of Liu et al. 2019"))


# DARTS (second order) cell, Liu et al. 2019 (the DARTS_V2 genotype of the DARTS release).
DARTS_V2 = {
    "normal": (("sep_conv_3x3", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("sep_conv_3x3", 1),
               ("sep_conv_3x3", 1), ("skip_connect", 0), ("skip_connect", 0), ("dil_conv_3x3", 2)),
    "reduce": (("max_pool_3x3", 0), ("max_pool_3x3", 1), ("skip_connect", 2), ("max_pool_3x3", 1),
               ("max_pool_3x3", 0), ("skip_connect", 2), ("skip_connect", 2), ("max_pool_3x3", 1)),
}


def _darts_imagenet(cell: str) -> nn.Module:
    """A DARTS-space ImageNet-mobile network in the bit-shift domain (bit-shift paper Sec. 5.2, Table 2),
    built with :mod:`repro.search.darts_space`: ShiftNAS's CIFAR-10 cell or the DARTS-v2 cell."""
    from repro.search.darts_space import PAPER_GENOTYPES, Genotype, NetworkImageNet

    genotype = PAPER_GENOTYPES["cifar10"] if cell == "shiftnas" else Genotype(**DARTS_V2)
    return NetworkImageNet(genotype=genotype)


_register_builtin()
