"""The training engine: one step loop for every trainer (issue: one training loop).

``run(model, optimizer, batches, loss_fn, cfg)`` owns what every trainer needs:

* **device placement** (``cfg.device``: ``cpu``, ``cuda``, ``auto`` = CUDA when available) of the
  model and of every batch (tensors inside tuples, lists and dicts);
* **mixed precision** on GPU (``cfg.precision``: ``auto`` = bf16 on CUDA, fp32 on CPU; ``fp16``
  adds a gradient scaler);
* **gradient clipping** (``cfg.grad_clip``, the global L2 norm) and **accumulation**
  (``cfg.accumulate`` micro-batches per optimiser step);
* **DDP under torchrun** (:mod:`repro.train.distributed`: gloo on CPU, nccl on GPU): rank ``r``
  takes micro-batch ``i`` with ``i % world == r`` of each step, gradients are averaged. A *sharded*
  factory (one taking ``start``, ``rank`` and ``world``, e.g.
  :class:`repro.data.token_batching.TokenBatchStream`) is asked for rank ``r``'s batches only, so the
  other ranks' batches are never produced; any other stream is drawn whole on every rank and each
  rank keeps its own;
* **one seeding rule**: before step ``s`` the torch RNG is seeded with ``step_seed(seed, s)`` and
  hooks draw their randomness from the same function, so a resumed run is the uninterrupted run
  (``seed=None`` leaves the RNG to the caller: for a run that is one piece of a longer loop);
* **atomic checkpoints with exact resume** (:class:`repro.cache.Checkpoint`) every
  ``cfg.ckpt_every`` steps: model, optimiser, scaler, hooks' state, step and losses; with a batch
  factory the consumed batches are skipped on resume (a factory with a ``start`` parameter is asked
  to begin there, so it need not produce them);
* a **tqdm** progress bar on rank 0 and a **metrics log** (JSON lines: step, loss, lr, samples/s,
  elapsed seconds), cut back to the resumed step so it never holds steps twice.

Strategy-specific work (sampling a subnet, updating architecture parameters or a sampling
distribution, a learning-rate schedule) plugs in through :class:`Hook` objects.
"""
from __future__ import annotations

import contextlib
import inspect
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import torch
from torch import nn
from tqdm.auto import tqdm

from repro.cache import Checkpoint
from repro.train import distributed

Batches = Iterable[Any] | Callable[[], Iterator[Any]]
LossFn = Callable[[nn.Module, Any], torch.Tensor]
DEVICES = ("auto", "cpu", "cuda")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")


