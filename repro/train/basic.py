"""Plain supervised training shared by every experiment: data loaders, classifier training on the
engine (:mod:`repro.train.engine`), and accuracy / loss evaluation."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset

from repro.cache import Checkpoint
from repro.train import engine


def loader(dataset: Dataset, batch_size: int, *, shuffle: bool, seed: int = 0, drop_last: bool = False) -> DataLoader:
    """A single-process loader with a seeded shuffle (reproducible epochs)."""
    gen = torch.Generator().manual_seed(seed)
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, generator=gen, drop_last=drop_last)


@torch.no_grad()
def evaluate(model: nn.Module, data: Iterable, device: torch.device | str | None = None) -> dict[str, float]:
    """Top-1 accuracy (in %) and mean cross-entropy of a classifier over ``data`` (on the model's device)."""
    device = device or next(model.parameters()).device
    was_training = model.training
    model.eval()
    correct = total = 0
    loss = 0.0
    for x, y in data:
        x, y = x.to(device), y.to(device)
        logits = model(x)
        loss += F.cross_entropy(logits, y, reduction="sum").item()
        correct += (logits.argmax(1) == y).sum().item()
        total += y.numel()
    model.train(was_training)
    return {"acc": 100.0 * correct / max(total, 1), "loss": loss / max(total, 1)}


class _EpochStats(engine.Hook):
    """Per-epoch training loss and accuracy, and the caller's ``on_epoch_end``."""

    def __init__(self, steps_per_epoch: int, on_epoch_end: Callable[[int, dict], dict | None] | None):
        self.steps_per_epoch, self.on_epoch_end = steps_per_epoch, on_epoch_end
        self.history: list[dict] = []
        self.loss = self.correct = self.seen = 0.0

    def observe(self, logits: torch.Tensor, y: torch.Tensor, loss: torch.Tensor) -> None:
        self.loss += loss.item() * y.numel()
        self.correct += (logits.argmax(1) == y).sum().item()
        self.seen += y.numel()

    def after_step(self, step: int, loss: float) -> None:
        if (step + 1) % self.steps_per_epoch:
            return
        epoch = (step + 1) // self.steps_per_epoch - 1
        stats = {"epoch": epoch + 1, "train_loss": self.loss / self.seen, "train_acc": 100.0 * self.correct / self.seen}
        self.loss = self.correct = self.seen = 0.0
        if self.on_epoch_end is not None:
            stats.update(self.on_epoch_end(epoch, stats) or {})
        self.history.append(stats)

    def state_dict(self) -> dict:
        return {"history": self.history, "sums": (self.loss, self.correct, self.seen)}

    def load_state_dict(self, state: dict) -> None:
        self.history = list(state["history"])
        self.loss, self.correct, self.seen = state["sums"]


def train_classifier(model: nn.Module, data: DataLoader, epochs: int, optimizer: torch.optim.Optimizer,
                     *, scheduler=None, extra_loss: Callable[[], torch.Tensor] | None = None,
                     device: torch.device | str = "auto", desc: str = "train",
                     on_epoch_end: Callable[[int, dict], dict | None] | None = None,
                     grad_clip: float | None = None, seed: int | None = None, ckpt: Checkpoint | None = None,
                     stop_at: int | None = None, metrics: Path | None = None) -> list[dict]:
    """Train with cross-entropy (+ ``extra_loss()``, e.g. a regulariser) on the engine; per-epoch history.

    ``scheduler`` is stepped once per batch. ``on_epoch_end(epoch, stats)`` may evaluate; what it
    returns is merged into the epoch's row of the history. ``seed=None`` leaves the random state to
    the caller (see :class:`repro.train.engine.RunConfig`); ``ckpt``, ``stop_at`` and ``metrics`` are
    the engine's (a resumed run keeps the history of the epochs before the checkpoint).
    """
    if epochs < 1:
        return []
    stats = _EpochStats(len(data), on_epoch_end)

    def batches():
        for _ in range(epochs):
            yield from data

    def loss_fn(net: nn.Module, batch) -> torch.Tensor:
        x, y = batch
        logits = net(x)
        loss = F.cross_entropy(logits, y)
        stats.observe(logits.detach(), y, loss.detach())
        return loss + extra_loss() if extra_loss is not None else loss

    cfg = engine.RunConfig(steps=epochs * len(data), device=str(device), grad_clip=grad_clip, seed=seed, desc=desc,
                           stop_at=stop_at, ckpt_every=len(data))
    engine.run(model, optimizer, batches, loss_fn, cfg, hooks=[stats], scheduler=scheduler, ckpt=ckpt,
               metrics=metrics)
    return stats.history
