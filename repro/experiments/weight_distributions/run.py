"""Notebook 01, what is computed and cached: the trained :class:`repro.models.small_net.SmallNet` of each
operator and seed, Gaussian / Laplace fits of their weights, and the transformation kernels fitted on
N(0, 1) samples (Fig. 3, Fig. 4, Fig. 7). The study's config is the profile's :class:`WeightsConfig`.
:func:`supernet_kernels` measures the kernels inside a trained CV supernet (notebook 03, Fig. 4 in the supernet)."""
from __future__ import annotations

from dataclasses import asdict
from typing import Any

import numpy as np
import pandas as pd
import torch
from scipy import stats

from repro import cache
from repro.data.fashion_mnist import load_fashion_mnist
from repro.models import small_net
from repro.models.small_net import OPS, SmallNet
from repro.ops import adder, shift, weight_sharing
from repro.ops.shift import clamp_shares
from repro.ops.weight_sharing import (ReleasedTransformationKernel, TransformationKernel, excess_kurtosis, fit_kernel,
                                      gaussian_kl, laplace_kl)
from repro.profiles import WeightsConfig
from repro.supernets.shiftaddnas_cv import CVSupernet
from repro.train.basic import evaluate, loader, train_classifier

CLAIMED = {"conv": "Gaussian", "add": "Laplacian", "shift": "discrete"}  # Fig. 3 / Fig. 7, reported


def train_network(op: str, cfg: WeightsConfig, seed: int = 0) -> dict[str, Any]:
    """Train one :class:`SmallNet` (cached, resumable per epoch); initial and trained studied weights, accuracy."""
    key = {"op": op, "cfg": asdict(cfg), "seed": seed}

    def compute(ckpt: cache.Checkpoint) -> dict[str, Any]:
        torch.manual_seed(seed)
        model = SmallNet(op, cfg.width)
        init = model.studied_weights()
        opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum)
        train = loader(load_fashion_mnist("train", cfg.train_subset, seed=seed), cfg.batch_size, shuffle=True,
                       seed=seed)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, max(1, cfg.epochs * len(train)))
        history: list[dict] = []
        state = ckpt.load()
        if state is not None:
            model.load_state_dict(state["model"])
            opt.load_state_dict(state["opt"])
            sched.load_state_dict(state["sched"])
            history, init = state["history"], state["init"]

        def save(epoch: int, stats: dict) -> None:
            history.append(stats)
            ckpt.save({"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(),
                       "history": history, "init": init})

        train_classifier(model, train, cfg.epochs - len(history), opt, scheduler=sched, desc=f"train {op}",
                         on_epoch_end=save)
        test = loader(load_fashion_mnist("test", cfg.test_subset, seed=seed), 256, shuffle=False)
        return {"op": op, "init": init, "final": model.studied_weights(), "history": history,
                "test": evaluate(model, test)}

    return cache.cached(f"weights-{op}", key, compute, code=(adder, shift, small_net))


def train_networks(cfg: WeightsConfig, seeds: tuple[int, ...]) -> dict[str, list[dict[str, Any]]]:
    """:func:`train_network` for every op and seed (the same seed gives every op the same data order)."""
    return {op: [train_network(op, cfg, s) for s in seeds] for op in OPS}


def fit_statistics(w: np.ndarray) -> dict[str, float]:
    """Maximum-likelihood Gaussian and Laplace fits: log-likelihood per weight, KS statistic, parameters."""
    w = np.asarray(w, dtype=np.float64).ravel()
    mu, sigma = stats.norm.fit(w)
    loc, scale = stats.laplace.fit(w)
    return {"gauss_mu": mu, "gauss_sigma": sigma, "laplace_loc": loc, "laplace_scale": scale,
            "ll_gauss": float(stats.norm.logpdf(w, mu, sigma).mean()),
            "ll_laplace": float(stats.laplace.logpdf(w, loc, scale).mean()),
            "ks_gauss": float(stats.kstest(w, "norm", args=(mu, sigma)).statistic),
            "ks_laplace": float(stats.kstest(w, "laplace", args=(loc, scale)).statistic)}


def fit_kernels(cfg: WeightsConfig, seed: int = 0) -> dict[str, Any]:
    """Fit the paper's and the released code's kernels on N(0, 1) samples towards Laplace(0, 1) (cached)."""
    key = {"samples": cfg.kernel_samples, "steps": cfg.kernel_fit_steps, "seed": seed}

    def compute(_: cache.Checkpoint) -> dict[str, Any]:
        w = torch.randn(cfg.kernel_samples, generator=torch.Generator().manual_seed(seed))
        out: dict[str, Any] = {"w": w}
        for name, kernel in (("paper", TransformationKernel()), ("released", ReleasedTransformationKernel())):
            history = fit_kernel(kernel, w, cfg.kernel_fit_steps, desc=f"fit {name} kernel")
            with torch.no_grad():
                out[name] = {"alpha": kernel.alpha.detach().clone(), "transformed": kernel(w), "kl": history}
        return out

    return cache.cached("weights-kernel", key, compute, code=(weight_sharing,))


@torch.no_grad()
def supernet_kernels(net: CVSupernet) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Every shared pool of a trained heterogeneous CV supernet: the excess kurtosis and Laplace KL of
    ``T(pool)`` (Eq. 6 against Laplace(0, 1)), the Gaussian KL of the pool, the alphas' range and the
    Shift view's shares at the clamp (:func:`repro.ops.shift.clamp_shares`; also of the pool rounded
    unscaled). Returns one row per pool and, per pool, its stage, ``w`` and ``T(w)`` (flattened)."""
    if net.sharing != "heterogeneous":
        raise ValueError(f"the kernels exist under heterogeneous sharing only, got sharing={net.sharing!r}")
    rows, views = [], []
    for stage, layers in enumerate(net.layers):
        for depth, layer in enumerate(layers):
            for position, conv in enumerate(layer.local.convs):
                w = conv.pool.weights["pool"].detach()
                t = conv.pool.transform(w)
                alpha = conv.pool.transform.alpha
                shares = clamp_shares(conv.shift_scale * w)
                unscaled = clamp_shares(w)
                rows.append({"stage": stage, "layer": depth, "position": position, "weights": w.numel(),
                             "excess kurtosis pool": excess_kurtosis(w), "excess kurtosis T(pool)": excess_kurtosis(t),
                             "KL Laplace T(pool)": laplace_kl(t).item(), "KL Gaussian pool": gaussian_kl(w).item(),
                             "alpha min": alpha.min().item(), "alpha max": alpha.max().item(),
                             "Shift top level": shares["top level"], "Shift clipped above": shares["clipped above"],
                             "Shift clipped below": shares["clipped below"],
                             "unscaled Shift top level": unscaled["top level"],
                             "unscaled Shift clipped above": unscaled["clipped above"]})
                views.append({"stage": stage, "w": w.reshape(-1), "t": t.reshape(-1)})
    return pd.DataFrame(rows), views
