"""Notebook 01: weight distributions of Conv / Add / Shift networks and the transformation kernel.

ShiftAddNAS Fig. 3 and Fig. 7 (Appendix B): weights of Conv layers follow a Gaussian, of Add
layers a Laplacian, of Shift layers a discrete distribution. Fig. 4: heterogeneous weight sharing
and the learnable transformation kernel that maps Gaussian weights to Laplacian ones (Eq. 6).

Experiment: three small networks that differ only in their two middle layers (Conv, Add or
Shift, all initialised from a Gaussian: see :func:`_op_layer`; a full-precision stem and
classifier as in AdderNet / DeepShift) are trained on Fashion-MNIST with SGD, once per seed of
``profile.seed_list``. Every studied layer's trained weights are fitted with a Gaussian and a Laplace
density (maximum likelihood) and compared by log-likelihood per weight (and the KS statistic).

Verdict (:func:`claim_evidence`, the evidence rule of :mod:`repro.evidence`): per network and studied
layer, the claimed density's log-likelihood advantage (nats per weight) over seeds, with a Student t
interval; gated on every seed's test accuracy (:func:`repro.evidence.accuracy_gate`) and on the
layer's relative movement from initialisation ``||W - W0|| / ||W0||`` (every seed at least
:data:`repro.evidence.WEIGHT_MOVEMENT_FLOOR`): every network starts from a Gaussian, so a layer that
barely moved shows its initialisation, not what training made of it. All layers together decide
(:func:`repro.evidence.all_of`). Shift weights are discrete by construction (5-bit signed powers of two).

Deviations from the paper: small networks (stem + two studied layers + classifier) on Fashion-MNIST
instead of ResNet-20/ImageNet-scale models; the stem and classifier are full precision in all three
networks and are not judged. sa-fig4 fits the kernel alone on i.i.d. N(0, 1) samples, once per seed
(not inside a trained supernet): the excess kurtosis of its output is checked against a Laplace's 3
within a stated tolerance over the seeds, a check of the kernel's capacity, not of the supernet.
"""
from __future__ import annotations

import math
from dataclasses import asdict, replace
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from scipy import stats
from torch import nn

from repro import cache, evidence
from repro.data.fashion_mnist import load_fashion_mnist
from repro.ops import adder, shift, weight_sharing
from repro.ops.adder import Adder2d
from repro.ops.checks import check_choice
from repro.ops.shift import ShiftConv2d, effective_weight
from repro.ops.weight_sharing import (ReleasedTransformationKernel, SharedConv2d, TransformationKernel,
                                      excess_kurtosis, fit_kernel, laplace_kl, shared_parameter_count)
from repro.profiles import WeightsConfig
from repro.train.basic import evaluate, loader, train_classifier

OPS = ("conv", "add", "shift")
CLAIMED = {"conv": "Gaussian", "add": "Laplacian", "shift": "discrete"}  # Fig. 3 / Fig. 7, reported
STUDIED = ("layer1", "layer2")
#: Distinct values a 5-bit signed power-of-two weight can take (15 exponents x 2 signs, and zero).
SHIFT_LEVELS = 2 * 15 + 1
#: sa-fig4: tolerance on the excess kurtosis of T(w) against a Laplace's 3.
KURTOSIS_TOL = 0.5


def _op_layer(op: str, cin: int, cout: int) -> nn.Module:
    """A 3x3, stride-2 layer of the studied type with Gaussian initial weights: N(0, 2 / fan_in) for
    Conv and Shift, N(0, 1) for Add (AdderNet's init; its adaptive learning rate assumes unit-scale weights)."""
    check_choice("op", op, OPS)
    layer = {"conv": lambda: nn.Conv2d(cin, cout, 3, stride=2, padding=1, bias=False),
             "add": lambda: Adder2d(cin, cout, 3, stride=2, padding=1),
             "shift": lambda: ShiftConv2d(cin, cout, 3, stride=2, padding=1, mode="q")}[op]()
    with torch.no_grad():
        layer.weight.normal_(0.0, 1.0 if op == "add" else math.sqrt(2.0 / (cin * 9)))
    return layer


