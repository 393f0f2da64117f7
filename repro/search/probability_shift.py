"""Probability shift (ShiftNAS-PS Sec. 3.2, Appendix B): a learnable sampling distribution over
FLOPs bins, updated by the finite difference of validation losses (Algorithms 1 and 2).

The FLOPs range is split into bins of one width (0.1 GFLOPs at paper scale); ``B`` is a vector of
logits over the bins. Each training step draws a target bin with hard Gumbel-softmax, the
architecture generator turns its centre into a subnet, and the supernet and the generator take a
step (Algorithm 1). Every ``q`` steps after the warm-up (none during it), one validation batch is
run through the same subnet at the current weights ``w_t`` and at the weights ``w_{t-1}`` of ``q``
steps before, and ``grad_B = grad_B L(w_t) - grad_B L(w_{t-1})`` (Eq. 6 and 8) is *ascended*
(Eq. 5), i.e. ``B <- B + eta (grad L(w_t) - grad L(w_{t-1}))``; Algorithm 2 writes the same step
as ``grad_B = grad_{t-1} - grad_t`` followed by a minimising step. ``direction="reversed"`` is the
ablation arm that moves ``B`` the other way (``+eta (grad L(w_{t-1}) - grad L(w_t))``). The uniform
baselines are ``mode="uniform"`` (each decision drawn uniformly, Eq. 2) and ``mode="generator"``
(the generator with ``B`` frozen uniform, the paper's "without probability shift").
"""
from __future__ import annotations

import bisect
import copy
import random
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from repro.cache import Checkpoint
from repro.profiles import ConfigError
from repro.search.generator import ArchitectureGenerator, resource_loss, row

MODES = ("uniform", "generator", "shift")
DIRECTIONS = ("paper", "reversed")


@dataclass(frozen=True)
class FlopsBins:
    """``K = round((hi - lo) / width)`` bins ``[lo + k w, lo + (k+1) w)`` of subnet FLOPs."""
    lo: float
    hi: float
    width: float

    def __post_init__(self) -> None:
        if not (self.hi > self.lo and self.width > 0) or self.count < 1:
            raise ValueError(f"bins need lo < hi and 0 < width <= hi - lo, got {self}")

    @property
    def count(self) -> int:
        return int(round((self.hi - self.lo) / self.width))

    @property
    def edges(self) -> list[float]:
        return [self.lo + k * self.width for k in range(self.count + 1)]

    @property
    def centers(self) -> list[float]:
        return [self.lo + (k + 0.5) * self.width for k in range(self.count)]

    def index(self, flops: float) -> int:
        """The bin holding ``flops``, or -1 outside ``[lo, lo + count * width)``."""
        edges = self.edges
        return bisect.bisect_right(edges, flops) - 1 if edges[0] <= flops < edges[-1] else -1


