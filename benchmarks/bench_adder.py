"""Benchmark: the adder convolution vs a dense convolution vs the unfold-and-broadcast reference.

    .venv/bin/python benchmarks/bench_adder.py [--repeats 5] [--batch 64]

Three 3x3 layer shapes of the ``small`` CV supernet (:mod:`repro.spaces.shiftaddnas_cv`: 16, 32 and
64 channels at 14x14, 7x7 and 4x4). For each, the median forward and forward+backward time and the
peak memory (growth of the peak resident set size of a fresh process running one forward+backward)
of three implementations, measured in one run and printed with the ratios that DESIGN.md section 9
targets: adder within 6x of the convolution, at least 10x faster than the reference, memory at most
2x the convolution's. CPU only: no Triton / CUDA path is implemented.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import time
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F

from repro.ops.adder import adder_conv2d

SHAPES = ((16, 14), (32, 7), (64, 4))  # (channels, side) of the small CV supernet's 3x3 layers
IMPLS = ("conv", "adder", "reference")


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


def layer(impl: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    return {"conv": lambda x, w: F.conv2d(x, w, padding=1),
            "adder": lambda x, w: adder_conv2d(x, w, padding=1, eta=0.2),
            "reference": reference_adder}[impl]


def inputs(batch: int, channels: int, side: int) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(batch, channels, side, side, generator=gen, requires_grad=True)
    w = torch.randn(channels, channels, 3, 3, generator=gen, requires_grad=True)
    return x, w


def median_time(fn: Callable[[], object], repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _status_kib(field: str) -> int:
    """A ``/proc/self/status`` memory field (``VmRSS``, ``VmHWM``) in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def _peak_memory(impl: str, batch: int, channels: int, side: int, queue: mp.Queue) -> None:
    torch.set_num_threads(1)
    x, w = inputs(batch, channels, side)
    before = _status_kib("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak RSS (VmHWM) to the current RSS
    layer(impl)(x, w).sum().backward()
    queue.put((_status_kib("VmHWM") - before) / 1024.0)


def peak_memory_mib(impl: str, batch: int, channels: int, side: int) -> float:
    """Growth of the peak RSS (Linux ``VmHWM``, reset before the step) of a fresh process during one
    forward+backward, in MiB."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_peak_memory, args=(impl, batch, channels, side, queue))
    proc.start()
    value = queue.get()
    proc.join()
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {args.batch}, "
          f"median of {args.repeats}; memory: peak-RSS growth of a fresh 1-thread process")
    header = (f"{'shape':>14} {'impl':>10} {'fwd ms':>9} {'fwd+bwd ms':>11} {'peak MiB':>9} "
              f"{'x conv (f+b)':>12} {'ref / adder':>11} {'mem x conv':>10}")
    print(header)
    for channels, side in SHAPES:
        x, w = inputs(args.batch, channels, side)
        rows = {}
        for impl in IMPLS:
            fn = layer(impl)

            def step() -> None:
                fn(x, w).sum().backward()

            with torch.no_grad():
                fwd = median_time(lambda: fn(x, w), args.repeats)
            rows[impl] = (fwd, median_time(step, args.repeats), peak_memory_mib(impl, args.batch, channels, side))
        conv_fb, conv_mem = rows["conv"][1], max(rows["conv"][2], 1e-3)
        for impl, (fwd, fb, mem) in rows.items():
            ref = f"{rows['reference'][1] / fb:11.1f}" if impl == "adder" else f"{'':>11}"
            print(f"{f'{channels}ch {side}x{side}':>14} {impl:>10} {fwd * 1e3:9.2f} {fb * 1e3:11.2f} {mem:9.1f} "
                  f"{fb / conv_fb:12.1f} {ref} {mem / conv_mem:10.1f}")
    print("targets: adder fwd+bwd <= 6x conv, reference / adder >= 10x, adder memory <= 2x conv")


if __name__ == "__main__":
    main()
