"""Plain supervised loops shared by every experiment: data loaders, a training loop with a
progress bar, and accuracy / loss evaluation."""
from __future__ import annotations

from typing import Callable, Iterable

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm


def loader(dataset: Dataset, batch_size: int, *, shuffle: bool, seed: int = 0, drop_last: bool = False) -> DataLoader:
    """A single-process loader with a seeded shuffle (reproducible epochs)."""
    gen = torch.Generator().manual_seed(seed)
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, generator=gen, drop_last=drop_last)


@torch.no_grad()
def evaluate(model: nn.Module, data: Iterable, device: torch.device | str = "cpu") -> dict[str, float]:
    """Top-1 accuracy (in %) and mean cross-entropy of a classifier over ``data``."""
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


def train_classifier(model: nn.Module, data: DataLoader, epochs: int, optimizer: torch.optim.Optimizer,
                     *, scheduler=None, extra_loss: Callable[[], torch.Tensor] | None = None,
                     device: torch.device | str = "cpu", desc: str = "train",
                     on_epoch_end: Callable[[int, dict], None] | None = None) -> list[dict]:
    """Train with cross-entropy (+ ``extra_loss()``, e.g. a regulariser); returns per-epoch history.

    ``scheduler`` is stepped once per batch. ``on_epoch_end(epoch, stats)`` may evaluate or checkpoint.
    """
    model.to(device).train()
    history = []
    for epoch in range(epochs):
        seen = correct = 0
        total_loss = 0.0
        for x, y in tqdm(data, desc=f"{desc} {epoch + 1}/{epochs}", leave=False):
            x, y = x.to(device), y.to(device)
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            if extra_loss is not None:
                loss = loss + extra_loss()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            total_loss += loss.item() * y.numel()
            correct += (logits.argmax(1) == y).sum().item()
            seen += y.numel()
        stats = {"epoch": epoch + 1, "train_loss": total_loss / seen, "train_acc": 100.0 * correct / seen}
        if on_epoch_end is not None:
            on_epoch_end(epoch, stats)
        history.append(stats)
    return history
