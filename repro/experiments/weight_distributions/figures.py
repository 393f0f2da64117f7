"""Notebook 01's figures: weight histograms with the fitted densities (Fig. 3 / Fig. 7) and heterogeneous
weight sharing with the learned transformation kernel (Fig. 4)."""
from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from scipy import stats

from repro.experiments.weight_distributions.run import CLAIMED, fit_statistics
from repro.models.small_net import STUDIED
from repro.ops import weight_sharing
from repro.ops.weight_sharing import SharedConv2d, excess_kurtosis, shared_parameter_count


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


def _mapping_panel(ax: plt.Axes, curves: list[tuple[np.ndarray, np.ndarray, dict]], title: str) -> None:
    """Fig. 4(b): ``T(w)`` against ``w`` for each ``(w, T(w), line style)``, beside the identity and the
    exact N(0, 1)-to-Laplace(0, 1) quantile map."""
    w = np.sort(np.concatenate([c[0] for c in curves]))
    target = stats.laplace.ppf(stats.norm.cdf(w))
    ax.plot(w, w, color="0.6", ls=":", label="identity")
    ax.plot(w, target, "k--", lw=1, label="exact Gaussian-to-Laplace map")
    for x, t, style in curves:
        order = np.argsort(x)
        ax.plot(x[order], t[order], **style)
    ax.set_xlabel("shared weight w")
    ax.set_ylabel("T(w)")
    ax.set_ylim(target.min() * 1.2, target.max() * 1.2)
    ax.legend(fontsize=7)
    ax.set_title(title, fontsize=9)


def _standalone_curves(fitted: dict[str, Any]) -> list[tuple[np.ndarray, np.ndarray, dict]]:
    w = fitted["w"].numpy()
    return [(w, fitted[name]["transformed"].numpy(), {"color": color, "lw": 1.2, "label": f"T ({name})"})
            for name, color in (("paper", "C3"), ("released", "C0"))]


def _finish_histograms(fig: plt.Figure, ax: plt.Axes, bins: np.ndarray, xlabel: str, title: str) -> plt.Figure:
    """Panel (c) of Fig. 4: the Laplace(0, 1) target over the histograms, labels, and the figure laid out."""
    ax.plot(bins, stats.laplace.pdf(bins), "k--", lw=1, label="Laplace(0, 1) (kurtosis 3)")
    ax.set_xlabel(xlabel)
    ax.legend(fontsize=7)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


def plot_kernel(fitted: dict[str, Any], layer: SharedConv2d) -> plt.Figure:
    """Fig. 4: (a) the sharing diagram; (b) the kernel's mapping; (c) histograms before / after with kurtosis."""
    w = fitted["w"].numpy()
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    plot_sharing_diagram(axes[0], layer)
    _mapping_panel(axes[1], _standalone_curves(fitted), "(b) learned transformation kernel")
    t = fitted["paper"]["transformed"].numpy()
    bins = np.linspace(-6, 6, 90)
    axes[2].hist(w, bins=bins, density=True, alpha=0.5, label=f"before T (kurtosis {excess_kurtosis(fitted['w']):.2f})")
    axes[2].hist(t, bins=bins, density=True, alpha=0.5, color="C3",
                 label=f"after T (kurtosis {excess_kurtosis(fitted['paper']['transformed']):.2f})")
    return _finish_histograms(fig, axes[2], bins, "weight", "(c) distribution before / after T (paper kernel)")


def plot_supernet_kernel(fitted: dict[str, Any], views: list[dict[str, Any]], per_stage: dict[int, float]) -> plt.Figure:
    """Fig. 4(b) from a trained supernet beside the standalone fit: (b) the kernels fitted alone on N(0, 1)
    samples; (b') every pool's ``T(pool)`` against the pool, coloured by stage; (c') the histogram of
    ``T(pool)`` per stage (its pools together) with the stage's mean excess kurtosis ``per_stage``."""
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    _mapping_panel(axes[0], _standalone_curves(fitted), "(b) kernel fitted alone on N(0, 1) samples")
    stages = sorted({v["stage"] for v in views})
    curves, labelled = [], set()
    for v in views:
        first = v["stage"] not in labelled
        labelled.add(v["stage"])
        curves.append((v["w"].numpy(), v["t"].numpy(), {"color": f"C{v['stage']}", "lw": 0.8, "alpha": 0.7,
                                                          "label": f"stage {v['stage']}" if first else None}))
    _mapping_panel(axes[1], curves, "(b') T(pool) in the trained supernet, per pool")
    bins = np.linspace(-6, 6, 90)
    for stage in stages:
        t = np.concatenate([v["t"].numpy() for v in views if v["stage"] == stage])
        axes[2].hist(t, bins=bins, density=True, histtype="step", color=f"C{stage}",
                     label=f"stage {stage} (kurtosis {per_stage[stage]:.2f})")
    return _finish_histograms(fig, axes[2], bins, "T(pool)", "(c') T(pool) per stage in the trained supernet")
