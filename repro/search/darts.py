"""The baseline strategy: plain DARTS (Liu et al., 2018) in the same shift-oriented space.

Bi-level optimisation (Eq. 5, first order) for the whole search, one softmax over all eight
operations of an edge (Eq. 3), no topology search, no learning-rate reset. The genotype follows
DARTS: per node the two input edges with the largest non-zero operation weight, each with its best
operation other than ``none``. The bit-shift paper's claim (Sec. 5.4, Fig. 3a) is that this strategy
collapses to skip connections in the bit-shift domain. Its own optimiser settings: Adam betas
(0.5, 0.999) for ``alpha`` (DARTS), the weights' gradient norm clipped at 5; the search lasts as long
as the whole ShiftNAS schedule (all four stages).
"""
from __future__ import annotations

import time
from dataclasses import replace

import torch
import torch.nn.functional as F
from torch import nn

from repro.cache import Checkpoint
from repro.spaces.darts import PRIMITIVES, STEPS, Genotype, edges
from repro.search.dots import (KINDS, SearchConfig, SearchData, SearchResult, alpha_moved, bilevel_epoch, init_alpha,
                               restore_state, search_accuracy, search_state, setup_search)
from repro.train.basic import loader

NONE = PRIMITIVES.index("none")
DARTS_BETAS = (0.5, 0.999)  # DARTS's Adam betas for alpha


class DartsArchitecture(nn.Module):
    """``alpha``: (edges x 8) per cell kind, one softmax over all eight operations."""

    def __init__(self, seed: int = 0):
        super().__init__()
        self.alpha = init_alpha(torch.Generator().manual_seed(seed))
        self.keep = {k: [list(range(len(PRIMITIVES))) for _ in range(len(edges()))] for k in KINDS}
        self.topology = False

    def weights(self, temp: float | None = None) -> dict[str, tuple[torch.Tensor, None]]:
        return {k: (F.softmax(self.alpha[k], dim=-1), None) for k in KINDS}

    @torch.no_grad()
    def genotype(self) -> Genotype:
        """DARTS's rule: top-2 input edges per node by their strongest non-``none`` op, that op on each."""
        cells = {}
        for k in KINDS:
            w = F.softmax(self.alpha[k], dim=-1)
            w[:, NONE] = -1.0
            cell, e = [], 0
            for j in range(2, STEPS + 2):
                best = w[e:e + j].max(dim=1)
                top = sorted(sorted(range(j), key=lambda i: -float(best.values[i]))[:2])
                cell += [(PRIMITIVES[int(best.indices[i])], i) for i in top]
                e += j
            cells[k] = tuple(cell)
        return Genotype(normal=cells["normal"], reduce=cells["reduce"])


def search(cfg: SearchConfig, data: SearchData, ckpt: Checkpoint | None = None) -> SearchResult:
    """DARTS for ``cfg.epochs`` (operation + topology epochs of the ShiftNAS budget), one cosine
    learning-rate schedule; checkpointed every epoch and resumed from ``ckpt``."""
    cfg = replace(cfg, lrr=False)
    arch = DartsArchitecture(cfg.seed)
    net, w_opt, _, sched = setup_search(cfg, data, arch)
    a_opt = torch.optim.Adam(arch.parameters(), lr=cfg.arch_lr, betas=DARTS_BETAS, weight_decay=cfg.arch_weight_decay)
    saved = ckpt.load() if ckpt else None
    history, seconds, first = [], 0.0, 0
    if saved is not None:
        restore_state(saved, net, arch, w_opt, a_opt, sched)
        history, seconds, first = list(saved["history"]), saved["seconds"], saved["epoch"]
    test = loader(data.test, 256, shuffle=False)
    alpha0 = init_alpha(torch.Generator().manual_seed(cfg.seed))
    for epoch in range(first, cfg.epochs):
        tic = time.perf_counter()
        lr = w_opt.param_groups[0]["lr"]
        bilevel_epoch(net, arch, data, cfg, epoch, w_opt, a_opt, sched, f"DARTS search {epoch + 1}/{cfg.epochs}",
                      list(arch.parameters()))
        seconds += time.perf_counter() - tic
        history.append({"epoch": epoch + 1, "phase": "bi-level", "lr": lr, "temperature": None,
                        "test_acc": search_accuracy(net, arch, test, None), "alpha_moved": alpha_moved(arch, alpha0)})
        if ckpt is not None:
            ckpt.save(search_state(net, arch, w_opt, a_opt, sched, epoch + 1, history, seconds))
    return SearchResult(arch.genotype(), history, seconds)
