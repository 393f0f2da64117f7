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

:func:`train_supernet` runs Algorithm 1 on the training engine (:mod:`repro.train.engine`: device
placement, DDP, the per-step seeding rule, atomic checkpoints with exact resume, ``--max-steps``);
``B``, its update and the per-epoch bookkeeping are one engine hook.
"""
from __future__ import annotations

import bisect
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call
from torch.utils.data import DataLoader

from repro.cache import Checkpoint
from repro.profiles import ConfigError
from repro.search.generator import ArchitectureGenerator, resource_loss, row
from repro.train import distributed, engine

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


def _to(tensors: dict[str, Tensor], device: torch.device | str) -> dict[str, Tensor]:
    return {k: v.detach().to(device, copy=True) for k, v in tensors.items()}


class _Joint(nn.Module):
    """The supernet and (unless uniform sampling) the generator as one module, so the engine's device
    placement, DDP and checkpoint cover both."""

    def __init__(self, supernet: nn.Module, generator: ArchitectureGenerator | None):
        super().__init__()
        self.supernet, self.generator = supernet, generator


def _val_batch(val: DataLoader, index: int, seed: int) -> Any:
    """Algorithm 2's validation batch number ``index``: batch ``index % len(val)`` of pass
    ``index // len(val)`` over ``val.dataset``, each pass a permutation seeded by ``(seed, pass)``.
    A function of the index, so a resumed run needs no iterator state."""
    n_pass, i = divmod(index, len(val))
    order = torch.randperm(len(val.dataset), generator=torch.Generator().manual_seed(engine.step_seed(seed, n_pass)))
    picked = order[i * val.batch_size:(i + 1) * val.batch_size].tolist()
    return val.collate_fn([val.dataset[j] for j in picked])


class _Bookkeeping(engine.Hook):
    """Algorithm 1 around the engine's step: the uniform subnet of a step, the distribution ``B``
    and its optimiser (Adam, maximising: Eq. 5), the update every ``q`` steps after the warm-up
    (Algorithm 2, from the weights ``w_{t-1}`` of ``q`` steps before), and at every epoch end the
    ``(w_{t-1}, w_t)`` snapshot (Table 4) and the probabilities of ``B``."""

    def __init__(self, model: _Joint, space: Any, bins: FlopsBins, val: DataLoader, cfg: TrainConfig,
                 steps_per_epoch: int):
        self.model, self.space, self.val, self.cfg, self.steps_per_epoch = model, space, val, cfg, steps_per_epoch
        self.dist = SamplingDistribution(bins) if model.generator is not None else None
        self.opt = (torch.optim.Adam(self.dist.parameters(), lr=cfg.distribution_lr, maximize=True)
                    if self.dist is not None else None)
        self.w_prev = self.w_before = _params(model.supernet)
        self.updates = 0
        self.probs: list[tuple[int, list[float]]] = [(0, self.dist.probs().tolist())] if self.dist is not None else []
        self.snapshots: dict[int, tuple[dict, dict]] = {}

    @property
    def device(self) -> torch.device:
        return next(self.model.supernet.parameters()).device

    def before_step(self, step: int) -> None:
        if self.model.generator is None:   # Eq. 2: every decision uniform, the same on every rank and resume
            rng = random.Random(engine.step_seed(self.cfg.seed, step))
            self.model.supernet.set_active_subnet(self.space.sample(rng))

    def after_step(self, step: int, loss: float) -> None:
        """The Gumbel draws of an update continue the step's random state (seeded by the engine)."""
        cfg, net, done = self.cfg, self.model.supernet, step + 1
        epoch = step // self.steps_per_epoch
        if done % cfg.update_every == 0:
            if cfg.mode == "shift" and epoch >= cfg.warmup_epochs:
                x, y = engine.to_device(_val_batch(self.val, self.updates, cfg.seed + 1), self.device)
                update_distribution(self.dist, self.opt, _val_losses(net, self.model.generator, self.w_prev, x, y,
                                                                     cfg.tau), cfg.tau, cfg.direction)
                self.updates += 1
                self.probs.append((done, self.dist.probs().tolist()))
            self.w_before, self.w_prev = self.w_prev, _params(net)
        if done % self.steps_per_epoch == 0:
            if epoch + 1 in cfg.snapshot_epochs:  # (w_{t-1}, w_t): the last window of q steps
                w_prev = self.w_before if done % cfg.update_every == 0 else self.w_prev
                self.snapshots[epoch + 1] = (_to(w_prev, "cpu"), _to(_params(net), "cpu"))
            if self.dist is not None:
                self.probs.append((done, self.dist.probs().tolist()))

    def state_dict(self) -> dict:
        return {"dist": self.dist.state_dict() if self.dist is not None else None,
                "opt": self.opt.state_dict() if self.opt is not None else None,
                "w_prev": _to(self.w_prev, "cpu"), "w_before": _to(self.w_before, "cpu"), "updates": self.updates,
                "probs": list(self.probs), "snapshots": dict(self.snapshots)}

    def load_state_dict(self, state: dict) -> None:
        if self.dist is not None:
            self.dist.load_state_dict(state["dist"])
            self.opt.load_state_dict(state["opt"])
        self.w_prev, self.w_before = _to(state["w_prev"], self.device), _to(state["w_before"], self.device)
        self.updates, self.probs, self.snapshots = state["updates"], list(state["probs"]), dict(state["snapshots"])


