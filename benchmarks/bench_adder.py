"""Benchmark: adder and shift convolutions vs a dense convolution vs the unfold-and-broadcast reference.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_adder.py [--repeats 9]   (or `make bench`)

3x3 layers at the shapes the profiles train (the ``small`` CV supernet: 16, 32, 64 channels at 14x14, 7x7,
4x4, batch 64) and at ResNet-20 CIFAR shapes (16ch 32x32, 32ch 16x16, 64ch 8x8, batch 32). Implementations:
``conv`` (F.conv2d), ``adder`` (AdderNet, :mod:`repro.ops.adder` on its default backend), ``adder_torch``
(the PyTorch fallback), ``shift`` (DeepShift-Q :class:`~repro.ops.shift.ShiftConv2d`, weights re-quantised
once per step, as after an optimiser update) and ``reference`` (AdderNet's released unfold-and-broadcast).
Two warm-up calls are excluded; then the implementations run interleaved, one call each per round, so a
load burst hits all of them; minimum and median of the rounds. Peak memory: growth of the peak resident set
of a fresh one-thread process during one forward+backward. Ratios come from the same run; the JSON goes to
``build/bench/adder.json``. Targets (DESIGN.md Sec. 9): adder fwd+bwd <= 4x conv, reference / adder >= 10x,
adder memory <= 1.5x conv, shift fwd+bwd <= 1.3x conv.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F

from repro.ops import adder
from repro.ops.shift import ShiftConv2d

SHAPES = {"profile": ((16, 14, 64), (32, 7, 64), (64, 4, 64)),  # (channels, side, batch)
          "resnet20": ((16, 32, 32), (32, 16, 32), (64, 8, 32))}
IMPLS = ("conv", "adder", "adder_torch", "shift", "reference")
OUT = Path(__file__).resolve().parents[1] / "build" / "bench" / "adder.json"


class _BroadcastAdder(torch.autograd.Function):
    """The released AdderNet implementation: unfold and broadcast a (C_out, C_in k^2, N L) tensor."""

    @staticmethod
    def forward(ctx, cols: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(cols, w)
        return -(cols.unsqueeze(0) - w.unsqueeze(2)).abs().sum(1)

    @staticmethod
    def backward(ctx, g: torch.Tensor):
        cols, w = ctx.saved_tensors
        diff = cols.unsqueeze(0) - w.unsqueeze(2)  # (O, K, NL)
        grad_w = (diff * g.unsqueeze(1)).sum(2)
        grad_w = grad_w * (0.2 * grad_w.numel() ** 0.5 / grad_w.norm().clamp_min(1e-12))
        grad_cols = (-diff.clamp(-1, 1) * g.unsqueeze(1)).sum(0)
        return grad_cols, grad_w


def reference_adder(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Unfold-and-broadcast adder convolution (stride 1, padding 1), AdderNet's released formulation."""
    n, _, h, wd = x.shape
    cols = F.unfold(x, 3, padding=1).transpose(0, 1).reshape(w[0].numel(), -1)  # (K, N L)
    y = _BroadcastAdder.apply(cols, w.reshape(w.shape[0], -1))  # (O, N L)
    return y.view(w.shape[0], n, h, wd).transpose(0, 1)