class SmallNet(nn.Module):
    """Stem conv (full precision) -> two studied layers (Conv / Add / Shift, each + BN + ReLU) -> GAP -> linear."""

    def __init__(self, op: str, width: int):
        super().__init__()
        self.op = op
        block = lambda layer, c: nn.Sequential(layer, nn.BatchNorm2d(c), nn.ReLU())  # noqa: E731
        self.stem = block(nn.Conv2d(1, width, 3, padding=1, bias=False), width)
        self.layer1 = block(_op_layer(op, width, 2 * width), 2 * width)
        self.layer2 = block(_op_layer(op, 2 * width, 4 * width), 4 * width)
        self.head = nn.Linear(4 * width, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.layer2(self.layer1(self.stem(x)))
        return self.head(x.mean((2, 3)))

    def studied_weights(self) -> dict[str, torch.Tensor]:
        """The weights each studied layer uses in its forward pass (powers of two for Shift)."""
        out = {}
        for name in STUDIED:
            layer = getattr(self, name)[0]
            out[name] = (effective_weight(layer) if self.op == "shift" else layer.weight).detach().clone()
        return out


def train_network(op: str, cfg: WeightsConfig, seed: int = 0) -> dict[str, Any]:
    """Train one :class:`SmallNet` (cached, resumable per epoch); initial and trained studied weights, accuracy."""
    key = {"op": op, "cfg": asdict(cfg), "seed": seed}

    def compute(ckpt: cache.Checkpoint) -> dict[str, Any]:
        torch.manual_seed(seed)
        model = SmallNet(op, cfg.width)
        init = model.studied_weights()
        opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=0.9)
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

    return cache.cached(f"weights-{op}", key, compute, code=(adder, shift))


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


def distribution_table(results: dict[str, dict]) -> pd.DataFrame:
    """One row per network and studied layer: the fits, which density fits better, and the paper's claim."""
    rows = []
    for op, res in results.items():
        for name in STUDIED:
            w0, w = res["init"][name], res["final"][name]
            fit = fit_statistics(w.numpy())
            rows.append({
                "network": op, "layer": name, "weights": w.numel(),
                "distinct values": int(torch.unique(w).numel()),
                "relative change": float((w - w0).norm() / w0.norm()),
                "excess kurtosis (init)": excess_kurtosis(w0), "excess kurtosis (trained)": excess_kurtosis(w),
                "LL/weight Gaussian": fit["ll_gauss"], "LL/weight Laplace": fit["ll_laplace"],
                "KS Gaussian": fit["ks_gauss"], "KS Laplace": fit["ks_laplace"],
                "better fit (LL)": "Laplacian" if fit["ll_laplace"] > fit["ll_gauss"] else "Gaussian",
                "better fit (KS)": "Laplacian" if fit["ks_laplace"] < fit["ks_gauss"] else "Gaussian",
                "reported (paper)": CLAIMED[op],
                "test acc (%)": res["test"]["acc"],
            })
    return pd.DataFrame(rows)


def train_networks(cfg: WeightsConfig, seeds: tuple[int, ...]) -> dict[str, list[dict[str, Any]]]:
    """:func:`train_network` for every op and seed (the same seed gives every op the same data order)."""
    return {op: [train_network(op, cfg, s) for s in seeds] for op in OPS}


def seed_table(runs: dict[str, list[dict]]) -> pd.DataFrame:
    """:func:`distribution_table` of every seed, with a ``seed`` column (index into the seed list)."""
    return pd.concat([distribution_table({op: r[i] for op, r in runs.items()}).assign(seed=i)
                      for i in range(len(next(iter(runs.values()))))], ignore_index=True)


def _advantage(row: pd.Series, claimed: str) -> float:
    """Log-likelihood per weight of the claimed density minus the other's (nats)."""
    diff = row["LL/weight Laplace"] - row["LL/weight Gaussian"]
    return diff if claimed == "Laplacian" else -diff


def layer_evidence(table: pd.DataFrame, op: str, layer: str) -> evidence.Evidence:
    """One layer of one network over seeds: the claimed density's LL advantage, gated on accuracy and movement."""
    rows = table[(table.network == op) & (table.layer == layer)].sort_values("seed")
    gates = [evidence.accuracy_gate(f"{op} network", rows["test acc (%)"]),
             evidence.min_gate(f"{op} {layer} relative movement", rows["relative change"],
                               evidence.WEIGHT_MOVEMENT_FLOOR)]
    values = [_advantage(r, CLAIMED[op]) for _, r in rows.iterrows()]
    return evidence.mean_effect(values, unit=f"nats/weight ({CLAIMED[op]} minus other)", gates=gates)


