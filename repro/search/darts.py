"""The baseline strategy: plain DARTS (Liu et al., 2018) in the same shift-oriented space.

Bi-level optimisation (Eq. 5, first order) for the whole search, one softmax over all eight
operations of an edge (Eq. 3), no topology search, no learning-rate reset. The genotype follows
DARTS: per node the two input edges with the largest non-zero operation weight, each with its best
operation other than ``none``. The bit-shift paper's claim (Sec. 5.4, Fig. 3a) is that this strategy
collapses to skip connections in the bit-shift domain. Its own optimiser settings: Adam betas
(0.5, 0.999) for ``alpha`` (DARTS), the weights' gradient norm clipped at 5; the search lasts as long
as the whole ShiftNAS schedule (all four stages). It runs as one stage of
:func:`repro.search.dots.run_stages` (one engine run; checkpoint, ``device``, ``stop_at`` and
``metrics`` as there).
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from repro.cache import Checkpoint
from repro.spaces.darts import PRIMITIVES, STEPS, Genotype, edges
from repro.search.dots import KINDS, Phase, SearchConfig, SearchData, SearchResult, init_alpha, run_stages

NONE = PRIMITIVES.index("none")
DARTS_BETAS = (0.5, 0.999)  # DARTS's Adam betas for alpha
BILEVEL = "bi-level"        # the name of DARTS's one stage


class DartsArchitecture(nn.Module):
    """``alpha``: (edges x 8) per cell kind, one softmax over all eight operations."""

    def __init__(self, seed: int = 0):
        super().__init__()
        self.alpha = init_alpha(torch.Generator().manual_seed(seed))
        self.keep = {k: [list(range(len(PRIMITIVES))) for _ in range(len(edges()))] for k in KINDS}
        self.topology = False

    def weights(self, temp: float | None = None) -> dict[str, tuple[torch.Tensor, None]]:
        return {k: (F.softmax(self.alpha[k], dim=-1), None) for k in KINDS}

    def stage_parameters(self, stage: str) -> list[nn.Parameter]:
        """Every stage learns all of ``alpha``."""
        return list(self.parameters())

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


def phases(cfg: SearchConfig) -> tuple[Phase, ...]:
    """DARTS's one stage: bi-level for the whole ShiftNAS budget (``cfg.epochs``)."""
    return (Phase(BILEVEL, cfg.epochs, "bi-level", "w (RAdam), alpha (Adam)", "w: train half; alpha: validation half",
                  "top-2 input edges per node, best op other than none"),)


def search(cfg: SearchConfig, data: SearchData, ckpt: Checkpoint | None = None, *, device: str = "auto",
           stop_at: int | None = None, metrics: Path | None = None) -> SearchResult:
    """DARTS for ``cfg.epochs`` (all four ShiftNAS stages' epochs), one cosine learning-rate schedule:
    one engine run (:func:`repro.search.dots.run_stages`), checkpointed every epoch and resumed from ``ckpt``
    (with ``stop_at``, the search's result so far)."""
    cfg = replace(cfg, lrr=False)
    arch = DartsArchitecture(cfg.seed)
    a_opt = torch.optim.Adam(arch.parameters(), lr=cfg.arch_lr, betas=DARTS_BETAS, weight_decay=cfg.arch_weight_decay)
    state = run_stages(cfg, data, arch, a_opt, phases(cfg), ckpt=ckpt, device=device, stop_at=stop_at,
                       metrics=metrics)
    return SearchResult(arch.genotype(), state["history"], state["seconds"])
