"""Counting by operation type: params, MACs and the #Mult / #Add / #Shift split (ShiftAddNAS Table 4).

Conventions (ShiftAddNAS Sec. 4.3 and Table 4; DESIGN.md section 4):

* a convolution or linear MAC is one multiplication and one addition (op ``"mult"``);
* an adder MAC (AdderNet, ``-sum |x - w|``) is two additions (op ``"add"``);
* a shift MAC (DeepShift, ``x * s * 2^p``) is one shift and one addition (op ``"shift"``);
* attention matmuls (``Q K^T`` and ``A V``) are multiplications;
* FLOPs = 2 x MACs; effective FLOPs of a b-bit model = FLOPs x (b/32)^2 (Zhou et al., 2016).

Only the MAC-bearing layers are counted (convolutions, linear layers, matmuls), as the papers do:
normalisation, activations, pooling and residual additions are left out (the parameterised ones,
normalisation and embeddings, have an explicit no-MACs formula). A heterogeneous-sharing layer
(``SharedConv2d``, the NLP supernet's ``LocalMixer``) is counted by its active view, read from its
explicit ``op`` attribute: Conv view multiplications, Add view additions, Shift view shifts.

How it counts: the model runs once (on the ``meta`` device by default, so paper-scale models cost
no memory) with forward hooks. A module whose type has a formula in the registry (looked up along
its class hierarchy) is counted by that formula and everything inside it is skipped. A matmul or
convolution that runs outside any registered module (functional attention, ``nn.MultiheadAttention``)
is caught at the dispatcher and counted as a multiplication layer. A module that has parameters
and no formula, and inside which nothing was counted, raises an :class:`UncountedModuleWarning`
naming its type (rather than being silently counted as zero). Every counted layer is also
described as a :class:`LayerShape` (a grouped convolution), which is what the dataflow model in
:mod:`repro.cost.eyeriss` tiles.

Registering a new module type::

    @register(MyBlock)
    def _my_block(module, inputs, output) -> list[Layer]:
        return [Layer(LayerShape(...), "add")]

Types of :mod:`repro.ops` (``Adder2d``, ``AdderLinear``, ``ShiftConv2d``, ``ShiftLinear``,
``SharedConv2d``) are registered by class name, so this module never imports :mod:`repro.ops` and
the formulas apply as soon as those classes exist.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

import pandas as pd
import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

OPS = ("mult", "add", "shift")
VIEW_OPS = {"conv": "mult", "add": "add", "shift": "shift"}  # a weight-sharing layer's view -> its MACs' op


class UncountedModuleWarning(UserWarning):
    """A module with parameters ran, has no counting formula, and nothing inside it was counted."""


@dataclass(frozen=True)
class LayerShape:
    """One MAC-bearing layer as a grouped convolution (Eyeriss's loop nest, Chen et al. 2016).

    Per group: ``out_channels`` (M) x ``out_h`` (E) x ``out_w`` (F) outputs, each a sum over
    ``in_channels`` (C) x ``kernel_h`` (R) x ``kernel_w`` (S) products. A linear layer on T tokens is
    C=in, M=out, E=T, F=R=S=1; a batch of b matmuls ``[m,k] x [k,n]`` is groups=b, C=k, M=n, E=m.
    """
    in_channels: int
    out_channels: int
    out_h: int = 1
    out_w: int = 1
    kernel_h: int = 1
    kernel_w: int = 1
    stride: int = 1
    groups: int = 1

    def __post_init__(self) -> None:
        for name in ("in_channels", "out_channels", "out_h", "out_w", "kernel_h", "kernel_w",
                     "stride", "groups"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"LayerShape.{name} must be >= 1, got {getattr(self, name)!r}")

    @property
    def macs(self) -> int:
        return (self.groups * self.out_channels * self.out_h * self.out_w
                * self.in_channels * self.kernel_h * self.kernel_w)

    @property
    def weight_words(self) -> int:
        return self.groups * self.out_channels * self.in_channels * self.kernel_h * self.kernel_w

    @property
    def output_words(self) -> int:
        return self.groups * self.out_channels * self.out_h * self.out_w

    @property
    def input_words(self) -> int:
        h = (self.out_h - 1) * self.stride + self.kernel_h
        w = (self.out_w - 1) * self.stride + self.kernel_w
        return self.groups * self.in_channels * h * w


@dataclass(frozen=True)
class Layer:
    """A counted layer: its shape and the operation its MACs use (one of :data:`OPS`)."""
    shape: LayerShape
    op: str

    def __post_init__(self) -> None:
        if self.op not in OPS:
            raise ValueError(f"unknown op {self.op!r}; valid ops: {OPS}")


def split(op: str, macs: int) -> dict[str, int]:
    """#Mult / #Add / #Shift of ``macs`` MACs of one op type (ShiftAddNAS Table 4 convention)."""
    if op == "mult":
        return {"mult": macs, "add": macs, "shift": 0}
    if op == "add":
        return {"mult": 0, "add": 2 * macs, "shift": 0}
    if op == "shift":
        return {"mult": 0, "add": macs, "shift": macs}
    raise ValueError(f"unknown op {op!r}; valid ops: {OPS}")


@dataclass
class OpCounts:
    """Whole-model counts; ``layers`` has one row per counted layer (name, type, op, shape, counts)."""
    params: int
    macs: int
    mult: int
    add: int
    shift: int
    layers: pd.DataFrame = field(repr=False)

    @property
    def flops(self) -> int:
        """FLOPs = 2 x MACs (HAT / ShiftAddNAS convention)."""
        return 2 * self.macs

    def effective_flops(self, bits: int) -> float:
        """FLOPs x (bits/32)^2, the bit-operation-proportional FLOPs of a quantised model (Sec. 4.2)."""
        if bits < 1:
            raise ValueError(f"bits must be >= 1, got {bits}")
        return self.flops * (bits / 32) ** 2

    def shapes(self) -> list[Layer]:
        """The counted layers as :class:`Layer` objects, in execution order."""
        return [Layer(LayerShape(*(int(r[k]) for k in _SHAPE_COLUMNS)), r["op"])
                for r in self.layers.to_dict("records")]


Formula = Callable[[nn.Module, tuple, object], Sequence[Layer]]
_BY_TYPE: dict[type, Formula] = {}
_BY_NAME: dict[str, Formula] = {}


def register(*types: type | str) -> Callable[[Formula], Formula]:
    """Decorator: the formula for modules of these types (classes, or class names for lazy types)."""
    def deco(fn: Formula) -> Formula:
        for t in types:
            if isinstance(t, str):
                _BY_NAME[t] = fn
            else:
                _BY_TYPE[t] = fn
        return fn
    return deco


def formula_for(module: nn.Module) -> Formula | None:
    """The registered formula of a module's class or its nearest registered base class."""
    for cls in type(module).__mro__:
        if cls in _BY_TYPE:
            return _BY_TYPE[cls]
        if cls.__name__ in _BY_NAME:
            return _BY_NAME[cls.__name__]
    return None


def _weight(module: nn.Module) -> torch.Tensor:
    w = getattr(module, "weight", None)
    if isinstance(w, torch.Tensor):
        return w
    for p in module.parameters(recurse=False):
        if p.dim() >= 2:
            return p
    raise TypeError(f"{type(module).__name__} has no weight tensor to count")


def _pair(v: int | Sequence[int]) -> int:
    return int(v if isinstance(v, int) else v[0])


def weighted_layer(module: nn.Module, inputs: tuple, output: torch.Tensor) -> LayerShape:
    """The shape of a conv-like (weight ``[M, C/g, *kernel]``, output ``[N, M, *spatial]``) or a
    linear-like (weight ``[M, C]``, output ``[..., M]``) layer, batch folded into the output rows."""
    w = _weight(module)
    out_ch = w.shape[0]
    if w.dim() == 2:
        tokens = output.numel() // out_ch
        return LayerShape(w.shape[1], out_ch, out_h=tokens)
    kernel = list(w.shape[2:])
    spatial = list(output.shape[2:])
    kernel = [1] * (2 - len(kernel)) + kernel
    spatial = [1] * (2 - len(spatial)) + spatial
    groups = inputs[0].shape[1] // w.shape[1]
    return LayerShape(w.shape[1], out_ch // groups, out_h=spatial[0] * output.shape[0], out_w=spatial[1],
                      kernel_h=kernel[0], kernel_w=kernel[1], stride=_pair(getattr(module, "stride", 1)),
                      groups=groups)


def _typed(op: str) -> Formula:
    def formula(module: nn.Module, inputs: tuple, output: torch.Tensor) -> list[Layer]:
        return [Layer(weighted_layer(module, inputs, output), op)]
    formula.__doc__ = f"A weighted layer whose MACs are of op {op!r}."
    return formula


register(nn.Conv1d, nn.Conv2d, nn.Linear)(_typed("mult"))
register("Adder2d", "AdderLinear")(_typed("add"))
register("ShiftConv2d", "ShiftLinear")(_typed("shift"))


@register(nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm, nn.InstanceNorm1d, nn.InstanceNorm2d,
          nn.InstanceNorm3d, nn.LayerNorm, nn.GroupNorm, nn.RMSNorm, nn.Embedding, nn.EmbeddingBag, nn.PReLU)
def _no_macs(module: nn.Module, inputs: tuple, output: object) -> list[Layer]:
    """Normalisation, embedding lookups and PReLU: parameters but no MACs (left out, as the papers do)."""
    return []


def active_view_op(module: nn.Module) -> str:
    """The op (one of :data:`OPS`) of a weight-sharing layer's active view, read from its ``op`` attribute."""
    view = getattr(module, "op", None)
    if not isinstance(view, str) or view.lower() not in VIEW_OPS:
        raise ValueError(f"{type(module).__name__}.op must name its active view (one of {tuple(VIEW_OPS)}), "
                         f"got {view!r}")
    return VIEW_OPS[view.lower()]


@register("SharedConv2d")
def _shared_conv2d(module: nn.Module, inputs: tuple, output: torch.Tensor) -> list[Layer]:
    """Heterogeneous sharing (ShiftAddNAS Fig. 4a): the active view's front-sliced k x k convolution."""
    x, k = inputs[0], module.kernel_size
    shape = LayerShape(x.shape[1], output.shape[1], out_h=output.shape[0] * output.shape[2], out_w=output.shape[3],
                       kernel_h=k, kernel_w=k, stride=module.stride)
    return [Layer(shape, active_view_op(module))]


def matmul_layer(a_shape: Sequence[int], b_shape: Sequence[int]) -> LayerShape:
    """``[..., m, k] x [..., k, n]`` as b groups of C=k, M=n, E=m (b = product of the batch dims)."""
    *batch, m, k = a_shape
    n = b_shape[-1]
    return LayerShape(k, n, out_h=m, groups=math.prod(batch) if batch else 1)


def _conv_layer(args: tuple) -> LayerShape:
    x, w = args[0], args[1]
    stride, transposed, groups = args[3], args[6], args[8]
    if transposed:
        raise NotImplementedError("transposed convolutions are not counted")
    out_spatial = []
    for i, size in enumerate(x.shape[2:]):
        pad, dil, st = args[4][i], args[5][i], stride[i]
        out_spatial.append((size + 2 * pad - dil * (w.shape[2 + i] - 1) - 1) // st + 1)
    kernel = [1] * (4 - w.dim()) + list(w.shape[2:])
    out_spatial = [1] * (2 - len(out_spatial)) + out_spatial
    return LayerShape(w.shape[1], w.shape[0] // groups, out_h=out_spatial[0] * x.shape[0],
                      out_w=out_spatial[1], kernel_h=kernel[0], kernel_w=kernel[1], stride=stride[0],
                      groups=groups)


_aten = torch.ops.aten
_DISPATCHED: dict[object, Callable[[tuple], LayerShape]] = {
    _aten.mm: lambda a: matmul_layer(a[0].shape, a[1].shape),
    _aten.bmm: lambda a: matmul_layer(a[0].shape, a[1].shape),
    _aten.addmm: lambda a: matmul_layer(a[1].shape, a[2].shape),
    _aten.baddbmm: lambda a: matmul_layer(a[1].shape, a[2].shape),
    _aten.convolution: _conv_layer,
}


class _Counter(TorchDispatchMode):
    """Counts matmuls and convolutions that run outside every registered module, as ``"mult"``."""

    def __init__(self, owner: "_Hooks"):
        super().__init__()
        self.owner = owner

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        shape_of = _DISPATCHED.get(func.overloadpacket)
        if shape_of is not None and self.owner.depth == 0:
            self.owner.add(self.owner.current, f"aten.{func.overloadpacket.__name__}",
                           [Layer(shape_of(args), "mult")])
        return out


_SHAPE_COLUMNS = ("in_channels", "out_channels", "out_h", "out_w", "kernel_h", "kernel_w", "stride",
                  "groups")


class _Hooks:
    """Forward hooks that keep the module-name stack and apply the registered formulas."""

    def __init__(self, model: nn.Module, exclude: Iterable[str]):
        self.exclude = tuple(exclude)
        self.names: list[str] = [""]
        self.depth = 0
        self.rows: list[dict] = []
        self.starts: list[int] = []
        self.uncounted: dict[str, list[str]] = {}
        self.handles = []
        for name, module in model.named_modules():
            fn = formula_for(module)
            self.handles.append(module.register_forward_pre_hook(self._pre(name, fn)))
            self.handles.append(module.register_forward_hook(self._post(name, fn)))

    @property
    def current(self) -> str:
        return self.names[-1]

    def excluded(self, name: str) -> bool:
        return any(name == e or name.startswith(e + ".") for e in self.exclude)

    def add(self, name: str, kind: str, layers: Sequence[Layer]) -> None:
        if self.excluded(name):
            return
        for layer in layers:
            s = layer.shape
            row = {"name": name, "type": kind, "op": layer.op,
                   **{k: getattr(s, k) for k in _SHAPE_COLUMNS}, "macs": s.macs}
            row.update(split(layer.op, s.macs))
            self.rows.append(row)

    def _pre(self, name: str, fn: Formula | None):
        def hook(module, inputs):
            self.names.append(name)
            self.starts.append(len(self.rows))
            if fn is not None:
                self.depth += 1
        return hook

    def _post(self, name: str, fn: Formula | None):
        def hook(module, inputs, output):
            self.names.pop()
            start = self.starts.pop()
            if fn is not None:
                self.depth -= 1
                if self.depth == 0:
                    self.add(name, type(module).__name__, fn(module, inputs, output))
            elif (self.depth == 0 and len(self.rows) == start and not self.excluded(name)
                  and _owns_parameters(module)):
                self.uncounted.setdefault(type(module).__name__, []).append(name)
        return hook

    def warn_uncounted(self) -> None:
        """One :class:`UncountedModuleWarning` per type of parameterised module that nothing counted."""
        for kind, names in self.uncounted.items():
            warnings.warn(f"{kind} has parameters but no counting formula and nothing inside it was counted "
                          f"({len(names)} module(s), e.g. {names[0]!r}): counted as 0 MACs; register a formula "
                          f"with repro.cost.counting.register", UncountedModuleWarning, stacklevel=3)

    def remove(self) -> None:
        for h in self.handles:
            h.remove()


def _owns_parameters(module: nn.Module) -> bool:
    """Whether the module holds parameters itself (directly or in a ParameterDict / ParameterList)."""
    holders = [module, *(c for c in module.children() if isinstance(c, (nn.ParameterDict, nn.ParameterList)))]
    return any(True for h in holders for _ in h.parameters(recurse=False))


def _weight_pairs(model: nn.Module) -> set[int]:
    """Ids of the ``sign`` tensors of DeepShift-PS layers: a PS weight is stored as a (shift, sign) pair
    of same-shaped tensors but is one weight, counted once (bit-shift paper Table 2 convention)."""
    pairs = set()
    for m in model.modules():
        shift, sign = getattr(m, "shift", None), getattr(m, "sign", None)
        if isinstance(shift, nn.Parameter) and isinstance(sign, nn.Parameter) and shift.shape == sign.shape:
            pairs.add(id(sign))
    return pairs


def count_params(model: nn.Module, exclude: Iterable[str] = ()) -> int:
    """Parameters of ``model`` outside the excluded module-name prefixes (shared tensors once, a
    DeepShift-PS (shift, sign) pair once)."""
    exclude = tuple(exclude)
    seen = _weight_pairs(model)
    total = 0
    for name, p in model.named_parameters():
        if any(name.startswith(e + ".") for e in exclude) or id(p) in seen:
            continue
        seen.add(id(p))
        total += p.numel()
    return total


def count(model: nn.Module, example: torch.Tensor | Sequence[int] | tuple, *,
          exclude: Iterable[str] = ()) -> OpCounts:
    """Params, MACs and the op split of one forward pass.

    ``example`` is an input tensor, an input shape (a tuple of ints: a float tensor of that shape is
    made on the model's device, so a model built on ``meta`` costs no memory) or a tuple of input
    tensors. ``exclude`` lists module-name prefixes left out of params and counts (HAT leaves out the
    embeddings and the output projection).
    """
    if isinstance(example, torch.Tensor):
        args: tuple = (example,)
    elif all(isinstance(v, int) for v in example):
        device = next((p.device for p in model.parameters()), torch.device("meta"))
        args = (torch.zeros(tuple(example), device=device),)
    else:
        args = tuple(example)
    hooks = _Hooks(model, exclude)
    try:
        with torch.no_grad(), _Counter(hooks):
            model(*args)
    finally:
        hooks.remove()
    hooks.warn_uncounted()
    cols = ["name", "type", "op", *_SHAPE_COLUMNS, "macs", *OPS]
    layers = pd.DataFrame(hooks.rows, columns=cols)
    totals = {k: int(layers[k].sum()) for k in ("macs", *OPS)}
    return OpCounts(params=count_params(model, exclude), layers=layers, **totals)
