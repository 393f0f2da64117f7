"""ShiftAddNAS on images, end to end at the profile's scale (notebooks 03, 04 and 05, CV parts).

One-shot training of the CV supernet on Fashion-MNIST (Sec. 3.2.1, Eq. 3), evolutionary search
under a MACs budget with inherited-weight validation accuracy as fitness (Eq. 4, AutoFormer's
settings scaled by the profile), standalone training of subnets from scratch, the cost model's
counts / energy / latency of subnets, and the weight-sharing ablation of Table 5. Every training
and search is cached by its inputs (:func:`repro.cache.cached`), so notebooks 04 and 05 reuse the
supernets of notebook 03 and an interrupted run resumes from its last checkpoint.
"""
from __future__ import annotations

import random
import time
from dataclasses import asdict, dataclass
from typing import Iterator

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from scipy import stats
from torch import nn
from torch.utils.data import TensorDataset
from tqdm.auto import tqdm

from repro import cache
from repro.cost.counting import count
from repro.cost.eyeriss import network_cost
from repro.data.fashion_mnist import load_fashion_mnist
from repro.profiles import Profile
from repro.search import evolution
from repro.search.evolution import EvolutionSettings, evolutionary_search
from repro.spaces import shiftaddnas_cv as space_module
from repro.spaces.base import Config
from repro.spaces.shiftaddnas_cv import ShiftAddNASCVSpace, dims_for
from repro.supernets import shiftaddnas_cv as supernet_module
from repro.supernets.shiftaddnas_cv import CVNet, CVSupernet
from repro.train import one_shot
from repro.train.basic import evaluate, loader
from repro.train.one_shot import train_one_shot, train_steps

_CODE = (space_module, supernet_module, one_shot, evolution)


