"""Single-path one-shot supernet training (ShiftAddNAS Sec. 3.2.1, Eq. 3; Sec. 4.1 recipe).

Every step draws one subnet uniformly from the space (``space.sample``), activates it with
``supernet.set_active_subnet`` and minimises ``loss_fn(supernet, batch)`` plus
``supernet.regularization_loss()`` (the KL terms of Eq. 5, zero unless heterogeneous sharing).
The learning rate warms up linearly from 1e-7 and then follows a cosine (Sec. 4.1); AdamW, each
parameter group towards its own peak (the transformation kernels' alphas can have their own).

Resumable: with a :class:`repro.cache.Checkpoint` the state (weights, optimiser, step, losses,
elapsed time) is saved atomically every ``ckpt_every`` steps and a rerun continues from it. The
step's subnet and random state are functions of ``(seed, step)``, so a resumed run matches an
uninterrupted one. Under ``torchrun`` the model is wrapped in DistributedDataParallel, every rank
samples the same subnet and takes its own batch (rank ``r`` uses batch ``step * world + r``).
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import torch
from torch import nn

from repro.cache import Checkpoint
from repro.spaces.base import SearchSpace
from repro.train import engine

Batches = Iterable[Any] | Callable[[], Iterator[Any]]
LossFn = Callable[[nn.Module, Any], torch.Tensor]


@dataclass
class OneShotResult:
    """Per-step training losses (mean over ranks), wall-clock seconds spent, steps done."""
    losses: list[float]
    wall_clock_s: float
    steps: int


def warmup_cosine(step: int, steps: int, warmup_steps: int, lr: float, start_lr: float = 1e-7) -> float:
    """Learning rate at ``step``: linear from ``start_lr`` to ``lr`` over the warmup, then cosine to 0."""
    if step < warmup_steps:
        return start_lr + (lr - start_lr) * step / warmup_steps
    progress = (step - warmup_steps) / max(1, steps - warmup_steps)
    return 0.5 * lr * (1.0 + math.cos(math.pi * min(1.0, progress)))


class _WarmupCosine(engine.Hook):
    """Sec. 4.1's schedule as an engine hook, plus the caller's ``before_step``: every parameter group of
    ``optimizer`` follows the warmup + cosine towards its own peak (the group's ``lr`` when the hook is built)."""

    def __init__(self, optimizer: torch.optim.Optimizer, steps: int, warmup_steps: int,
                 before: Callable[[int], None] | None):
        self.optimizer, self.steps, self.warmup_steps, self.before = optimizer, steps, warmup_steps, before
        self.peaks = [g["lr"] for g in optimizer.param_groups]

    def before_step(self, step: int) -> None:
        if self.before is not None:
            self.before(step)
        for group, peak in zip(self.optimizer.param_groups, self.peaks):
            group["lr"] = warmup_cosine(step, self.steps, self.warmup_steps, peak)


def train_steps(model: nn.Module, batches: Batches, loss_fn: LossFn, *, steps: int, lr: float,
                warmup_steps: int, weight_decay: float = 0.0, ckpt: Checkpoint | None = None,
                ckpt_every: int = 50, seed: int = 0, desc: str = "",
                before_step: Callable[[int], None] | None = None, device: str = "auto",
                grad_clip: float | None = None, accumulate: int = 1, stop_at: int | None = None,
                metrics: Path | None = None, param_groups: list[dict[str, Any]] | None = None,
                hooks: Sequence[engine.Hook] = ()) -> OneShotResult:
    """Train ``model`` for ``steps`` steps (AdamW, warmup + cosine) on the engine, resumable through ``ckpt``.

    ``param_groups``: the optimiser's groups (default: every parameter at ``lr`` and ``weight_decay``); a
    group's own ``lr`` is its peak of the same warmup + cosine (e.g. the transformation kernels' alphas,
    :func:`repro.ops.weight_sharing.kernel_param_groups`).
    ``before_step(step)`` runs before each forward (one-shot training samples the subnet there).
    ``batches`` is an iterable or a factory of iterators; with a factory a resumed run skips the
    batches already consumed, so it sees exactly the data of an uninterrupted run. ``device``,
    ``accumulate``, ``stop_at`` (``--max-steps``) and ``metrics`` are the engine's (:class:`engine.RunConfig`);
    ``hooks`` run after the schedule's (e.g. :class:`repro.train.ema.EmaHook`).
    """
    if steps < 1 or lr <= 0 or warmup_steps < 0 or ckpt_every < 1:
        raise ValueError(f"need steps >= 1, lr > 0, warmup_steps >= 0, ckpt_every >= 1; got "
                         f"steps={steps}, lr={lr}, warmup_steps={warmup_steps}, ckpt_every={ckpt_every}")
    optimizer = torch.optim.AdamW(param_groups or model.parameters(), lr=lr, weight_decay=weight_decay)
    cfg = engine.RunConfig(steps=steps, device=device, grad_clip=grad_clip, accumulate=accumulate,
                           ckpt_every=ckpt_every, seed=seed, desc=desc or "train", stop_at=stop_at)
    res = engine.run(model, optimizer, batches, loss_fn, cfg, ckpt=ckpt, metrics=metrics,
                     hooks=[_WarmupCosine(optimizer, steps, warmup_steps, before_step), *hooks])
    return OneShotResult(losses=res.losses, wall_clock_s=res.wall_clock_s, steps=res.steps)


def train_one_shot(supernet: nn.Module, space: SearchSpace, batches: Batches, loss_fn: LossFn, *,
                   steps: int, lr: float, warmup_steps: int, weight_decay: float = 0.0,
                   ckpt: Checkpoint | None = None, ckpt_every: int = 50, seed: int = 0,
                   desc: str = "", param_groups: list[dict[str, Any]] | None = None, **run: Any) -> OneShotResult:
    """Single-path one-shot training (Eq. 3): one uniformly sampled subnet per step.

    The subnet of step ``s`` is ``space.sample(random.Random(f(seed, s)))``: the same on every rank
    and the same after a resume. ``supernet`` must expose ``set_active_subnet(config)``;
    ``regularization_loss()`` is added to the loss when present (Eq. 5). ``param_groups`` as in
    :func:`train_steps`. ``run`` passes the engine's
    keywords of :func:`train_steps` (``device``, ``accumulate``, ``stop_at``, ``metrics``, ``grad_clip``).
    """
    def activate(step: int) -> None:
        supernet.set_active_subnet(space.sample(random.Random(engine.step_seed(seed, step))))

    return train_steps(supernet, batches, loss_fn, steps=steps, lr=lr, warmup_steps=warmup_steps,
                       weight_decay=weight_decay, ckpt=ckpt, ckpt_every=ckpt_every, seed=seed,
                       desc=desc or "one-shot", before_step=activate, param_groups=param_groups, **run)
