"""Single-path one-shot supernet training (ShiftAddNAS Sec. 3.2.1, Eq. 3; Sec. 4.1 recipe).

Every step draws one subnet uniformly from the space (``space.sample``), activates it with
``supernet.set_active_subnet`` and minimises ``loss_fn(supernet, batch)`` plus
``supernet.regularization_loss()`` (the KL terms of Eq. 5, zero unless heterogeneous sharing).
The learning rate warms up linearly from 1e-7 and then follows a cosine (Sec. 4.1); Adam.

Resumable: with a :class:`repro.cache.Checkpoint` the state (weights, optimiser, step, losses,
elapsed time) is saved atomically every ``ckpt_every`` steps and a rerun continues from it. The
step's subnet and random state are functions of ``(seed, step)``, so a resumed run matches an
uninterrupted one. Under ``torchrun`` the model is wrapped in DistributedDataParallel, every rank
samples the same subnet and takes its own batch (rank ``r`` uses batch ``step * world + r``).
"""
from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

import torch
from torch import nn
from tqdm.auto import tqdm

from repro.cache import Checkpoint
from repro.spaces.base import SearchSpace
from repro.train import distributed

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


class _StepLoss(nn.Module):
    """The whole step loss inside one ``forward``, so DDP sees every parameter it uses."""

    def __init__(self, model: nn.Module, loss_fn: LossFn):
        super().__init__()
        self.model = model
        self.loss_fn = loss_fn

    def forward(self, batch: Any) -> torch.Tensor:
        loss = self.loss_fn(self.model, batch)
        reg = getattr(self.model, "regularization_loss", None)
        return loss + reg() if reg is not None else loss


def _step_seed(seed: int, step: int) -> int:
    return seed * 1_000_003 + step


def train_steps(model: nn.Module, batches: Batches, loss_fn: LossFn, *, steps: int, lr: float,
                warmup_steps: int, weight_decay: float = 0.0, ckpt: Checkpoint | None = None,
                ckpt_every: int = 50, seed: int = 0, desc: str = "",
                before_step: Callable[[int], None] | None = None) -> OneShotResult:
    """Train ``model`` for ``steps`` steps (Adam, warmup + cosine), resumable through ``ckpt``.

    ``before_step(step)`` runs before each forward (one-shot training samples the subnet there).
    ``batches`` is an iterable or a factory of iterators; with a factory a resumed run skips the
    batches already consumed, so it sees exactly the data of an uninterrupted run.
    """
    if steps < 1 or lr <= 0 or warmup_steps < 0 or ckpt_every < 1:
        raise ValueError(f"need steps >= 1, lr > 0, warmup_steps >= 0, ckpt_every >= 1; got "
                         f"steps={steps}, lr={lr}, warmup_steps={warmup_steps}, ckpt_every={ckpt_every}")
    world, rank = distributed.world_size(), distributed.rank()
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    start, losses, elapsed = 0, [], 0.0
    state = ckpt.load() if ckpt is not None else None
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        start, losses, elapsed = state["step"], list(state["losses"]), state["wall_clock_s"]
    step_loss = _StepLoss(model, loss_fn)
    runner: nn.Module = step_loss
    if distributed.is_distributed():
        runner = nn.parallel.DistributedDataParallel(step_loss, find_unused_parameters=True)
    it = iter(batches() if callable(batches) else batches)
    if callable(batches):
        for _ in range(start * world):
            next(it)

    def save(step: int, spent: float) -> None:
        if ckpt is not None and distributed.is_main():
            ckpt.save({"step": step, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                       "losses": losses, "wall_clock_s": spent})

    model.train()
    t0 = time.perf_counter()
    bar = tqdm(range(start, steps), total=steps, initial=start, desc=desc or "train",
               disable=not distributed.is_main(), leave=False)
    for step in bar:
        torch.manual_seed(_step_seed(seed, step))
        if before_step is not None:
            before_step(step)
        for g in optimizer.param_groups:
            g["lr"] = warmup_cosine(step, steps, warmup_steps, lr)
        own = None
        for r in range(world):
            batch = next(it)
            if r == rank:
                own = batch
        loss = runner(own)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        value = loss.detach().clone()
        if distributed.is_distributed():
            torch.distributed.all_reduce(value)
            value /= world
        losses.append(float(value))
        bar.set_postfix(loss=f"{losses[-1]:.3f}")
        if (step + 1) % ckpt_every == 0 and step + 1 < steps:
            save(step + 1, elapsed + time.perf_counter() - t0)
    elapsed += time.perf_counter() - t0
    save(steps, elapsed)
    return OneShotResult(losses=losses, wall_clock_s=elapsed, steps=steps)


def train_one_shot(supernet: nn.Module, space: SearchSpace, batches: Batches, loss_fn: LossFn, *,
                   steps: int, lr: float, warmup_steps: int, weight_decay: float = 0.0,
                   ckpt: Checkpoint | None = None, ckpt_every: int = 50, seed: int = 0,
                   desc: str = "") -> OneShotResult:
    """Single-path one-shot training (Eq. 3): one uniformly sampled subnet per step.

    The subnet of step ``s`` is ``space.sample(random.Random(f(seed, s)))``: the same on every rank
    and the same after a resume. ``supernet`` must expose ``set_active_subnet(config)``;
    ``regularization_loss()`` is added to the loss when present (Eq. 5).
    """
    def activate(step: int) -> None:
        supernet.set_active_subnet(space.sample(random.Random(_step_seed(seed, step))))

    return train_steps(supernet, batches, loss_fn, steps=steps, lr=lr, warmup_steps=warmup_steps,
                       weight_decay=weight_decay, ckpt=ckpt, ckpt_every=ckpt_every, seed=seed,
                       desc=desc or "one-shot", before_step=activate)
