"""Notebook 06's figures, drawn from the search's own phase objects and from :class:`run.BitshiftRun`."""
from __future__ import annotations

from dataclasses import replace

from repro.experiments.bitshift.run import BitshiftRun, TrainResult
from repro.search import dots
from repro.spaces import darts as darts_space
from repro.spaces.darts import Genotype
from repro.supernets import darts as darts_nets


def fig_overview(scfg: dots.SearchConfig):
    """bs-fig1: the search pipeline drawn from :func:`repro.search.dots.phases`."""
    import matplotlib.pyplot as plt

    import textwrap

    steps = [("shift-oriented space", "8 ops per edge; the O_c convolutions use flip(2^P, S), 5-bit weights; "
                                      "O_t: pooling, skip")]
    steps += [(f"{p.name}\n({p.epochs} epochs, {p.optimisation})",
               f"learns: {p.learns}. Data: {p.data}. Result: {p.outcome}") for p in dots.phases(scfg)]
    steps.append(("bit-shift network", "stack the derived cells; train from scratch with L2R (Eq. 15), RAdam"))
    fig, ax = plt.subplots(figsize=(12, 2.8))
    for k, (title, body) in enumerate(steps):
        x = k * 3.0
        ax.add_patch(plt.Rectangle((x, 0), 2.6, 1.6, fc=("#d9edf7" if "search" in title else "#f5f5f5"), ec="0.3"))
        ax.text(x + 1.3, 1.35, title, ha="center", va="center", fontsize=7, weight="bold")
        ax.text(x + 1.3, 0.6, textwrap.fill(body, 34), ha="center", va="center", fontsize=6)
        if k:
            ax.annotate("", xy=(x, 0.8), xytext=(x - 0.4, 0.8), arrowprops=dict(arrowstyle="-|>"))
    ax.set_xlim(-0.1, 3.0 * len(steps))
    ax.set_ylim(-0.1, 1.7)
    ax.axis("off")
    ax.set_title("ShiftNAS: operation search, then topology search, in the bit-shift domain (drawn from the "
                 "phase objects the search runs)", fontsize=8)
    return fig


def fig_lr(scfg: dots.SearchConfig, steps_per_epoch: int):
    """bs-fig2: the learning rate of every step, read from the scheduler, with and without the reset."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3))
    for lrr, style in ((True, "-"), (False, "--")):
        curve = dots.lr_curve(replace(scfg, lrr=lrr), steps_per_epoch)
        ax.plot([s / steps_per_epoch for s in range(len(curve))], curve, style, label=f"LRR {'on' if lrr else 'off'}")
    ax.axvline(scfg.reset_epoch, color="0.5", lw=0.8)
    ax.text(scfg.reset_epoch, scfg.lr * 1.02, " pruned network re-initialised", fontsize=7, va="bottom")
    ax.set_xlabel("epoch")
    ax.set_ylabel("learning rate of w")
    ax.legend()
    return fig


def fig_cells(r: BitshiftRun):
    """bs-fig3: the normal cells found by the DARTS strategy and by ShiftNAS, with their skip counts."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.4))
    for ax, (name, res) in zip(axes, (("DARTS strategy", r.darts), ("ShiftNAS", r.shiftnas))):
        darts_nets.draw_cell(res.genotype, "normal", ax,
                              f"{name}: normal cell, {res.genotype.count('skip_connect')} skip connections of 8")
    return fig


def fig_search_trace(r: BitshiftRun):
    """bs-fig4: test accuracy of the supernet after every search epoch, with and without LRR (L2R on)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3))
    for lrr, style in ((True, "-o"), (False, "--s")):
        h = r.ablation[(True, lrr)].history
        ax.plot([e["epoch"] for e in h], [e["test_acc"] for e in h], style, ms=3, label=f"LRR {'on' if lrr else 'off'}")
    ax.axvline(r.search_cfg.reset_epoch + 0.5, color="0.5", lw=0.8)
    ax.set_xlabel("search epoch (weights only, operation search | retraining, topology search)")
    ax.set_ylabel("supernet test accuracy (%)")
    ax.set_title("reported (CIFAR-10, 70 epochs): 84.68% with LRR vs 74.58% without", fontsize=7)
    ax.legend()
    return fig


def _curves(ax, results: dict[str, TrainResult], metric: str) -> None:
    for label, res in results.items():
        ax.plot([h["epoch"] for h in res.history], [h[metric] for h in res.history], "-o", ms=3, label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric.replace("_", " ") + " (%)")
    ax.legend(fontsize=6)


def fig_training(r: BitshiftRun):
    """bs-fig5: training and test accuracy of the three networks in the bit-shift and the real domain."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
    curves = {f"{n} [{d}]": res for (n, d), res in r.trained.items()}
    for ax, metric in zip(axes, ("train_acc", "test_acc")):
        _curves(ax, curves, metric)
    return fig


def fig_batch(r: BitshiftRun):
    """bs-fig6: the bit-shift ShiftNAS network trained with two batch sizes (4x apart, as 1024 vs 256)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
    curves = {f"batch {b}": res for b, res in sorted(r.batch_trained.items(), reverse=True)}
    for ax, metric in zip(axes, ("train_acc", "test_acc")):
        _curves(ax, curves, metric)
    fig.suptitle("scaled stand-in for ImageNet batch 1024 vs 256; reported final top-1 67.17% vs 68.67%", fontsize=8)
    return fig


def fig_genotypes(paper_key: str, ours: Genotype):
    """bs-table5 / bs-table6: the paper's cells (top) and ours (bottom)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(11, 6.4))
    for row, (label, g) in enumerate(((f"reported, best {paper_key} cell", darts_space.PAPER_GENOTYPES[paper_key]),
                                      ("ours, scaled search", ours))):
        for col, kind in enumerate(("normal", "reduce")):
            darts_nets.draw_cell(g, kind, axes[row, col], f"{label}: {kind} cell")
    return fig
