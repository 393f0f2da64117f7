"""Benchmark: the cost of heterogeneous weight sharing in a CV supernet training step.

    .venv/bin/python benchmarks/bench_sharing.py [--steps 20] [--repeats 5] [--scale tiny]

Times one-shot steps (forward, KL terms of Eq. 5, backward, Adam) of the ShiftAddNAS CV supernet
with heterogeneous sharing and with naive sharing (no kernel, no KL), on the same sampled subnets
and batches, the two modes interleaved, one warm-up round excluded, in CPU time of the calling
thread (one intra-op thread: the step's whole work; robust to other load on a shared machine); prints the minimum and median
of ``--repeats`` rounds and the overhead ratio ``heterogeneous / naive - 1`` (issue target: < 5%).
One intra-op thread. JSON to ``build/bench/sharing.json``.
"""
from __future__ import annotations

import argparse
import random
import time

import torch
import torch.nn.functional as F

from common import summary, write
from repro.spaces.shiftaddnas_cv import dims_for
from repro.supernets.shiftaddnas_cv import CVSupernet


def _round(net: CVSupernet, opt: torch.optim.Optimizer, configs: list, x: torch.Tensor, y: torch.Tensor) -> float:
    t0 = time.thread_time()
    for cfg in configs:
        net.set_active_subnet(cfg)
        loss = F.cross_entropy(net(x), y) + net.regularization_loss()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return time.thread_time() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--scale", default="tiny")
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()
    torch.set_num_threads(1)
    dims = dims_for(args.scale)
    nets = {}
    for mode in ("heterogeneous", "naive"):
        torch.manual_seed(0)
        net = CVSupernet(dims, mode).train()
        nets[mode] = (net, torch.optim.Adam(net.parameters(), lr=1e-3))
    rng = random.Random(0)
    configs = [nets["naive"][0].space.sample(rng) for _ in range(args.steps)]
    x = torch.randn(args.batch, dims.in_channels, dims.input_size, dims.input_size)
    y = torch.randint(0, dims.num_classes, (args.batch,))
    times: dict[str, list[float]] = {m: [] for m in nets}
    for r in range(args.repeats + 1):
        for mode, (net, opt) in nets.items():
            t = _round(net, opt, configs, x, y)
            if r:  # round 0 is the warm-up
                times[mode].append(t / args.steps)
    out: dict = summary(times)
    out["overhead_min"] = out["heterogeneous"]["min_s"] / out["naive"]["min_s"] - 1
    out["overhead_median"] = out["heterogeneous"]["median_s"] / out["naive"]["median_s"] - 1
    out["args"] = vars(args)
    write("sharing", out)
    for m in nets:
        print(f"{m:14s} step min {out[m]['min_s'] * 1e3:7.1f} ms  median {out[m]['median_s'] * 1e3:7.1f} ms")
    print(f"heterogeneous sharing overhead: {out['overhead_min']:+.1%} (min), {out['overhead_median']:+.1%} (median)")


if __name__ == "__main__":
    main()
