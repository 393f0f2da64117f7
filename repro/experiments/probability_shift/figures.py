"""Notebook 07's figures: the FLOPs of uniform subnets (Fig. 2), the trade-off curves (Fig. 4, 7, 8), the
learned B (Fig. 5), ranking (Fig. 6), sampling times (Fig. 9) and the diagrams drawn from the objects
(Fig. 1, 3, 10)."""
from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import stats

from repro.experiments.probability_shift.run import SPLIT_G, SeedRuns, irwin_hall_normal, to_paper
from repro.search import probability_shift as ps
from repro.spaces.autoformer import ViTSpace
from repro.spaces.masks import prefix_masks

LABELS = {"uniform": "uniform sampling (best of 3 per bin)", "generator": "generator, uniform B (no shift)",
          "shift": "probability shift"}
#: The FLOPs axis of a trade-off panel: ViT-T-equivalent G (:func:`run.to_paper`) or the space's own MFLOPs.
XLABELS = {"flops_g": "subnet FLOPs (ViT-T-equivalent G)", "flops_m": "subnet FLOPs (M, multiply-accumulates)"}


def plot_uniform_flops(space: ViTSpace, flops: np.ndarray, fit: dict[str, float]) -> plt.Figure:
    """Fig. 2: (a) the uniform per-operation choice probabilities, (b) the FLOPs histogram against the
    normal approximations, labelled with their KS distances (``fit``: :func:`run.normal_fit`)."""
    mix = irwin_hall_normal(space)
    mean, std = flops.mean(), flops.std()
    x = np.linspace(flops.min(), flops.max(), 400)
    mix_pdf = sum(w * stats.norm.pdf(x, m, s) for w, m, s in mix)
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.6), gridspec_kw={"width_ratios": [1, 1.6]})
    ops = [("embed", space.embed_dims), ("depth", space.depths), ("heads", space.num_heads),
           ("MLP ratio", space.mlp_ratios)]
    for i, (name, choices) in enumerate(ops):
        a.bar([i + (j - (len(choices) - 1) / 2) * 0.25 for j in range(len(choices))], [1 / len(choices)] * len(choices),
              width=0.22, label=name)
        for j, c in enumerate(choices):
            a.text(i + (j - (len(choices) - 1) / 2) * 0.25, 1 / len(choices) + 0.01, f"{c:g}", ha="center", fontsize=6)
    a.set_xticks(range(len(ops)), [n for n, _ in ops])
    a.set_ylabel("sampling probability")
    a.set_title("(a) uniform choice of each operation")
    b.hist(flops / 1e9, bins=60, density=True, alpha=0.5, label=f"{len(flops)} sampled subnets")
    b.plot(x / 1e9, stats.norm.pdf(x, mean, std) * 1e9, label=f"normal (KS {fit['ks_normal']:.3f})")
    b.plot(x / 1e9, mix_pdf * 1e9, "--", label=f"Irwin-Hall normal mixture (KS {fit['ks_mixture']:.3f})")
    b.set_xlabel(f"{space.name} subnet FLOPs (G, multiply-accumulates)")
    b.set_ylabel("density")
    b.set_title("(b) FLOPs of uniformly sampled subnets")
    b.legend(fontsize=7)
    return fig


def plot_tradeoff(curves: dict[str, pd.DataFrame], title: str) -> plt.Figure:
    """One accuracy / FLOPs panel (Fig. 7, 8), in ViT-T-equivalent G."""
    return plot_tradeoff_panels([(curves, title, "flops_g")])


def plot_tradeoff_panels(panels: Sequence[tuple[dict[str, pd.DataFrame], str, str]]) -> plt.Figure:
    """Accuracy against FLOPs side by side, one panel per ``(curves, title, FLOPs column)`` (Fig. 4: the
    ViT panel in ViT-T-equivalent G, the CNN panel in its own MFLOPs; columns :data:`XLABELS`)."""
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.6), squeeze=False)
    for ax, (curves, title, x) in zip(axes[0], panels):
        for name, df in curves.items():
            ax.plot(df[x], df["acc"], "o-", label=name)
        ax.set_xlabel(XLABELS[x])
        ax.set_ylabel("Fashion-MNIST top-1, inherited (%)")
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=7)
    return fig


