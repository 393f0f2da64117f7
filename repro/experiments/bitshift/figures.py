"""Notebook 06's figures, drawn from the search's own phase objects and from :class:`run.BitshiftRun`.

Cells are laid out by graphviz's ``dot``, as DARTS's ``visualize.py`` draws them (inputs c_{k-2},
c_{k-1} on the left, the intermediate nodes, c_{k} on the right; ``dot`` places every edge label
itself, so none overlap): :func:`cell_dot` writes the DOT source, :func:`render_dot` runs ``dot -Tpng``
and the PNG is shown in a matplotlib figure (``ctx.save_figure`` keeps working). ``make data``
installs Debian's graphviz where apt and root allow it.
"""
from __future__ import annotations

import io
import shutil
import subprocess
from dataclasses import replace

from repro.experiments.bitshift.run import BitshiftRun, TrainResult
from repro.search import dots
from repro.spaces import darts as darts_space
from repro.spaces.darts import STEPS, Genotype

DOT_MISSING = ("graphviz's `dot` is not installed (notebook 06 draws its cells with it): run `make data` "
               "(`python -m repro data check --install`) as root, or `apt-get install graphviz`")
_EDGE_COLOURS = {"skip_connect": "red3", "max_pool_3x3": "purple", "avg_pool_3x3": "purple"}  # else: blue


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


def cell_dot(genotype: Genotype, kind: str = "normal") -> str:
    """The DOT source of one cell (DARTS's ``visualize.plot`` layout): one edge per genotype entry,
    labelled with its operation, and an unlabelled edge from every intermediate node to c_{k}."""
    if kind not in ("normal", "reduce"):
        raise ValueError(f"unknown cell kind {kind!r}; valid: normal, reduce")
    names = ["c_{k-2}", "c_{k-1}", *(str(i) for i in range(STEPS))]
    lines = ["digraph cell {", "  rankdir=LR;",
             '  node [style=filled, shape=rect, fontname="Helvetica", fontsize=20, height=0.5, width=0.5, '
             "penwidth=2];",
             '  edge [fontname="Helvetica", fontsize=16];',
             *(f'  "{n}" [fillcolor=darkseagreen2];' for n in names[:2]),
             *(f'  "{n}" [fillcolor=lightblue];' for n in names[2:]),
             '  "c_{k}" [fillcolor=palegoldenrod];']
    for k, (op, src) in enumerate(getattr(genotype, kind)):
        colour = _EDGE_COLOURS.get(op, "blue3")
        lines.append(f'  "{names[src]}" -> "{names[2 + k // 2]}" [label="{op}", color={colour}, fontcolor={colour}];')
    lines += [f'  "{n}" -> "c_{{k}}" [color=gray];' for n in names[2:]]
    return "\n".join(lines + ["}"]) + "\n"


def render_dot(source: str, dpi: int = 120):
    """``dot -Tpng`` of ``source``, decoded to an image array; :data:`DOT_MISSING` when ``dot`` is not installed."""
    import matplotlib.pyplot as plt

    if shutil.which("dot") is None:
        raise RuntimeError(DOT_MISSING)
    png = subprocess.run(["dot", "-Tpng", f"-Gdpi={dpi}"], input=source.encode(), capture_output=True,
                         check=True).stdout
    return plt.imread(io.BytesIO(png), format="png")


def _cells(panels: list[list[tuple[Genotype, str, str]]], figsize: tuple[float, float]):
    """A grid of cell drawings: ``panels[row][col] = (genotype, kind, title)``."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(panels), len(panels[0]), figsize=figsize, squeeze=False)
    for row, axes_row in zip(panels, axes):
        for (genotype, kind, title), ax in zip(row, axes_row):
            ax.imshow(render_dot(cell_dot(genotype, kind)))
            ax.set_title(title, fontsize=8)
            ax.axis("off")
    fig.tight_layout()
    return fig


def fig_cells(r: BitshiftRun):
    """bs-fig3: the normal cells found by the DARTS strategy and by ShiftNAS, with their skip counts."""
    return _cells([[(res.genotype, "normal",
                     f"{name}: normal cell, {res.genotype.count('skip_connect')} skip connections of 8")
                    for name, res in (("DARTS strategy", r.darts), ("ShiftNAS", r.shiftnas))]], (11, 3.4))


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
    return _cells([[(g, kind, f"{label}: {kind} cell") for kind in ("normal", "reduce")]
                   for label, g in ((f"reported, best {paper_key} cell", darts_space.PAPER_GENOTYPES[paper_key]),
                                    ("ours, scaled search", ours))], (11, 6.4))
