"""Weight EMA (DeiT's ``--model-ema``, decay 0.99996; kept by the released ShiftAddNAS retraining,
``CV/retraining_hybrid/main.py``, which checkpoints the average and evaluates the raw weights), through
timm's model EMA, as a hook of the one training loop (:mod:`repro.train.engine`)."""
from __future__ import annotations

import timm.utils
from torch import nn

from repro.train.engine import Hook


def ema(model: nn.Module, decay: float = 0.99996) -> nn.Module:
    """timm's exponential moving average of ``model``'s weights: ``.update(model)`` after each optimiser
    step, ``.module`` is the averaged copy (on the device ``model`` is on when this is called)."""
    cls = getattr(timm.utils, "ModelEmaV3", timm.utils.ModelEmaV2)
    return cls(model, decay=decay)


class EmaHook(Hook):
    """Keeps :func:`ema` of ``model`` updated after every optimiser step and in the run's checkpoint, so a
    resumed run continues the same average. The copy is made before the first step (the average starts
    from the initial weights, as DeiT's), after the engine has moved ``model`` to its device."""

    def __init__(self, model: nn.Module, decay: float):
        if not 0.0 < decay < 1.0:
            raise ValueError(f"EMA decay must lie in (0, 1), got {decay!r}")
        self.model, self.decay = model, decay
        self._ema: nn.Module | None = None

    def _average(self) -> nn.Module:
        """timm's EMA object, made from the model on first use."""
        if self._ema is None:
            self._ema = ema(self.model, self.decay)
        return self._ema

    @property
    def module(self) -> nn.Module:
        """The averaged copy of the model (evaluate it in ``eval()`` mode)."""
        return self._average().module

    def before_step(self, step: int) -> None:
        self._average()  # the copy starts from the weights before the first step

    def after_step(self, step: int, loss: float) -> None:
        self._average().update(self.model)

    def state_dict(self) -> dict:
        return {"ema": self.module.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.module.load_state_dict(state["ema"])