def plot_distribution(space: ViTSpace, bins: ps.FlopsBins, study_: list[SeedRuns]) -> plt.Figure:
    """Fig. 5: B of the first seed at a few steps, both update directions, and TV(B, uniform) over training."""
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.4))
    for ax, arm in zip(axes, ("shift", "reversed")):
        probs = study_[0].runs[arm].probs
        picks = [probs[i] for i in sorted({0, len(probs) // 3, 2 * len(probs) // 3, len(probs) - 1})]
        width = 0.8 / len(picks)
        for j, (step, p) in enumerate(picks):
            ax.bar(np.arange(bins.count) + (j - (len(picks) - 1) / 2) * width, p, width, label=f"step {step}")
        ax.set_xticks(range(bins.count), [f"{to_paper(space, e):.2f}" for e in bins.edges[:-1]])
        ax.set_xlabel("FLOPs group (ViT-T-equivalent G, left edge)")
        ax.set_title(f"{'paper direction' if arm == 'shift' else 'reversed direction'}, seed {study_[0].seed}",
                     fontsize=8)
        ax.set_ylim(0, 1.4 * max(max(p) for _, p in picks))
        ax.legend(fontsize=6, ncol=2, loc="upper center")
    axes[0].set_ylabel("sampling probability")
    for r in study_:
        for arm, style in (("shift", "-"), ("reversed", ":")):
            steps, tv = zip(*[(s_, ps.total_variation(p)) for s_, p in r.runs[arm].probs])
            axes[2].plot(steps, tv, style, label=f"seed {r.seed}, {arm}")
    axes[2].set_xlabel("training step")
    axes[2].set_ylabel("TV(B, uniform)")
    axes[2].legend(fontsize=6)
    return fig


def plot_ranking(df: pd.DataFrame) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(4, 3.6))
    ax.scatter(df["inherited"], df["finetuned"])
    lim = [min(df.min()[["inherited", "finetuned"]]) - 1, max(df.max()[["inherited", "finetuned"]]) + 1]
    ax.plot(lim, lim, ":", color="grey")
    ax.set_xlabel("inherited top-1 (%)")
    ax.set_ylabel("finetuned top-1 (%)")
    return fig


def plot_timing(df: pd.DataFrame) -> plt.Figure:
    """Fig. 9: seconds per subnet in each bin, both generator modes and both rejection evaluators."""
    fig, ax = plt.subplots(figsize=(6, 3.8))
    ax.semilogy(df["bin_g"], df["generator_s"], "o-", label="generator, batch 1 (measured)")
    ax.semilogy(df["bin_g"], df["generator_batched_s"], "o--", label="generator, batched (measured)")
    ax.semilogy(df["bin_g"], df["rejection_s"], "s-", label="rejection, analytic FLOPs (per try x 1/p)")
    ax.semilogy(df["bin_g"], df["rejection_counted_s"], "^--", label="rejection, cost-model count (per try x 1/p)")
    ax.set_xlabel("target bin (ViT-T GFLOPs, left edge)")
    ax.set_ylabel("seconds per subnet in the bin (log)")
    ax.legend(fontsize=7)
    return fig


def plot_overview(space: ViTSpace, bins: ps.FlopsBins, flops: np.ndarray, probs: list[float]) -> plt.Figure:
    """Fig. 1: the FLOPs range split into bins, the learned distribution over them, the generator."""
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.hist(np.array([to_paper(space, f) for f in flops]), bins=50, density=True, alpha=0.35,
            label="uniformly sampled subnets")
    ax2 = ax.twinx()
    ax2.bar([to_paper(space, c) for c in bins.centers], probs, width=0.9 * (SPLIT_G[1] - SPLIT_G[0]) / bins.count,
            color="tab:orange", alpha=0.7, label="learned distribution B over FLOPs bins")
    for e in bins.edges:
        ax.axvline(to_paper(space, e), color="grey", lw=0.5)
    ax.annotate("b ~ B  ->  generator AG(b)  ->  subnet in bin b  ->  train step;  every q steps update B",
                xy=(0.02, 1.04), xycoords="axes fraction", fontsize=8)
    ax.set_xlabel("subnet FLOPs (ViT-T-equivalent G)")
    ax.set_ylabel("density")
    ax2.set_ylabel("probability")
    fig.legend(loc="upper right", fontsize=7, bbox_to_anchor=(0.9, 0.88))
    return fig


def plot_generator(space: ViTSpace) -> plt.Figure:
    """Fig. 3: the LSTM steps (one per decision), Gumbel-softmax one-hot policies, Eq. 9's masks."""
    steps = space.decisions()[:5]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3), gridspec_kw={"width_ratios": [2.2, 1]})
    for i, (name, kind, choices) in enumerate(steps):
        x = i * 2.0
        a.add_patch(plt.Rectangle((x, 0), 1.2, 0.8, fill=False, edgecolor="k"))
        a.text(x + 0.6, 0.4, "LSTM\n64", ha="center", va="center", fontsize=7)
        a.text(x + 0.6, 1.2, f"FC[{kind}] + Gumbel-softmax\n{name}\n{list(choices)}", ha="center", fontsize=6)
        a.annotate("", xy=(x + 0.6, 1.15), xytext=(x + 0.6, 0.8), arrowprops={"arrowstyle": "->"})
        if i:
            a.annotate("", xy=(x, 0.4), xytext=(x - 0.8, 0.4), arrowprops={"arrowstyle": "->"})
    a.text(0, -0.4, "input: target FLOPs C ~ B;  loss = task loss + lambda (FLOPs(p) - C)^2  (Eq. 10)", fontsize=7)
    a.set_xlim(-0.3, len(steps) * 2.0)
    a.set_ylim(-0.6, 2.2)
    a.axis("off")
    m = prefix_masks(space.num_heads, space.max_heads)
    b.imshow(m, cmap="Blues", vmin=0, vmax=1.5)
    b.set_yticks(range(len(space.num_heads)), [f"{h} heads" for h in space.num_heads])
    b.set_xticks(range(space.max_heads), [f"head {j}" for j in range(space.max_heads)])
    b.set_title("prefix masks M (Eq. 9): p' = M p", fontsize=8)
    return fig


def plot_architectures(space: ViTSpace, df: pd.DataFrame) -> plt.Figure:
    """Fig. 10 (ours): the generator's subnets per bin, heads and MLP width per layer."""
    fig, axes = plt.subplots(1, len(df), figsize=(2 * len(df), 3), sharey=True)
    for ax, (_, r) in zip(np.atleast_1d(axes), df.iterrows()):
        c = r["config"]
        layers = np.arange(c["depth"])
        ax.barh(layers, [h * space.head_dim for h in c["num_heads"]], color="tab:blue", label="qkv width")
        ax.barh(layers, [-int(m * c["embed_dim"]) for m in c["mlp_ratio"]], color="tab:green", label="MLP hidden")
        ax.set_title(f"{r['flops_g']:.2f} G\nembed {c['embed_dim']}", fontsize=7)
        ax.axvline(0, color="k", lw=0.5)
        ax.set_xlabel("<- MLP | qkv ->", fontsize=7)
    np.atleast_1d(axes)[0].set_ylabel("layer")
    np.atleast_1d(axes)[0].legend(fontsize=6)
    return fig