@dataclass(frozen=True)
class CVExperiment:
    """What a CV run depends on: the cache key of every training and search below."""
    scale: str
    steps: int
    batch_size: int
    lr: float
    warmup_steps: int
    train_subset: int
    test_subset: int
    val_size: int
    calib_batches: int
    search_iterations: int
    population: int
    standalone_steps: int
    seed: int

    @classmethod
    def from_profile(cls, profile: Profile) -> "CVExperiment":
        s = profile.supernet
        return cls(scale=s.scale, steps=s.steps, batch_size=s.batch_size, lr=s.lr,
                   warmup_steps=max(1, s.steps // 10), train_subset=profile.data.fashion_train_subset,
                   test_subset=profile.data.fashion_test_subset, val_size=s.val_size,
                   calib_batches=s.calib_batches, search_iterations=s.search_iterations,
                   population=s.population, standalone_steps=s.standalone_steps, seed=profile.seed)

    @property
    def space(self) -> ShiftAddNASCVSpace:
        return ShiftAddNASCVSpace(dims_for(self.scale))

    @property
    def evolution(self) -> EvolutionSettings:
        """AutoFormer's CV settings (20 / 50 / 10 / 25 @ 0.2 / 25) scaled to the profile's sizes."""
        return EvolutionSettings.cv().scaled(self.search_iterations, self.population)


def splits(exp: CVExperiment) -> tuple[TensorDataset, TensorDataset, TensorDataset]:
    """Train / validation (held out of the training images, for search fitness) / test."""
    full = load_fashion_mnist("train", exp.train_subset, seed=exp.seed)
    x, y = full.tensors
    perm = torch.randperm(len(y), generator=torch.Generator().manual_seed(exp.seed))
    val, train = perm[:exp.val_size], perm[exp.val_size:]
    return (TensorDataset(x[train], y[train]), TensorDataset(x[val], y[val]),
            load_fashion_mnist("test", exp.test_subset, seed=exp.seed))


def batches(data: TensorDataset, batch_size: int, seed: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """An endless stream of shuffled batches (a new seeded permutation every epoch)."""
    epoch = 0
    while True:
        yield from loader(data, batch_size, shuffle=True, seed=seed + epoch, drop_last=True)
        epoch += 1


def _ce(model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    return F.cross_entropy(model(batch[0]), batch[1])


def train_supernet(exp: CVExperiment, sharing: str) -> dict:
    """One-shot training (one uniformly sampled subnet per step), cached: state, losses, wall clock."""
    def compute(ckpt: cache.Checkpoint) -> dict:
        torch.manual_seed(exp.seed)
        net = CVSupernet(dims_for(exp.scale), sharing)
        train = splits(exp)[0]
        res = train_one_shot(net, exp.space, lambda: batches(train, exp.batch_size, exp.seed), _ce,
                             steps=exp.steps, lr=exp.lr, warmup_steps=exp.warmup_steps, ckpt=ckpt,
                             ckpt_every=max(10, exp.steps // 10), seed=exp.seed, desc=f"CV supernet ({sharing})")
        return {"state": net.state_dict(), "losses": res.losses, "wall_clock_s": res.wall_clock_s,
                "steps": res.steps}

    return cache.cached("cv-supernet", {"exp": asdict(exp), "sharing": sharing}, compute, code=_CODE)


def load_supernet(exp: CVExperiment, sharing: str) -> tuple[CVSupernet, dict]:
    """The trained supernet (from the cache, training it if needed) and its training record."""
    run = train_supernet(exp, sharing)
    net = CVSupernet(dims_for(exp.scale), sharing)
    net.load_state_dict(run["state"])
    return net.eval(), run


@torch.no_grad()
def recalibrate_bn(model: nn.Module, calib: list[tuple[torch.Tensor, torch.Tensor]]) -> None:
    """Reset the BatchNorm statistics and re-estimate them on ``calib`` with the active path (SPOS)."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # a cumulative average over the calibration batches
    model.train()
    for x, _ in calib:
        model(x)
    for m in norms:
        m.momentum = 0.1
    model.eval()


class InheritedAccuracy:
    """Validation accuracy of a subnet with weights inherited from a supernet (Eq. 4), BN recalibrated."""

    def __init__(self, net: CVSupernet, exp: CVExperiment):
        train, val, _ = splits(exp)
        stream = batches(train, exp.batch_size, exp.seed + 1)
        self.net, self.calib = net, [next(stream) for _ in range(exp.calib_batches)]
        self.val = loader(val, 500, shuffle=False)

    def __call__(self, config: Config) -> float:
        self.net.set_active_subnet(config)
        recalibrate_bn(self.net, self.calib)
        return evaluate(self.net, self.val)["acc"]


def macs_budget(exp: CVExperiment, quantile: float, samples: int = 2000) -> int:
    """The MACs of the ``quantile`` of uniformly sampled subnets (the search constraint)."""
    rng = random.Random(exp.seed)
    space = exp.space
    return int(np.quantile([space.macs(space.sample(rng)) for _ in range(samples)], quantile))


def search(exp: CVExperiment, sharing: str, budget_quantile: float) -> dict:
    """Evolutionary search under ``MACs <= macs_budget(quantile)``, cached: best config, history, time."""
    def compute(_: cache.Checkpoint) -> dict:
        net, _run = load_supernet(exp, sharing)
        fitness = InheritedAccuracy(net, exp)
        budget = macs_budget(exp, budget_quantile)
        start = time.perf_counter()
        res = evolutionary_search(exp.space, fitness, exp.evolution, constraint=lambda c: exp.space.macs(c) <= budget,
                                  seed=exp.seed, desc=f"CV search ({sharing}, MACs <= {budget / 1e6:.2f}M)")
        return {"best": res.best, "inherited_acc": res.best_fitness, "history": res.history,
                "evaluated": res.evaluated, "macs_budget": budget, "wall_clock_s": time.perf_counter() - start}

    train_supernet(exp, sharing)  # outside the timed search: training is its own cached step
    return cache.cached("cv-search", {"exp": asdict(exp), "sharing": sharing, "quantile": budget_quantile},
                        compute, code=_CODE)


def train_standalone(exp: CVExperiment, config: Config) -> dict:
    """Train the subnet from scratch (same recipe, ``standalone_steps`` steps), cached: val / test accuracy."""
    def compute(ckpt: cache.Checkpoint) -> dict:
        torch.manual_seed(exp.seed)
        net = CVNet(dims_for(exp.scale), config)
        train, val, test = splits(exp)
        res = train_steps(net, lambda: batches(train, exp.batch_size, exp.seed), _ce, steps=exp.standalone_steps,
                          lr=exp.lr, warmup_steps=max(1, exp.standalone_steps // 10), ckpt=ckpt,
                          ckpt_every=max(10, exp.standalone_steps // 5), seed=exp.seed, desc="standalone")
        net.eval()
        return {"val_acc": evaluate(net, loader(val, 500, shuffle=False))["acc"],
                "test_acc": evaluate(net, loader(test, 500, shuffle=False))["acc"], "wall_clock_s": res.wall_clock_s}

    return cache.cached("cv-standalone", {"exp": asdict(exp), "config": config}, compute, code=_CODE)


def subnet_cost(dims_or_scale, config: Config, bits: int = 32) -> dict:
    """Params, MACs, #Mult / #Add / #Shift, energy (mJ) and latency (ms) of a subnet (cost model, meta device)."""
    dims = dims_for(dims_or_scale) if isinstance(dims_or_scale, str) else dims_or_scale
    with torch.device("meta"):
        net = CVNet(dims, config)
    shape = (1, dims.in_channels, dims.input_size, dims.input_size)
    c = count(net, shape)
    hw = network_cost(net, shape, bits=bits)
    return {"params": c.params, "macs": c.macs, "mult": c.mult, "add": c.add, "shift": c.shift,
            "energy_mj": hw.energy_mj, "latency_ms": hw.latency_ms}


def distinct_samples(space: ShiftAddNASCVSpace, n: int, seed: int) -> list[Config]:
    """``n`` distinct uniformly sampled configs (fixed seed)."""
    rng = random.Random(seed)
    out: dict[str, Config] = {}
    while len(out) < n:
        cfg = space.sample(rng)
        out.setdefault(repr(cfg), cfg)
    return list(out.values())


def ranking(inherited: list[float], standalone: list[float]) -> dict[str, float]:
    """Kendall tau, Pearson R and Spearman rho between inherited and standalone accuracy (Table 5)."""
    return {"kendall_tau": float(stats.kendalltau(inherited, standalone).statistic),
            "pearson_r": float(stats.pearsonr(inherited, standalone).statistic),
            "spearman_rho": float(stats.spearmanr(inherited, standalone).statistic)}


def sharing_ablation(exp: CVExperiment, subnets: int, budget_quantile: float = 0.5,
                     modes: tuple[str, ...] = ("naive", "heterogeneous")) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Table 5: per mode the ranking correlations over the same ``subnets`` sampled subnets, and the
    standalone top-1, params, energy and latency of that mode's searched subnet.

    Returns (the table, one row per sampled subnet with its inherited and standalone accuracies).
    """
    configs = distinct_samples(exp.space, subnets, exp.seed + 7)
    truth = [train_standalone(exp, c)["val_acc"] for c in tqdm(configs, desc="standalone subnets", leave=False)]
    per_subnet = pd.DataFrame({"config": [repr(c["stages"]) for c in configs], "standalone_acc": truth})
    rows = []
    for mode in modes:
        net, _ = load_supernet(exp, mode)
        fitness = InheritedAccuracy(net, exp)
        per_subnet[f"inherited_acc_{mode}"] = [fitness(c) for c in tqdm(configs, desc=f"inherited ({mode})",
                                                                        leave=False)]
        found = search(exp, mode, budget_quantile)
        best = train_standalone(exp, found["best"])
        rows.append({"sharing": mode, **ranking(list(per_subnet[f"inherited_acc_{mode}"]), truth),
                     "top1_test": best["test_acc"], **subnet_cost(exp.scale, found["best"]),
                     "searched": repr(found["best"]["stages"])})
    return pd.DataFrame(rows), per_subnet
