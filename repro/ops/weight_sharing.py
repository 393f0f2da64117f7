"""Heterogeneous weight sharing (ShiftAddNAS Sec. 3.2.2, Eqs. 5-6, Fig. 4).

One shared weight pool per layer serves the Conv, Add and Shift candidates:

* Conv uses the pool as is, with a KL term to N(0, 1);
* Shift quantizes the pool to powers of two (:func:`repro.ops.shift.round_to_power_of_two`), after scaling
  it by the standalone Shift layer's initial std (:func:`repro.ops.shift.init_std`, ``1 / sqrt(3 fan_in)``):
  the pool stays near N(0, 1), and rounded as is 48% of its weights would become +-1 (32% clipped above
  ``2^0``); scaled, none are (a BatchNorm follows every candidate, so the scale changes no function
  class, only where the exponents fall in their 5-bit range);
* Add uses ``T(pool)``, a learnable transformation kernel (Eq. 6), with a KL term to Laplace(0, 1).

Training loss (Eq. 5): ``CE + KL(P_conv(W) || N(0, I)) + KL(P_add(T(W)) || Laplace(0, 1))``.

The KL terms are estimated from the sample of weights: ``KL(p || q) = CE(p, q) - H(p)`` with the
cross-entropy to the target density averaged over the weights and ``H(p)`` Vasicek's spacing
estimate on the sorted weights. Both parts are differentiable, and the estimate is sensitive to
the shape of the distribution, not only to its moments.

The kernels' alphas train in their own optimiser group (:func:`kernel_param_groups`) with their own
peak learning rate: at the supernet's rate they barely move (0.94-1.07 after 500 steps at 1e-3).

Differences between the paper's kernel (``kernel="paper"``, the default) and the authors' released
code (``kernel="released"``), which this module also provides, with one bug fixed:

============================  ==========================================  =====================================
aspect                        paper (Eq. 6)                               released code
============================  ==========================================  =====================================
pieces                        ``d = 200`` equal segments of the sorted    100 equal-width bins of the value
                              weights                                     range ``[min, max]``
mapping                       ``alpha_i * w`` on segment ``i``            ``alpha_i * w`` in bin ``i`` (no offset)
largest weight                in the last segment                         falls in no bin and becomes 0 (here
                                                                          fixed: it joins the last bin)
KL terms in the loss          Gaussian (Conv) + Laplace (Add), weight 1   Laplace only (Gaussian computed, never
                                                                          added), weight 10
Shift view                    pool rounded to powers of two (ours: times  the pool is a DeepShift-PS layer's
                              the Shift layer's initial std)              shift P and its sign S at once
alphas' learning rate         not stated (ours: ``kernel_lr``)            the supernet's, one optimiser group
============================  ==========================================  =====================================

Our paper kernel re-sorts the scaled values before putting them back, so ``T`` always keeps the
order of the weights; where Eq. 6 is already monotone (the alphas grow with ``|w|``, as a
Gaussian-to-Laplace map does) this is exactly Eq. 6. Fitting one scale per segment lifts the
excess kurtosis of Gaussian samples to about 1.4-1.5 and then plateaus (a Laplace sample has 3):
the extreme tail segments cannot be bent by a single scale.

Ablation baselines: ``sharing="naive"`` (one pool used as is by all views: no kernel, no KL) and
``sharing="none"`` (separate weights per candidate).

Speed: on CPU a pool's ``T(pool)`` and both KL terms of the paper kernel run in one native call with its
analytic backward (``csrc/sharing.cpp``, :class:`_NativeSharing`; two radix sorts, linear in the pool size),
the same arithmetic as the PyTorch path, which stays the reference (tests) and the fallback (no compiler,
CUDA tensors);
``REPRO_SHARING_BACKEND=torch|native`` forces one (:func:`backend`).
"""
from __future__ import annotations

import math
import os

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from repro.ops.adder import adder_conv2d
from repro.ops import native
from repro.ops.checks import check_choice, check_conv_args, check_positive
from repro.ops.shift import init_std, round_to_power_of_two

SHARING = ("heterogeneous", "naive", "none")
KERNELS = ("paper", "released")
OPS = ("conv", "add", "shift")
PAPER_SEGMENTS = 200
RELEASED_BINS = 100
KL_WEIGHT = {"paper": 1.0, "released": 10.0}


BACKENDS = ("native", "torch")


