"""Benchmark: each study's training step against a plain PyTorch model of the same operators (issue 18, item 5).

    .venv/bin/python benchmarks/bench_studies.py [--steps 10] [--repeats 5]

For every study, at the default profile's sizes, one training step (forward, the study's regulariser,
backward, the optimiser) of the network as the study trains it is timed beside the same subnet as a plain
module trained by a plain loop, on the same batch, the two interleaved round by round, one warm-up round
excluded, in CPU time of the calling thread (one intra-op thread). The ratio is what the study's machinery
costs over the operators themselves:

* ``cv-supernet``: the ShiftAddNAS CV supernet (heterogeneous sharing: the kernel T and Eq. 5's KL terms;
  and naive sharing) with a sampled subnet active, against :meth:`CVSupernet.export` of that subnet;
* ``nlp-supernet``: the ShiftAddNAS NLP supernet (heterogeneous sharing) against the standalone subnet;
* ``vit-supernet``: the probability-shift ViT supernet, sliced (the uniform arm) and masked at full width
  (the generator arm, Eq. 9: the policy's gradient needs every weight), against :meth:`ViTSupernet.export`
  of the subnet and, for the masked arm's FLOPs, of the largest subnet;
* ``bitshift-cell``: a searched cell's evaluation network in the bit-shift domain (quantised weights, STE)
  against the same network in the real domain;
* ``engine``: the training engine's loop (:func:`repro.train.engine.run`: seeding, hooks, metrics,
  progress) against a bare ``for`` loop, on the exported CV subnet.

The issue's target: each study's step within 1.5x a plain model of the same FLOPs and operators (the CV
supernet within 2x). Prints the minimum and median of ``--repeats`` rounds; JSON to ``build/bench/studies.json``.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import random
import time
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from common import summary, write
from repro.profiles import get_profile

Step = Callable[[], None]


def _step(model: nn.Module, loss: Callable[[], torch.Tensor]) -> Step:
    """One plain training step of ``model``: forward and loss, backward, AdamW."""
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)

    def run() -> None:
        opt.zero_grad(set_to_none=True)
        loss().backward()
        opt.step()
    return run


def _with_reg(model: nn.Module, loss: Callable[[], torch.Tensor]) -> Callable[[], torch.Tensor]:
    return lambda: loss() + model.regularization_loss()


def cv_cases(batch: int) -> dict[str, Step]:
    from repro.spaces.shiftaddnas_cv import dims_for
    from repro.supernets.shiftaddnas_cv import CVSupernet

    cfg = get_profile("default").supernet
    dims = dims_for(cfg.scale)
    x = torch.randn(batch, dims.in_channels, dims.input_size, dims.input_size)
    y = torch.randint(0, dims.num_classes, (batch,))
    cases = {}
    for sharing in ("heterogeneous", "naive"):
        torch.manual_seed(0)
        net = CVSupernet(dims, sharing).train()
        config = net.space.sample(random.Random(1))
        net.set_active_subnet(config)
        cases[f"cv-supernet ({sharing})"] = _step(net, _with_reg(net, lambda net=net: F.cross_entropy(net(x), y)))
    plain = net.export(config).train()
    cases["cv-supernet: exported subnet"] = _step(plain, lambda: F.cross_entropy(plain(x), y))
    return cases


def nlp_cases(batch: int, length: int = 24, vocab: int = 8000) -> dict[str, Step]:
    from repro.spaces.shiftaddnas_nlp import ShiftAddNASNLPSpace, dims_for
    from repro.supernets.shiftaddnas_nlp import ShiftAddNASTransformer, standalone

    dims = dims_for(get_profile("default").nlp.scale)
    torch.manual_seed(0)
    net = ShiftAddNASTransformer(dims, vocab, "heterogeneous").train()
    config = ShiftAddNASNLPSpace(dims).sample(random.Random(1))
    net.set_active_subnet(config)
    plain = standalone(config, dims, vocab).train()
    src, tgt = torch.randint(1, vocab, (batch, length)), torch.randint(1, vocab, (batch, length + 1))

    def loss(model: nn.Module) -> torch.Tensor:
        return F.cross_entropy(model(src, tgt[:, :-1]).flatten(0, 1), tgt[:, 1:].flatten())
    return {"nlp-supernet (heterogeneous)": _step(net, _with_reg(net, lambda: loss(net))),
            "nlp-supernet: standalone subnet": _step(plain, lambda: loss(plain))}


def _one_hot_policies(space, config: dict) -> dict[str, torch.Tensor]:
    """The generator's one-hot policies (Eq. 9's p) that select ``config``; layers past its depth take choice 0."""
    def hot(choices, value) -> torch.Tensor:
        return F.one_hot(torch.tensor(list(choices).index(value)), len(choices)).float()
    out = {"embed_dim": hot(space.embed_dims, config["embed_dim"]), "depth": hot(space.depths, config["depth"])}
    for i in range(space.max_depth):
        inside = i < config["depth"]
        out[f"num_heads.{i}"] = hot(space.num_heads, config["num_heads"][i] if inside else space.num_heads[0])
        out[f"mlp_ratio.{i}"] = hot(space.mlp_ratios, config["mlp_ratio"][i] if inside else space.mlp_ratios[0])
    return out


def vit_cases(batch: int) -> dict[str, Step]:
    from repro.spaces.autoformer import get_space
    from repro.supernets.vit import ViTSupernet

    space = get_space(get_profile("default").probshift.space)
    torch.manual_seed(0)
    net = ViTSupernet(space).train()
    config = space.sample(random.Random(1))
    net.set_active_subnet(config)
    plain, largest = net.export(config).train(), net.export(space.largest()).train()
    x = torch.randn(batch, space.in_chans, space.img_size, space.img_size)
    y = torch.randint(0, space.num_classes, (batch,))
    policies = _one_hot_policies(space, config)
    return {"vit-supernet (sliced)": _step(net, lambda: F.cross_entropy(net(x), y)),
            "vit-supernet (masked, Eq. 9)": _step(net, lambda: F.cross_entropy(net(x, net.masks(policies)), y)),
            "vit-supernet: exported subnet": _step(plain, lambda: F.cross_entropy(plain(x), y)),
            "vit-supernet: exported largest subnet": _step(largest, lambda: F.cross_entropy(largest(x), y))}


def bitshift_cases(batch: int) -> dict[str, Step]:
    from repro.search import dots
    from repro.spaces.darts import PAPER_GENOTYPES
    from repro.supernets.darts import NetworkCIFAR

    cfg = get_profile("default").bitshift
    size = cfg.eval_image_size
    x, y = torch.randn(batch, 1, size, size), torch.randint(0, 10, (batch,))
    cases = {}
    for domain in ("shift", "real"):
        torch.manual_seed(0)
        net = NetworkCIFAR(cfg.eval_channels, 10, cfg.eval_layers, PAPER_GENOTYPES["cifar10"], 1, domain).train()
        reg = dots.regulariser(net, cfg.weight_decay, l2r=True)
        loss = (lambda net=net: F.cross_entropy(net(x), y)) if reg is None else \
            (lambda net=net, reg=reg: F.cross_entropy(net(x), y) + reg())
        cases[f"bitshift-cell ({domain} domain)"] = _step(net, loss)
    return cases


def engine_cases(batch: int, steps: int) -> dict[str, Step]:
    from repro.spaces.shiftaddnas_cv import dims_for
    from repro.supernets.shiftaddnas_cv import CVSupernet
    from repro.train import engine

    dims = dims_for(get_profile("default").supernet.scale)
    torch.manual_seed(0)
    plain = CVSupernet(dims, "naive").export(CVSupernet(dims).space.sample(random.Random(1))).train()
    data = [(torch.randn(batch, dims.in_channels, dims.input_size, dims.input_size),
             torch.randint(0, dims.num_classes, (batch,)))] * steps
    opt = torch.optim.AdamW(plain.parameters(), lr=1e-4)

    def loss(model: nn.Module, b: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        return F.cross_entropy(model(b[0]), b[1])

    def bare() -> None:
        for b in data:
            opt.zero_grad(set_to_none=True)
            loss(plain, b).backward()
            opt.step()

    def run() -> None:
        with contextlib.redirect_stderr(io.StringIO()):  # the engine's progress bar, kept in the timing
            engine.run(plain, opt, data, loss, engine.RunConfig(steps=steps, device="cpu", desc="bench"))
    return {"engine loop": run, "engine: bare loop": bare}  # each call runs ``steps`` steps


PAIRS = (("cv-supernet (heterogeneous)", "cv-supernet: exported subnet"),
         ("cv-supernet (naive)", "cv-supernet: exported subnet"),
         ("cv-supernet (heterogeneous)", "cv-supernet (naive)"),
         ("nlp-supernet (heterogeneous)", "nlp-supernet: standalone subnet"),
         ("vit-supernet (sliced)", "vit-supernet: exported subnet"),
         ("vit-supernet (masked, Eq. 9)", "vit-supernet: exported subnet"),
         ("vit-supernet (masked, Eq. 9)", "vit-supernet: exported largest subnet"),
         ("bitshift-cell (shift domain)", "bitshift-cell (real domain)"),
         ("engine loop", "engine: bare loop"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10, help="steps per round and case")
    parser.add_argument("--repeats", type=int, default=5, help="timed rounds (after one warm-up round)")
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()
    torch.set_num_threads(1)
    cases = {**cv_cases(args.batch), **nlp_cases(args.batch), **vit_cases(args.batch),
             **bitshift_cases(args.batch)}
    loops = engine_cases(args.batch, args.steps)
    times: dict[str, list[float]] = {name: [] for name in (*cases, *loops)}
    for r in range(args.repeats + 1):
        for name, step in cases.items():
            t0 = time.thread_time()
            for _ in range(args.steps):
                step()
            if r:  # round 0 is the warm-up
                times[name].append((time.thread_time() - t0) / args.steps)
        for name, loop in loops.items():  # each call runs args.steps steps
            t0 = time.thread_time()
            loop()
            if r:
                times[name].append((time.thread_time() - t0) / args.steps)
    out: dict = summary(times)
    out["ratios"] = {f"{a} / {b}": {"min": out[a]["min_s"] / out[b]["min_s"],
                                    "median": out[a]["median_s"] / out[b]["median_s"]} for a, b in PAIRS}
    out["args"] = vars(args)
    write("studies", out)
    for name in times:
        print(f"{name:34s} step min {out[name]['min_s'] * 1e3:8.1f} ms  median {out[name]['median_s'] * 1e3:8.1f} ms")
    for pair, r in out["ratios"].items():
        print(f"{pair:70s} {r['min']:5.2f}x (min)  {r['median']:5.2f}x (median)")


if __name__ == "__main__":
    main()