def train_supernet(net: nn.Module, space: Any, bins: FlopsBins, train: DataLoader, val: DataLoader,
                   cfg: TrainConfig, gen: ArchitectureGenerator | None = None,
                   ckpt: Checkpoint | None = None, *, device: str = "auto", stop_at: int | None = None,
                   metrics: Path | None = None, ckpt_every: int | None = None,
                   hooks: Sequence[engine.Hook] = (), accumulate: int = 1) -> TrainResult:
    """Algorithm 1 (``mode`` shift / generator, with ``gen``, e.g. warmed by ``train_on_resource_loss``)
    or uniform sampling, on the training engine (:func:`repro.train.engine.run`).

    ``cfg.epochs * len(train)`` steps; ``net`` and ``gen`` are trained in place (and moved to
    ``device``) with one AdamW over two parameter groups: the supernet at ``cfg.lr`` with
    ``cfg.weight_decay`` (Table 3's ViT optimiser) and the generator at ``cfg.generator_lr`` with no
    decay (AdamW without decay is Adam). ``B`` stays on the CPU; the validation batches of
    Algorithm 2 cycle seeded passes over ``val.dataset`` (:func:`_val_batch`, seeded ``cfg.seed + 1``).
    Resumable through ``ckpt`` (every ``ckpt_every`` steps, default once per epoch, and at the
    stop): the train loader must give the same epochs in a rerun (a seeded shuffle, as
    :func:`repro.train.basic.loader`). ``stop_at`` stops after that many steps (``--max-steps``);
    ``metrics`` is the engine's JSON-lines log; ``hooks`` run after the run's own. A step takes
    ``world x accumulate`` batches of ``train`` (under ``torchrun``, and with ``accumulate`` to keep
    the paper's global batch on fewer GPUs), each with its own target and subnet, so an epoch is
    ``len(train) // (world x accumulate)`` steps.
    """
    if (gen is None) != (cfg.mode == "uniform"):
        raise ConfigError(f"mode {cfg.mode!r} {'takes no' if cfg.mode == 'uniform' else 'needs a'} generator")
    if len(train) < 1 or len(val) < 1 or val.batch_size is None:
        raise ConfigError(f"train and val need at least one batch and val a batch_size (a DataLoader built with "
                          f"batch_size=...), got {len(train)} and {len(val)} batches, val.batch_size={val.batch_size}")
    steps_per_epoch = len(train) // (distributed.world_size() * accumulate)
    if steps_per_epoch < 1:
        raise ConfigError(f"an epoch of {len(train)} batches is shorter than one step of "
                          f"{distributed.world_size()} processes x {accumulate} accumulated batches: "
                          "use a smaller batch or fewer processes")
    model = _Joint(net, gen).to(engine.resolve_device(device))
    groups = [{"params": list(net.parameters()), "lr": cfg.lr, "weight_decay": cfg.weight_decay}]
    if gen is not None:
        groups.append({"params": list(gen.parameters()), "lr": cfg.generator_lr, "weight_decay": 0.0})
    optimizer = torch.optim.AdamW(groups)
    book = _Bookkeeping(model, space, bins, val, cfg, steps_per_epoch)

    def batches() -> Iterator:
        for _ in range(cfg.epochs):
            yield from train

    def loss_fn(joint: _Joint, batch: Any) -> Tensor:
        x, y = batch
        if joint.generator is None:           # the subnet was activated in before_step
            return F.cross_entropy(joint.supernet(x), y)
        with torch.no_grad():
            _, target = book.dist.sample(cfg.tau)
        pol = row(joint.generator(target[None].to(x.device), tau=cfg.tau))
        flops = space.flops_from_policies({k: v.float().cpu() for k, v in pol.items()})
        return (F.cross_entropy(joint.supernet(x, joint.supernet.masks(pol)), y)
                + cfg.lam * resource_loss(flops, target, bins.width).to(x.device))

    run_cfg = engine.RunConfig(steps=cfg.epochs * steps_per_epoch, device=device, seed=cfg.seed, stop_at=stop_at,
                               accumulate=accumulate, ckpt_every=ckpt_every or steps_per_epoch,
                               desc=f"{cfg.mode} supernet")
    res = engine.run(model, optimizer, batches, loss_fn, run_cfg, hooks=[book, *hooks], ckpt=ckpt, metrics=metrics)
    return TrainResult(cfg, _to(net.state_dict(), "cpu"), _to(gen.state_dict(), "cpu") if gen is not None else None,
                       probs=list(book.probs), losses=list(res.losses), snapshots=dict(book.snapshots),
                       seconds=res.wall_clock_s)


def _val_losses(net: nn.Module, gen: ArchitectureGenerator, w_prev: dict[str, Tensor], x: Tensor, y: Tensor,
                tau: float) -> Callable[[Tensor], tuple[Tensor, Tensor]]:
    """Algorithm 2's two losses on one validation batch, one subnet ``a = AG(b)`` for both weights."""
    def losses(target: Tensor) -> tuple[Tensor, Tensor]:
        masks = net.masks(row(gen(target[None].to(x.device), tau=tau)))
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