def claim_evidence(table: pd.DataFrame, ops: tuple[str, ...] = ("conv", "add")) -> evidence.Evidence:
    """Fig. 3 / Fig. 7: every studied layer of each continuous network (Conv, Add) follows its claimed density.

    Shift is not a part: its weights are discrete by construction (at most :data:`SHIFT_LEVELS` values)."""
    parts = {f"{op} {layer}": layer_evidence(table, op, layer) for op in ops if op != "shift" for layer in STUDIED}
    return all_of_with_gates(parts)


def all_of_with_gates(parts: dict[str, evidence.Evidence]) -> evidence.Evidence:
    """:func:`repro.evidence.all_of`, recording every part's gates (not only the first part's), and naming the
    failed ones in the reason."""
    ev = evidence.all_of(parts)
    gates = tuple({g.name: g for e in parts.values() for g in e.gates}.values())
    failed = [g.describe() for g in gates if not g.passed]
    return replace(ev, gates=gates, reason=ev.reason + (f"; failed gates: {'; '.join(failed)}" if failed else ""))


def movement_summary(table: pd.DataFrame, ops: tuple[str, ...]) -> str:
    """``conv layer1 0.21-0.25, ...``: the relative movement range over seeds per network and layer."""
    g = table[table.network.isin(ops)].groupby(["network", "layer"], sort=False)["relative change"]
    return ", ".join(f"{op} {layer} {lo:.2f}-{hi:.2f}" for (op, layer), (lo, hi) in
                     zip(g.groups, zip(g.min(), g.max())))


def shift_levels(table: pd.DataFrame) -> int:
    """The most distinct values any trained Shift layer holds (<= :data:`SHIFT_LEVELS` by construction)."""
    return int(table.loc[table.network == "shift", "distinct values"].max())


def _hist_with_fits(ax: plt.Axes, w: np.ndarray, title: str, discrete: bool = False) -> None:
    w = np.asarray(w, dtype=np.float64).ravel()
    fit = fit_statistics(w)
    if discrete:
        values, counts = np.unique(w, return_counts=True)
        ax.stem(values, counts / counts.sum(), basefmt=" ", linefmt="C0-", markerfmt="C0o")
        ax.set_ylabel("fraction of weights")
    else:
        ax.hist(w, bins=60, density=True, color="0.75", label="weights")
        grid = np.linspace(w.min(), w.max(), 400)
        ax.plot(grid, stats.norm.pdf(grid, fit["gauss_mu"], fit["gauss_sigma"]), "C0",
                label=f"Gaussian fit (LL {fit['ll_gauss']:.3f})")
        ax.plot(grid, stats.laplace.pdf(grid, fit["laplace_loc"], fit["laplace_scale"]), "C3",
                label=f"Laplace fit (LL {fit['ll_laplace']:.3f})")
        ax.set_ylabel("density")
        ax.legend(fontsize=7)
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("weight")


def plot_distributions(results: dict[str, dict], ops: tuple[str, ...]) -> plt.Figure:
    """Histograms of the largest studied layer of each network with the fitted densities (Fig. 3 / 7)."""
    fig, axes = plt.subplots(1, len(ops), figsize=(4 * len(ops), 3.2))
    for ax, op in zip(np.atleast_1d(axes), ops):
        w = results[op]["final"][STUDIED[-1]]
        _hist_with_fits(ax, w.numpy(), f"{op.capitalize()} layer ({w.numel()} weights; paper: {CLAIMED[op]})",
                        discrete=op == "shift")
    fig.tight_layout()
    return fig


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


def kernel_table(fitted: dict[str, Any]) -> pd.DataFrame:
    """Excess kurtosis and KL to Laplace(0, 1) before and after each kernel, and which density fits better."""
    rows = []
    for name, w in (("shared weights (before T)", fitted["w"]), ("T paper (d=200)", fitted["paper"]["transformed"]),
                    ("T released (100 bins)", fitted["released"]["transformed"])):
        fit = fit_statistics(w.numpy())
        rows.append({"weights": name, "excess kurtosis": excess_kurtosis(w), "KL to Laplace(0,1)": laplace_kl(w).item(),
                     "better fit (LL)": "Laplacian" if fit["ll_laplace"] > fit["ll_gauss"] else "Gaussian"})
    rows.append({"weights": "Laplace target", "excess kurtosis": 3.0, "KL to Laplace(0,1)": 0.0,
                 "better fit (LL)": "Laplacian"})
    return pd.DataFrame(rows)