def backend() -> str:
    """The CPU backend of the paper kernel with its KL terms: ``"native"`` (C++) or ``"torch"``;
    ``REPRO_SHARING_BACKEND`` forces one."""
    forced = os.environ.get("REPRO_SHARING_BACKEND")
    if forced is not None and forced not in BACKENDS:
        raise ValueError(f"REPRO_SHARING_BACKEND must be one of {BACKENDS}, got {forced!r}")
    if forced == "torch":
        return "torch"
    if native.load("sharing") is not None:
        return "native"
    if forced == "native":
        raise RuntimeError("REPRO_SHARING_BACKEND=native but the native sharing kernel could not be built")
    return "torch"


def vasicek_spacing(n: int) -> int:
    """Vasicek's default spacing ``m = round(sqrt(n) / 2)`` (at least 1) for ``n`` weights."""
    return max(1, round(math.sqrt(n) / 2))


def vasicek_entropy(w: torch.Tensor, m: int | None = None, *, presorted: bool = False) -> torch.Tensor:
    """Vasicek's spacing estimate of the differential entropy of the sample ``w`` (flattened).

    ``H = mean_i log(n / (2m) * (x_(i+m) - x_(i-m)))`` on the sorted sample, indices clamped to
    ``[0, n-1]``, ``m = round(sqrt(n) / 2)`` by default. Differentiable through the sorted values.
    ``presorted=True``: ``w`` is already in ascending order (the sort is skipped).
    """
    x = w.reshape(-1) if presorted else torch.sort(w.reshape(-1)).values
    n = x.numel()
    if n < 4:
        raise ValueError(f"the entropy estimate needs at least 4 weights, got {n}")
    m = m or vasicek_spacing(n)
    if 2 * m > n:
        raise ValueError(f"the spacing m={m} needs at least {2 * m} weights, got {n}")
    # x[min(i + m, n - 1)] - x[max(i - m, 0)] for i = 0..n-1, as three slices (no gather)
    spacing = torch.cat([x[m:2 * m] - x[0], x[2 * m:] - x[:n - 2 * m], x[n - 1] - x[n - 2 * m:n - m]])
    return torch.log(spacing.clamp_min(1e-12) * n / (2 * m)).mean()


def gaussian_kl(w: torch.Tensor, std: float = 1.0, *, presorted: bool = False) -> torch.Tensor:
    """``KL(p_w || N(0, std^2))`` = cross-entropy to the Gaussian minus the Vasicek entropy (Eq. 5, Conv)."""
    cross_entropy = (0.5 * (w.reshape(-1) / std) ** 2).mean() + 0.5 * math.log(2 * math.pi * std ** 2)
    return cross_entropy - vasicek_entropy(w, presorted=presorted)


def laplace_kl(w: torch.Tensor, scale: float = 1.0, *, presorted: bool = False) -> torch.Tensor:
    """``KL(p_w || Laplace(0, scale))`` = cross-entropy to the Laplace minus the Vasicek entropy (Eq. 5, Add)."""
    cross_entropy = (w.reshape(-1).abs() / scale).mean() + math.log(2 * scale)
    return cross_entropy - vasicek_entropy(w, presorted=presorted)


def excess_kurtosis(w: torch.Tensor) -> float:
    """Sample excess kurtosis ``E[(w - mu)^4] / var^2 - 3`` (0 for a Gaussian, 3 for a Laplace)."""
    x = w.detach().double().reshape(-1)
    x = x - x.mean()
    return float((x ** 4).mean() / (x ** 2).mean() ** 2 - 3.0)


class _NativeSharing(torch.autograd.Function):
    """``(T(w), KL_N(w), KL_Lp(T(w)))`` of the paper kernel in one native call (two radix sorts), with its
    analytic backward."""

    @staticmethod
    def forward(ctx, w, alpha, m):
        t, kl_gauss, kl_laplace, order, perm2, v, u = native.load("sharing").forward(w.detach(), alpha.detach(), m)
        ctx.save_for_backward(alpha, order, perm2, v, u)
        ctx.m, ctx.shape = m, w.shape
        ctx.set_materialize_grads(False)
        return t, kl_gauss, kl_laplace

    @staticmethod
    def backward(ctx, g_t, g_gauss, g_laplace):
        alpha, order, perm2, v, u = ctx.saved_tensors
        g_t = torch.empty(0, dtype=v.dtype) if g_t is None else g_t
        grad_w, grad_alpha = native.load("sharing").backward(
            g_t, 0.0 if g_gauss is None else float(g_gauss), 0.0 if g_laplace is None else float(g_laplace),
            alpha, order, perm2, v, u, ctx.m)
        return grad_w.view(ctx.shape), grad_alpha, None


