"""Measured latency on this machine: the wall-clock time of one forward pass, the quantity the paper's
latency predictor (ShiftAddNAS Sec. 4.1, after HAT) is trained on where the device is at hand (HAT times
subnets on the target device; the cost model of :mod:`repro.cost.eyeriss` stands in for the paper's
Eyeriss-like accelerator)."""
from __future__ import annotations

import os
import platform
import time

import torch
from torch import nn


@torch.no_grad()
def latency_ms(model: nn.Module, input_shape: tuple[int, ...], repeats: int = 10, warmup: int = 2) -> float:
    """The least-disturbed (minimum) wall-clock milliseconds of ``repeats`` forward passes of ``model`` on
    a random input of ``input_shape`` (eval mode, no autograd), after ``warmup`` calls that are not timed;
    on the caller's threads and on the device of the model's parameters. The minimum, not the median: on a
    shared machine load only ever adds time, so the minimum is the estimate of the undisturbed latency."""
    if repeats < 1 or warmup < 0:
        raise ValueError(f"need repeats >= 1 and warmup >= 0, got repeats={repeats}, warmup={warmup}")
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    x = torch.randn(input_shape, device=device)
    model.eval()
    times = []
    for i in range(warmup + repeats):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        tic = time.perf_counter()
        model(x)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        if i >= warmup:
            times.append((time.perf_counter() - tic) * 1e3)
    return min(times)


def machine() -> dict:
    """Where a measurement ran: processor, CPU count, torch threads, the 1-minute load average."""
    return {"machine": f"{platform.machine()}, {os.cpu_count()} CPUs", "torch_threads": torch.get_num_threads(),
            "load_avg_1min": os.getloadavg()[0], "torch": torch.__version__}