@dataclass(frozen=True)
class RunConfig:
    """How one training run is executed (what it trains is the caller's)."""
    steps: int
    device: str = "auto"
    precision: str = "auto"
    grad_clip: float | None = None
    accumulate: int = 1
    ckpt_every: int = 50
    seed: int | None = 0
    desc: str = "train"
    #: Stop after this many steps (``--max-steps``); schedules still span ``steps``, a checkpoint is
    #: written at the stop and a rerun with a later (or no) stop resumes from it.
    stop_at: int | None = None

    def __post_init__(self) -> None:
        if not (isinstance(self.steps, int) and self.steps >= 1):
            raise ValueError(f"RunConfig.steps must be an integer >= 1, got {self.steps!r}")
        if self.device not in DEVICES and not str(self.device).startswith("cuda:"):
            raise ValueError(f"RunConfig.device must be one of {DEVICES} (or cuda:N), got {self.device!r}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"RunConfig.precision must be one of {PRECISIONS}, got {self.precision!r}")
        if self.accumulate < 1 or self.ckpt_every < 1:
            raise ValueError(f"RunConfig.accumulate and ckpt_every must be >= 1, got {self.accumulate}, {self.ckpt_every}")
        if self.stop_at is not None and not (isinstance(self.stop_at, int) and self.stop_at >= 1):
            raise ValueError(f"RunConfig.stop_at must be an integer >= 1 or None, got {self.stop_at!r}")
        if self.grad_clip is not None and self.grad_clip <= 0:
            raise ValueError(f"RunConfig.grad_clip must be positive or None, got {self.grad_clip!r}")


@dataclass
class RunResult:
    """Per-step losses (mean over ranks and micro-batches), wall-clock seconds, steps done (``< cfg.steps``
    when ``cfg.stop_at`` stopped the run early)."""
    losses: list[float]
    wall_clock_s: float
    steps: int


class Hook:
    """A strategy's part of the loop; every method is optional."""

    def before_step(self, step: int) -> None:
        """Before the forward of ``step`` (e.g. activate a sampled subnet)."""

    def lr(self, step: int) -> float | None:
        """The learning rate of ``step`` (set on every parameter group), or None to leave it."""
        return None

    def after_step(self, step: int, loss: float) -> None:
        """After the optimiser step (e.g. update architecture parameters or a distribution)."""

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` returned."""


def step_seed(seed: int, step: int) -> int:
    """The one seeding rule: the random state of ``step`` in a run seeded ``seed``."""
    return seed * 1_000_003 + step


def resolve_device(spec: str | torch.device = "auto") -> torch.device:
    """``auto``: CUDA when available, else CPU; ``cuda`` without a GPU is a clear error."""
    spec = str(spec)
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if spec.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"device {spec!r} asked for, but torch sees no CUDA GPU "
                           f"(torch {torch.__version__}); use --device cpu or auto")
    return torch.device(spec)


def autocast_dtype(device: torch.device, precision: str = "auto") -> torch.dtype | None:
    """The autocast dtype: bf16 on CUDA under ``auto``, none on CPU unless asked."""
    if precision == "auto":
        return torch.bfloat16 if device.type == "cuda" else None
    return {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]


def to_device(batch: Any, device: torch.device) -> Any:
    """Move every tensor inside ``batch`` (tuples, lists, dicts) to ``device``."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, dict):
        return {k: to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch)(to_device(v, device) for v in batch)
    return batch


def _batch_size(batch: Any) -> int:
    if isinstance(batch, torch.Tensor):
        return batch.shape[0] if batch.dim() else 1
    if isinstance(batch, (list, tuple)) and batch:
        return _batch_size(batch[0])
    if isinstance(batch, dict) and batch:
        return _batch_size(next(iter(batch.values())))
    return 1


def _sharded(batches: Batches) -> bool:
    """Whether ``batches`` is a factory that yields one rank's share (``start``, ``rank``, ``world``)."""
    return callable(batches) and {"start", "rank", "world"} <= set(inspect.signature(batches).parameters)


def _resumed(factory: Callable[..., Iterator[Any]], consumed: int) -> Iterator[Any]:
    """The factory's stream after ``consumed`` batches: a factory taking ``start`` (e.g.
    :class:`repro.data.token_batching.TokenBatchStream`) skips them without producing them."""
    if _sharded(factory):
        return factory(start=consumed, rank=distributed.rank(), world=distributed.world_size())
    if consumed and "start" in inspect.signature(factory).parameters:
        return factory(start=consumed)
    it = factory()
    for _ in range(consumed):
        next(it)
    return it


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


class _Metrics:
    """JSON-lines log written by rank 0; on resume it keeps only the steps before ``start``."""

    def __init__(self, path: Path | None, start: int):
        self.path = Path(path) if path is not None and distributed.is_main() else None
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        kept = []
        if start and self.path.exists():
            kept = [line for line in self.path.read_text().splitlines()
                    if line.strip() and json.loads(line).get("step", 0) < start]
        self.path.write_text("".join(line + "\n" for line in kept))

    def write(self, **row: float) -> None:
        if self.path is not None:
            with self.path.open("a") as fh:
                fh.write(json.dumps(row) + "\n")


def run(model: nn.Module, optimizer: torch.optim.Optimizer, batches: Batches, loss_fn: LossFn,
        cfg: RunConfig, *, hooks: Sequence[Hook] = (), ckpt: Checkpoint | None = None,
        metrics: Path | None = None, scheduler: Any = None) -> RunResult:
    """Train ``model`` for ``cfg.steps`` optimiser steps; resumable through ``ckpt`` (module docstring).

    ``batches`` is an iterable or a factory of iterators (a factory lets a resumed run skip the
    batches already consumed). ``loss_fn(model, batch)`` returns the scalar loss of one micro-batch;
    ``model.regularization_loss()`` is added when the model has one. ``scheduler`` (if any) is
    stepped once per optimiser step; a hook's :meth:`Hook.lr` takes precedence over it.
    """
    device = resolve_device(cfg.device)
    world, rank = distributed.world_size(), distributed.rank()
    model.to(device)
    dtype = autocast_dtype(device, cfg.precision)
    scaler = torch.amp.GradScaler(device.type) if dtype is torch.float16 else None
    start, losses, elapsed = 0, [], 0.0
    state = ckpt.load() if ckpt is not None else None
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        if scheduler is not None and state.get("scheduler") is not None:
            scheduler.load_state_dict(state["scheduler"])
        if scaler is not None and state.get("scaler") is not None:
            scaler.load_state_dict(state["scaler"])
        for hook, hook_state in zip(hooks, state.get("hooks", [])):
            hook.load_state_dict(hook_state)
        start, losses, elapsed = state["step"], list(state["losses"]), state["wall_clock_s"]
    runner: nn.Module = _StepLoss(model, loss_fn)
    if distributed.is_distributed():
        runner = nn.parallel.DistributedDataParallel(runner, find_unused_parameters=True)
    per_step = world * cfg.accumulate
    it = iter(_resumed(batches, start * per_step) if callable(batches) else batches)
    draws = 1 if _sharded(batches) else world  # batches drawn per micro-batch on this rank
    log = _Metrics(metrics, start)

    def save(step: int, spent: float) -> None:
        if ckpt is not None and distributed.is_main():
            ckpt.save({"step": step, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                       "scheduler": scheduler.state_dict() if scheduler is not None else None,
                       "scaler": scaler.state_dict() if scaler is not None else None,
                       "hooks": [h.state_dict() for h in hooks], "losses": losses, "wall_clock_s": spent})

    end = min(cfg.steps, cfg.stop_at or cfg.steps)
    model.train()
    t0 = time.perf_counter()
    bar = tqdm(range(start, end), total=cfg.steps, initial=start, desc=cfg.desc,
               disable=not distributed.is_main(), leave=False)
    for step in bar:
        t_step = time.perf_counter()
        if cfg.seed is not None:
            torch.manual_seed(step_seed(cfg.seed, step))
        for hook in hooks:
            hook.before_step(step)
        lrs = [lr for lr in (hook.lr(step) for hook in hooks) if lr is not None]
        if lrs:
            for g in optimizer.param_groups:
                g["lr"] = lrs[-1]
        optimizer.zero_grad(set_to_none=True)
        total = torch.zeros((), device=device)
        samples = 0
        for micro in range(cfg.accumulate):
            own = None
            for r in range(draws):
                batch = next(it)
                if r == rank or draws == 1:
                    own = batch
            own = to_device(own, device)
            samples += _batch_size(own)
            sync = micro == cfg.accumulate - 1 or not isinstance(runner, nn.parallel.DistributedDataParallel)
            with (contextlib.nullcontext() if sync else runner.no_sync()), \
                    torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
                loss = runner(own) / cfg.accumulate
            (scaler.scale(loss) if scaler is not None else loss).backward()
            total += loss.detach().float()
        if scaler is not None:
            scaler.unscale_(optimizer)
        if cfg.grad_clip is not None:
            nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        if scaler is not None:
            scaler.step(optimizer)
            scaler.update()
        else:
            optimizer.step()
        if scheduler is not None and not lrs:
            scheduler.step()
        if distributed.is_distributed():
            torch.distributed.all_reduce(total)
            total /= world
        losses.append(float(total))
        for hook in hooks:
            hook.after_step(step, losses[-1])
        dt = time.perf_counter() - t_step
        log.write(step=step, loss=losses[-1], lr=float(optimizer.param_groups[0]["lr"]),
                  samples_per_s=samples * world / max(dt, 1e-9), elapsed_s=elapsed + time.perf_counter() - t0)
        bar.set_postfix(loss=f"{losses[-1]:.3f}")
        if (step + 1) % cfg.ckpt_every == 0 and step + 1 < end:
            save(step + 1, elapsed + time.perf_counter() - t0)
    elapsed += time.perf_counter() - t0
    save(max(end, start), elapsed)
    return RunResult(losses=losses, wall_clock_s=elapsed, steps=max(end, start))