class TransformationKernel(nn.Module):
    """Eq. 6: flatten, sort, scale each of ``d`` equal segments of the sorted weights by ``alpha_i``,
    put the values back in place. Vectorised: one sort, one gather, one scatter; alphas start at 1.

    :meth:`with_kl` also returns Eq. 5's two KL terms (they need the sorted pool and the sorted
    ``T(pool)``): one call serves the Add view and both KL terms of a step (one sort of the pool
    instead of four; one native call on CPU). It is cached per pool until the pool or the alphas
    change (their version counters) or a backward pass has used it, so a step never sorts the same
    pool twice.
    """

    def __init__(self, num_segments: int = PAPER_SEGMENTS):
        super().__init__()
        check_positive(num_segments=num_segments)
        self.num_segments = num_segments
        self.alpha = nn.Parameter(torch.ones(num_segments))
        self._cache: tuple[tuple, tuple[torch.Tensor, torch.Tensor]] | None = None
        self._order_hint: torch.Tensor | None = None  # the PyTorch path's last sort's permutation (see _sort)

    def segment_of_rank(self, n: int, device: torch.device | None = None) -> torch.Tensor:
        """Segment index of each rank ``0..n-1``: ``floor(rank * d / n)`` (segments of ``s = n / d`` weights)."""
        return torch.arange(n, device=device) * self.num_segments // n

    def _sort(self, flat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``torch.sort(flat)``, warm-started from the previous call's order: one optimiser step moves few
        weights past their neighbours, so sorting the pool in last step's order costs about a third of a sort
        from scratch. Same sorted values (the order may differ only among equal weights)."""
        hint = self._order_hint
        if hint is None or hint.numel() != flat.numel() or hint.device != flat.device:
            values, order = torch.sort(flat)
        else:
            order = hint[torch.sort(flat.detach()[hint]).indices]
            values = flat[order]
        self._order_hint = order.detach()
        return values, order

    def _compute(self, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        flat = w.reshape(-1)
        values, order = self._sort(flat)
        scaled = torch.sort(values * self.alpha[self.segment_of_rank(flat.numel(), flat.device)]).values
        return torch.empty_like(flat).scatter(0, order, scaled).reshape(w.shape), values, scaled

    def _forget(self, *_) -> None:
        self._cache = None

    def __getstate__(self) -> dict:  # copies and pickles carry no step state
        return {**self.__dict__, "_cache": None, "_order_hint": None}

    def _native(self, w: torch.Tensor) -> bool:
        return w.device.type == "cpu" and w.dtype in (torch.float32, torch.float64) and backend() == "native"

    def _compute_with_kl(self, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(T(w), KL_N(w) + KL_Lp(T(w)))``: one native call, or the PyTorch path (:meth:`_compute`)."""
        if not self._native(w):
            t, pool_sorted, t_sorted = self._compute(w)
            return t, gaussian_kl(pool_sorted, presorted=True) + laplace_kl(t_sorted, presorted=True)
        t, kl_gauss, kl_laplace = _NativeSharing.apply(w, self.alpha, vasicek_spacing(w.numel()))
        return t, kl_gauss + kl_laplace

    def with_kl(self, w: nn.Parameter) -> tuple[torch.Tensor, torch.Tensor]:
        """``(T(w), KL_N(w) + KL_Lp(T(w)))`` for a parameter ``w``, cached within a step until ``w`` or the
        alphas change: the Add view's forward and Eq. 5's KL terms share one computation (one sort of the pool)."""
        stamp = (id(w), w._version, self.alpha._version, torch.is_grad_enabled())
        if self._cache is not None and self._cache[0] == stamp:
            return self._cache[1]
        out = self._compute_with_kl(w)
        if torch.is_grad_enabled() and out[0].requires_grad:
            # a backward through the cached graph frees it: the next use must recompute
            out[0].register_hook(self._forget)
            out[1].register_hook(self._forget)
        self._cache = (stamp, out)
        return out

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        return self.with_kl(w)[0] if isinstance(w, nn.Parameter) else self._compute(w)[0]


class ReleasedTransformationKernel(nn.Module):
    """The released code's kernel: ``num_bins`` equal-width bins of ``[min, max]``, ``alpha_i * w`` per bin.

    The released code loses the largest weight (it falls in no bin and becomes 0); here it joins the last bin.
    """

    def __init__(self, num_bins: int = RELEASED_BINS):
        super().__init__()
        check_positive(num_bins=num_bins)
        self.num_bins = num_bins
        self.alpha = nn.Parameter(torch.ones(num_bins))

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        lo, hi = w.detach().min(), w.detach().max()
        width = (hi - lo).clamp_min(1e-12) / self.num_bins
        bins = ((w.detach() - lo) / width).floor().long().clamp_(0, self.num_bins - 1)
        return w * self.alpha[bins]


def make_kernel(kernel: str = "paper", size: int | None = None) -> nn.Module:
    """``"paper"``: :class:`TransformationKernel` (d = 200); ``"released"``: :class:`ReleasedTransformationKernel` (100 bins)."""
    check_choice("kernel", kernel, KERNELS)
    if kernel == "paper":
        return TransformationKernel(size or PAPER_SEGMENTS)
    return ReleasedTransformationKernel(size or RELEASED_BINS)


def sharing_kl(pool: torch.Tensor, transform: nn.Module, kernel: str = "paper") -> torch.Tensor:
    """The KL part of Eq. 5 for one pool: paper ``KL_N(W) + KL_Lp(T(W))``; released ``10 * KL_Lp(T(W))``."""
    check_choice("kernel", kernel, KERNELS)
    if kernel == "released":
        return KL_WEIGHT[kernel] * laplace_kl(transform(pool))
    if isinstance(transform, TransformationKernel) and isinstance(pool, nn.Parameter):
        return KL_WEIGHT[kernel] * transform.with_kl(pool)[1]  # shared with the Add view's forward
    return KL_WEIGHT[kernel] * (gaussian_kl(pool) + laplace_kl(transform(pool)))


def fit_kernel(transform: nn.Module, w: torch.Tensor, steps: int, lr: float = 0.05,
               desc: str = "fit kernel") -> list[float]:
    """Fit only the kernel's alphas so that ``T(w)`` approaches Laplace(0, 1) (Adam); returns the KL per step."""
    opt = torch.optim.Adam(transform.parameters(), lr=lr)
    history = []
    for _ in tqdm(range(steps), desc=desc, leave=False):
        loss = laplace_kl(transform(w.detach()))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        history.append(loss.item())
    return history


def kernel_param_groups(model: nn.Module, kernel_lr: float) -> list[dict]:
    """The optimiser's parameter groups for a model with transformation kernels (Eq. 6): every other
    parameter in the first group (the optimiser's defaults), the kernels' alphas in a second group at
    the peak ``kernel_lr`` and without weight decay (a decay would pull the scales towards 0, not 1).
    One group when the model has no kernel."""
    if not kernel_lr > 0:
        raise ValueError(f"kernel_lr must be positive, got {kernel_lr!r}")
    kernels = (TransformationKernel, ReleasedTransformationKernel)
    alphas = {id(p) for m in model.modules() if isinstance(m, kernels) for p in m.parameters()}
    params = list(model.parameters())
    groups = [{"params": [p for p in params if id(p) not in alphas]}]
    if alphas:
        groups.append({"params": [p for p in params if id(p) in alphas], "lr": kernel_lr, "weight_decay": 0.0})
    return groups


def shared_parameter_count(in_channels: int, out_channels: int, kernel_size: int, sharing: str,
                           kernel: str = "paper") -> int:
    """Parameters of one :class:`SharedConv2d` layer serving Conv, Add and Shift in each sharing mode.

    heterogeneous: one pool + the kernel's alphas; naive: one pool; none: one weight per candidate.
    """
    check_choice("sharing", sharing, SHARING)
    pool = out_channels * in_channels * kernel_size ** 2
    if sharing == "none":
        return len(OPS) * pool
    if sharing == "naive":
        return pool
    check_choice("kernel", kernel, KERNELS)
    return pool + (PAPER_SEGMENTS if kernel == "paper" else RELEASED_BINS)


class SharedPool(nn.Module):
    """The Conv / Add / Shift weights of one layer under a sharing mode (Sec. 3.2.2, Fig. 4a), for every
    layer that shares them (:class:`SharedConv2d` in the CV supernet, the NLP supernet's token mixer).

    ``heterogeneous``: one pool, the Add view mapped through the learnable kernel T (Eq. 6) and Eq. 5's
    KL terms in :meth:`regularization_loss`; ``naive``: one pool used as is; ``none``: a tensor per
    candidate. ``ops`` are the candidates as the layer names them (the one whose lower case is
    ``"add"`` is the Add view). Weights start from N(0, 1) (the Conv view's KL target, AdderNet's init);
    ``bias=True`` adds a zero bias of ``shape[0]`` per tensor.
    """

    def __init__(self, shape: tuple[int, ...], ops: tuple[str, ...], sharing: str, *, kernel: str = "paper",
                 bias: bool = False):
        super().__init__()
        check_choice("sharing", sharing, SHARING)
        check_choice("kernel", kernel, KERNELS)
        self.ops, self.sharing, self.kernel = tuple(ops), sharing, kernel
        names = self.ops if sharing == "none" else ("pool",)
        self.weights = nn.ParameterDict({n: nn.Parameter(torch.randn(shape)) for n in names})
        self.biases = nn.ParameterDict({n: nn.Parameter(torch.zeros(shape[0])) for n in names}) if bias else None
        has_add = any(op.lower() == "add" for op in self.ops)
        self.transform = make_kernel(kernel) if sharing == "heterogeneous" and has_add else None

    def _key(self, op: str) -> str:
        check_choice("op", op, self.ops)
        return op if self.sharing == "none" else "pool"

    def view(self, op: str) -> torch.Tensor:
        """The full-size float weight of candidate ``op``: its own, the pool, or T(pool) for Add."""
        w = self.weights[self._key(op)]
        return self.transform(w) if self.transform is not None and op.lower() == "add" else w

    def bias(self, op: str) -> torch.Tensor:
        if self.biases is None:
            raise ValueError("this pool was built without biases (bias=False)")
        return self.biases[self._key(op)]

    def regularization_loss(self) -> torch.Tensor:
        """The KL part of Eq. 5 (zero for the naive and no-sharing baselines)."""
        if self.transform is None:
            return self.weights[next(iter(self.weights))].new_zeros(())
        return sharing_kl(self.weights["pool"], self.transform, self.kernel)


class SharedConv2d(nn.Module):
    """A layer whose Conv / Add / Shift candidates share weights (Fig. 4a, a :class:`SharedPool`); pick
    one with :meth:`set_op`.

    ``forward(x, out_channels, in_channels)`` uses the front slice ``[:out, :in]`` of the weights
    (elastic widths); the Shift view rounds ``shift_scale * pool`` to powers of two, ``shift_scale`` the
    standalone Shift layer's initial std at the full fan-in (module docstring). A BatchNorm must follow
    the layer, as it follows every candidate in the supernets.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, padding: int = 0,
                 sharing: str = "heterogeneous", kernel: str = "paper", eta: float | None = 0.2):
        super().__init__()
        check_conv_args(in_channels, out_channels, kernel_size, stride, padding, 1, 1)
        check_choice("sharing", sharing, SHARING)
        check_choice("kernel", kernel, KERNELS)
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel_size
        self.stride, self.padding, self.sharing, self.kernel, self.eta = stride, padding, sharing, kernel, eta
        self.pool = SharedPool((out_channels, in_channels, kernel_size, kernel_size), OPS, sharing, kernel=kernel)
        self.shift_scale = init_std(in_channels * kernel_size ** 2)
        self.op = "conv"

    def set_op(self, op: str) -> "SharedConv2d":
        """Choose the active candidate: ``"conv"``, ``"add"`` or ``"shift"``."""
        check_choice("op", op, OPS)
        self.op = op
        return self

    def view(self, op: str | None = None) -> torch.Tensor:
        """The full weight the candidate ``op`` (default: the active one) sees: pool, ``T(pool)`` or
        ``2^p(shift_scale * pool)``."""
        op = op or self.op
        w = self.pool.view(op)
        return round_to_power_of_two(self.shift_scale * w) if op == "shift" else w

    def forward(self, x: torch.Tensor, out_channels: int | None = None, in_channels: int | None = None) -> torch.Tensor:
        out_c, in_c = out_channels or self.out_channels, in_channels or self.in_channels
        if not (0 < out_c <= self.out_channels and 0 < in_c <= self.in_channels):
            raise ValueError(f"widths must be in 1..{self.out_channels} (out) and 1..{self.in_channels} (in), "
                             f"got {out_c} and {in_c}")
        if x.dim() != 4 or x.shape[1] != in_c:
            raise ValueError(f"SharedConv2d expects (N, {in_c}, H, W), got {tuple(x.shape)}")
        w = self.view()[:out_c, :in_c]
        if self.op == "add":
            return adder_conv2d(x, w, self.stride, self.padding, eta=self.eta)
        return F.conv2d(x, w, None, self.stride, self.padding)

    def regularization_loss(self) -> torch.Tensor:
        """The KL part of Eq. 5 for this layer (zero for the naive and no-sharing baselines)."""
        return self.pool.regularization_loss()

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, sharing={self.sharing!r}, kernel={self.kernel!r}, op={self.op!r}")