def _torch_adder(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    os.environ["REPRO_ADDER_BACKEND"] = "torch"
    try:
        return adder.adder_conv2d(x, w, padding=1, eta=0.2)
    finally:
        del os.environ["REPRO_ADDER_BACKEND"]


def make_impl(impl: str, channels: int) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    if impl == "shift":
        layer = ShiftConv2d(channels, channels, 3, padding=1)

        def shift(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
            with torch.no_grad():
                layer.weight.copy_(w)  # an in-place update, as an optimiser step: the next call re-quantises
            return layer(x)
        return shift
    return {"conv": lambda x, w: F.conv2d(x, w, padding=1),
            "adder": lambda x, w: adder.adder_conv2d(x, w, padding=1, eta=0.2),
            "adder_torch": _torch_adder,
            "reference": reference_adder}[impl]


def inputs(batch: int, channels: int, side: int) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(batch, channels, side, side, generator=gen, requires_grad=True)
    w = (0.1 * torch.randn(channels, channels, 3, 3, generator=gen)).requires_grad_()
    return x, w


def interleaved_times(fns: dict[str, Callable[[], object]], repeats: int, warmup: int = 2) -> dict[str, list[float]]:
    """Wall times of ``repeats`` rounds in which every function runs once, after ``warmup`` excluded rounds."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for r in range(warmup + repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            if r >= warmup:
                times[name].append(time.perf_counter() - start)
    return times


def _status_kib(field: str) -> int:
    """A ``/proc/self/status`` memory field (``VmRSS``, ``VmHWM``) in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def _peak_memory(impl: str, batch: int, channels: int, side: int, queue: mp.Queue) -> None:
    torch.set_num_threads(1)
    x, w = inputs(batch, channels, side)
    fn = make_impl(impl, channels)
    adder.backend()  # load the native module before measuring
    before = _status_kib("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak RSS (VmHWM) to the current RSS
    fn(x, w).sum().backward()
    queue.put((_status_kib("VmHWM") - before) / 1024.0)


def peak_memory_mib(impl: str, batch: int, channels: int, side: int) -> float:
    """Growth of the peak RSS of a fresh process during one forward+backward, in MiB."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_peak_memory, args=(impl, batch, channels, side, queue))
    proc.start()
    value = queue.get()
    proc.join()
    return value


def bench_shape(channels: int, side: int, batch: int, repeats: int) -> dict[str, dict[str, float]]:
    x, w = inputs(batch, channels, side)
    impls = {name: make_impl(name, channels) for name in IMPLS}

    def fwd(fn):
        def run() -> None:
            with torch.no_grad():
                fn(x, w)
        return run

    def step(fn):
        def run() -> None:
            fn(x, w).sum().backward()
        return run

    f_times = interleaved_times({n: fwd(fn) for n, fn in impls.items()}, repeats)
    fb_times = interleaved_times({n: step(fn) for n, fn in impls.items()}, repeats)
    rows = {}
    for name in IMPLS:
        rows[name] = {"fwd_min_ms": 1e3 * min(f_times[name]), "fwd_median_ms": 1e3 * statistics.median(f_times[name]),
                      "fwdbwd_min_ms": 1e3 * min(fb_times[name]),
                      "fwdbwd_median_ms": 1e3 * statistics.median(fb_times[name]),
                      "peak_mib": peak_memory_mib(name, batch, channels, side)}
    conv = rows["conv"]
    for name, row in rows.items():
        row["fwdbwd_x_conv_min"] = row["fwdbwd_min_ms"] / conv["fwdbwd_min_ms"]
        row["fwd_x_conv_min"] = row["fwd_min_ms"] / conv["fwd_min_ms"]
        row["mem_x_conv"] = row["peak_mib"] / max(conv["peak_mib"], 1e-3)
        row["reference_over_this_min"] = rows["reference"]["fwdbwd_min_ms"] / row["fwdbwd_min_ms"]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    result = {"torch": torch.__version__, "threads": torch.get_num_threads(), "adder_backend": adder.backend(),
              "machine": f"{platform.machine()}, {os.cpu_count()} CPUs", "load_avg": os.getloadavg(),
              "repeats": args.repeats, "shapes": {}}
    print(f"torch {result['torch']}, {result['threads']} threads, adder backend {result['adder_backend']}, "
          f"load {result['load_avg'][0]:.1f}; min / median of {args.repeats} interleaved rounds after 2 warm-up")
    print(f"{'shape':>18} {'impl':>12} {'fwd min':>8} {'f+b min':>8} {'f+b med':>8} {'MiB':>7} "
          f"{'f+b x conv':>10} {'ref / this':>10} {'mem x conv':>10}")
    for family, shapes in SHAPES.items():
        for channels, side, batch in shapes:
            key = f"{family} {channels}ch {side}x{side} b{batch}"
            rows = bench_shape(channels, side, batch, args.repeats)
            result["shapes"][key] = rows
            for name, r in rows.items():
                print(f"{key:>18} {name:>12} {r['fwd_min_ms']:8.2f} {r['fwdbwd_min_ms']:8.2f} "
                      f"{r['fwdbwd_median_ms']:8.2f} {r['peak_mib']:7.1f} {r['fwdbwd_x_conv_min']:10.1f} "
                      f"{r['reference_over_this_min']:10.1f} {r['mem_x_conv']:10.1f}", flush=True)
    result["load_avg_after"] = os.getloadavg()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