class SamplingDistribution(nn.Module):
    """The ``1 x K`` learnable vector ``B`` (uniform at start) and its Gumbel-softmax draws (Eq. 6)."""

    def __init__(self, bins: FlopsBins):
        super().__init__()
        self.bins = bins
        self.logits = nn.Parameter(torch.zeros(bins.count))
        self.register_buffer("centers", torch.tensor(bins.centers), persistent=False)

    def probs(self) -> Tensor:
        return self.logits.detach().softmax(-1)

    def sample(self, tau: float = 1.0, noise: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """(one-hot bin, target FLOPs = its centre), straight-through: the target's gradient reaches
        every logit through the soft sample. ``noise`` fixes the Gumbel draw."""
        g = -torch.log(-torch.log(torch.rand(self.bins.count).clamp_min(1e-20))) if noise is None else noise
        soft = ((self.logits + g) / tau).softmax(-1)
        hard = F.one_hot(soft.argmax(), self.bins.count).to(soft.dtype)
        onehot = hard - soft.detach() + soft
        return onehot, onehot @ self.centers


def update_distribution(dist: SamplingDistribution, optimizer: torch.optim.Optimizer,
                        losses: Callable[[Tensor], tuple[Tensor, Tensor]], tau: float = 1.0,
                        direction: str = "paper") -> tuple[Tensor, float]:
    """Algorithm 2. ``losses(target)`` returns ``(L(w_{t-1}), L(w_t))`` for one subnet drawn for
    ``target`` (the same architecture and batch for both). ``optimizer`` holds ``dist.logits`` and
    maximises (Eq. 5); it ascends ``grad_B`` (``"paper"``) or ``-grad_B`` (``"reversed"``).
    Returns ``grad_B = grad_B L(w_t) - grad_B L(w_{t-1})`` (Eq. 6, 8) and the loss decrease
    ``L(w_{t-1}) - L(w_t)``."""
    if direction not in DIRECTIONS:
        raise ConfigError(f"unknown update direction {direction!r}; valid: {DIRECTIONS}")
    _, target = dist.sample(tau)
    loss_prev, loss_curr = losses(target)
    g_prev, = torch.autograd.grad(loss_prev, dist.logits, retain_graph=True)
    g_curr, = torch.autograd.grad(loss_curr, dist.logits)
    grad_b = g_curr - g_prev
    optimizer.zero_grad(set_to_none=True)
    dist.logits.grad = grad_b.clone() if direction == "paper" else -grad_b
    optimizer.step()
    return grad_b, (loss_prev - loss_curr).item()


def total_variation(probs: Sequence[float]) -> float:
    """Total-variation distance of a distribution over bins from the uniform one (the start of ``B``)."""
    p = torch.as_tensor(probs, dtype=torch.float64)
    return 0.5 * (p - 1 / p.numel()).abs().sum().item()


@dataclass(frozen=True)
class TrainConfig:
    """One supernet training run (Algorithm 1); validated, hashed into the cache key."""
    mode: str = "shift"
    direction: str = "paper"     # "reversed": the ablation arm that moves B against Eq. 6 / 8
    epochs: int = 4
    warmup_epochs: int = 1       # no distribution update before (the paper: 50 of 500 epochs)
    update_every: int = 10       # q, in steps (the paper: 100)
    lr: float = 2e-3             # AdamW for the supernet (Table 3's ViT optimiser)
    weight_decay: float = 0.05
    generator_lr: float = 1e-3
    distribution_lr: float = 1e-2  # Adam for B (the paper: 1e-3 over ~5000 updates)
    lam: float = 1.0             # lambda of Eq. 10, on FLOPs in units of the bin width
    tau: float = 1.0
    snapshot_epochs: tuple[int, ...] = ()
    seed: int = 0

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ConfigError(f"unknown training mode {self.mode!r}; valid: {MODES}")
        if self.direction not in DIRECTIONS:
            raise ConfigError(f"unknown update direction {self.direction!r}; valid: {DIRECTIONS}")
        if self.epochs < 1 or self.update_every < 1 or self.lr <= 0 or self.tau <= 0:
            raise ConfigError(f"epochs, update_every, lr and tau must be positive: {self}")


@dataclass
class TrainResult:
    """What a run leaves: weights, generator, distribution and its history, snapshots for Table 4."""
    config: TrainConfig
    supernet_state: dict
    generator_state: dict | None
    probs: list[tuple[int, list[float]]] = field(default_factory=list)   # (step, B) per epoch and at updates
    losses: list[float] = field(default_factory=list)
    snapshots: dict[int, tuple[dict, dict]] = field(default_factory=dict)  # epoch -> (w_{t-1}, w_t)
    seconds: float = 0.0


def _params(net: nn.Module) -> dict[str, Tensor]:
    return {k: v.detach().clone() for k, v in net.named_parameters()}


def _cycle(loader: DataLoader) -> Iterator:
    while True:
        yield from loader


def train_supernet(net: nn.Module, space: Any, bins: FlopsBins, train: DataLoader, val: DataLoader,
                   cfg: TrainConfig, gen: ArchitectureGenerator | None = None,
                   ckpt: Checkpoint | None = None) -> TrainResult:
    """Algorithm 1 (``mode`` shift / generator, with ``gen``, e.g. warmed by ``train_on_resource_loss``)
    or uniform sampling; trains ``net`` and ``gen`` in place, resuming from ``ckpt`` every epoch."""
    import time

    torch.manual_seed(cfg.seed)
    rng = random.Random(cfg.seed)
    if (gen is None) != (cfg.mode == "uniform"):
        raise ConfigError(f"mode {cfg.mode!r} {'takes no' if cfg.mode == 'uniform' else 'needs a'} generator")
    dist = None
    opt_w = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    opts: dict[str, torch.optim.Optimizer] = {"w": opt_w}
    if cfg.mode != "uniform":
        dist = SamplingDistribution(bins)
        opts["g"] = torch.optim.Adam(gen.parameters(), lr=cfg.generator_lr)
        opts["b"] = torch.optim.Adam(dist.parameters(), lr=cfg.distribution_lr, maximize=True)
    result = TrainResult(cfg, {}, None)
    state = ckpt.load() if ckpt else None
    start, step, w_prev = 0, 0, _params(net)
    w_before = w_prev
    if state:
        net.load_state_dict(state["net"])
        for k, o in opts.items():
            o.load_state_dict(state["opts"][k])
        if gen is not None:
            gen.load_state_dict(state["gen"])
            dist.load_state_dict(state["dist"])
        start, step, w_prev, result = state["epoch"], state["step"], state["w_prev"], state["result"]
        w_before = state["w_before"]
        rng.setstate(state["rng"])
        torch.set_rng_state(state["torch_rng"])
    if dist is not None and not result.probs:
        result.probs.append((0, dist.probs().tolist()))
    val_batches = _cycle(val)
    begin = time.perf_counter() - result.seconds
    for epoch in range(start, cfg.epochs):
        net.train()
        for x, y in tqdm(train, desc=f"{cfg.mode} supernet {epoch + 1}/{cfg.epochs}", leave=False):
            if gen is None:
                net.set_active_subnet(space.sample(rng))
                loss = F.cross_entropy(net(x), y)
            else:
                with torch.no_grad():
                    _, target = dist.sample(cfg.tau)
                pol = row(gen(target[None], tau=cfg.tau))
                loss = F.cross_entropy(net(x, net.masks(pol)), y) + cfg.lam * resource_loss(
                    space.flops_from_policies(pol), target, bins.width)
            for o in opts.values():
                o.zero_grad(set_to_none=True)
            loss.backward()
            opt_w.step()
            if gen is not None:
                opts["g"].step()
            result.losses.append(loss.item())
            step += 1
            if step % cfg.update_every == 0:
                if cfg.mode == "shift" and epoch >= cfg.warmup_epochs:
                    xv, yv = next(val_batches)
                    update_distribution(dist, opts["b"], _val_losses(net, gen, w_prev, xv, yv, cfg.tau), cfg.tau,
                                        cfg.direction)
                    result.probs.append((step, dist.probs().tolist()))
                w_before, w_prev = w_prev, _params(net)
        if epoch + 1 in cfg.snapshot_epochs:  # (w_{t-1}, w_t): the last window of q steps
            result.snapshots[epoch + 1] = (w_before if step % cfg.update_every == 0 else w_prev, _params(net))
        if dist is not None:
            result.probs.append((step, dist.probs().tolist()))
        result.seconds = time.perf_counter() - begin
        if ckpt:
            ckpt.save({"net": net.state_dict(), "opts": {k: o.state_dict() for k, o in opts.items()},
                       "gen": gen.state_dict() if gen else None, "dist": dist.state_dict() if dist else None,
                       "epoch": epoch + 1, "step": step, "w_prev": w_prev, "w_before": w_before, "result": result,
                       "rng": rng.getstate(), "torch_rng": torch.get_rng_state()})
    result.supernet_state = copy.deepcopy(net.state_dict())
    result.generator_state = copy.deepcopy(gen.state_dict()) if gen else None
    return result


def _val_losses(net: nn.Module, gen: ArchitectureGenerator, w_prev: dict[str, Tensor], x: Tensor, y: Tensor,
                tau: float) -> Callable[[Tensor], tuple[Tensor, Tensor]]:
    """Algorithm 2's two losses on one validation batch, one subnet ``a = AG(b)`` for both weights."""
    def losses(target: Tensor) -> tuple[Tensor, Tensor]:
        masks = net.masks(row(gen(target[None], tau=tau)))
        prev = F.cross_entropy(functional_call(net, w_prev, (x, masks)), y)
        return prev, F.cross_entropy(net(x, masks), y)
    return losses


def bin_gradient_score(net: nn.Module, gen: ArchitectureGenerator, bins: FlopsBins, k: int,
                       w_prev: dict[str, Tensor], x: Tensor, y: Tensor, tau: float = 1.0) -> tuple[float, dict]:
    """Table 4's score: entry ``k`` of ``grad_B = grad_B L(w_t) - grad_B L(w_{t-1})`` (Eq. 6, 8) for
    the subnet the generator draws for bin ``k``, at uniform ``B`` with the draw fixed to bin ``k``
    (``net`` holds ``w_t``). Returns the score and the subnet's one-hot policies."""
    logits = torch.zeros(bins.count, requires_grad=True)
    soft = (logits / tau).softmax(-1)
    onehot = F.one_hot(torch.tensor(k), bins.count).to(soft.dtype) - soft.detach() + soft
    pol = row(gen((onehot @ torch.tensor(bins.centers))[None], tau=tau))
    masks = net.masks(pol)
    prev = F.cross_entropy(functional_call(net, w_prev, (x, masks)), y)
    grad, = torch.autograd.grad(F.cross_entropy(net(x, masks), y) - prev, logits)
    return grad[k].item(), {name: v.detach() for name, v in pol.items()}


def loss_decrease(net: nn.Module, config: Any, w_prev: dict[str, Tensor], w_curr: dict[str, Tensor],
                  x: Tensor, y: Tensor) -> float:
    """``L(w_{t-1}, a) - L(w_t, a)`` of one subnet on one batch (Table 4's second, loss-decrease score)."""
    net.set_active_subnet(config)
    with torch.no_grad():
        return (F.cross_entropy(functional_call(net, w_prev, (x,)), y)
                - F.cross_entropy(functional_call(net, w_curr, (x,)), y)).item()