def kernel_evidence(tables: list[pd.DataFrame]) -> evidence.Evidence:
    """Fig. 4's kernel, fitted alone on N(0, 1) samples towards Laplace(0, 1), once per seed (its own
    samples and initialisation): the excess kurtosis of T(w) against a Laplace's 3 within
    :data:`KURTOSIS_TOL`, decided over the seeds by the equivalence rule (:func:`repro.evidence.within`).
    Evidence of what the kernel can represent (the fit minimises this very KL), not that T moves
    inside a trained supernet."""
    after = [t.set_index("weights").loc["T paper (d=200)", "excess kurtosis"] for t in tables]
    return evidence.within(after, 3.0, KURTOSIS_TOL, unit="excess kurtosis")


def _box(ax: plt.Axes, xy: tuple[float, float], text: str, color: str) -> None:
    ax.add_patch(FancyBboxPatch((xy[0] - 0.15, xy[1] - 0.09), 0.3, 0.18, boxstyle="round,pad=0.01",
                                facecolor=color, edgecolor="0.3"))
    ax.text(*xy, text, ha="center", va="center", fontsize=7)


def plot_sharing_diagram(ax: plt.Axes, layer: SharedConv2d) -> None:
    """Fig. 4(a) drawn from a :class:`SharedConv2d`: the pool feeding the Conv, Shift and Add views."""
    pool = layer.pool.weights["pool"]
    counts = {mode: shared_parameter_count(layer.in_channels, layer.out_channels, layer.kernel_size, mode,
                                           layer.kernel) for mode in weight_sharing.SHARING}
    kernel = layer.pool.transform
    segments = getattr(kernel, "num_segments", getattr(kernel, "num_bins", 0))
    _box(ax, (0.5, 0.82), f"shared pool W\n{tuple(pool.shape)}, {pool.numel()} weights\nKL to N(0, I)", "#dde8f5")
    views = [((0.16, 0.3), "Conv\nuses W", "#e6f2e6"),
             ((0.5, 0.3), "Shift\n+-2^round(log2|W|)", "#f5ecd9"),
             ((0.84, 0.3), f"Add\nT(W), d = {segments}\nKL to Laplace(0, 1)", "#f5dede")]
    for xy, text, color in views:
        _box(ax, xy, text, color)
        ax.add_patch(FancyArrowPatch((0.5, 0.72), (xy[0], xy[1] + 0.1), arrowstyle="-|>", mutation_scale=10,
                                     color="0.3"))
    ax.text(0.5, 0.04, f"parameters: heterogeneous {counts['heterogeneous']}, naive {counts['naive']}, "
                       f"none {counts['none']}", ha="center", fontsize=7)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.axis("off")
    ax.set_title("(a) heterogeneous weight sharing", fontsize=9)


def plot_kernel(fitted: dict[str, Any], layer: SharedConv2d) -> plt.Figure:
    """Fig. 4: (a) the sharing diagram; (b) the kernel's mapping; (c) histograms before / after with kurtosis."""
    w = fitted["w"].numpy()
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    plot_sharing_diagram(axes[0], layer)
    order = np.argsort(w)
    target = stats.laplace.ppf(stats.norm.cdf(w[order]))
    axes[1].plot(w[order], w[order], color="0.6", ls=":", label="identity")
    axes[1].plot(w[order], target, "k--", lw=1, label="exact Gaussian-to-Laplace map")
    for name, color in (("paper", "C3"), ("released", "C0")):
        axes[1].plot(w[order], fitted[name]["transformed"].numpy()[order], color, lw=1.2, label=f"T ({name})")
    axes[1].set_xlabel("shared weight w")
    axes[1].set_ylabel("T(w)")
    axes[1].set_ylim(target.min() * 1.2, target.max() * 1.2)
    axes[1].legend(fontsize=7)
    axes[1].set_title("(b) learned transformation kernel", fontsize=9)
    t = fitted["paper"]["transformed"].numpy()
    bins = np.linspace(-6, 6, 90)
    axes[2].hist(w, bins=bins, density=True, alpha=0.5, label=f"before T (kurtosis {excess_kurtosis(fitted['w']):.2f})")
    axes[2].hist(t, bins=bins, density=True, alpha=0.5, color="C3",
                 label=f"after T (kurtosis {excess_kurtosis(fitted['paper']['transformed']):.2f})")
    axes[2].plot(bins, stats.laplace.pdf(bins), "k--", lw=1, label="Laplace(0, 1) (kurtosis 3)")
    axes[2].set_xlabel("weight")
    axes[2].legend(fontsize=7)
    axes[2].set_title("(c) distribution before / after T (paper kernel)", fontsize=9)
    fig.tight_layout()
    return fig
