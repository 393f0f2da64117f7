"""The shift-oriented DARTS cell space of ShiftNAS (bit-shift paper, Sec. 4.1), as data.

Eight operations on every edge of a cell (two inputs, four intermediate nodes, the output is the
concatenation of the four nodes), split into the convolution group ``O_c`` and the topology group
``O_t`` (Sec. 4.2); a network's domain is ``"shift"`` (weights ``flip(2^P, S)``) or ``"real"``.
:class:`Genotype` is one searched architecture (a normal and a reduction cell), :data:`PAPER_GENOTYPES`
the best cells of Tables 5 and 6. The networks built from the space live in :mod:`repro.supernets.darts`.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Literal

Domain = Literal["shift", "real"]
DOMAINS: tuple[str, ...] = ("shift", "real")

PRIMITIVES: tuple[str, ...] = ("none", "max_pool_3x3", "avg_pool_3x3", "skip_connect",
                               "sep_conv_3x3", "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5")
CONV_GROUP: tuple[str, ...] = ("sep_conv_3x3", "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5")  # O_c
TOPOLOGY_GROUP: tuple[str, ...] = ("max_pool_3x3", "avg_pool_3x3", "skip_connect")  # O_t (zero excluded)
STEPS = 4  # intermediate nodes per cell


def check_domain(domain: str) -> None:
    if domain not in DOMAINS:
        raise ValueError(f"unknown domain {domain!r}; valid domains: {', '.join(DOMAINS)}")


def edges(steps: int = STEPS) -> list[tuple[int, int]]:
    """The edges ``(i, j)`` of a cell in the order the architecture weights use: node ``j`` (2..)
    receives from every earlier state ``i`` (0, 1 are the cell inputs)."""
    return [(i, j) for j in range(2, steps + 2) for i in range(j)]


def node_pairs(node: int) -> list[tuple[int, int]]:
    """The topology candidates of intermediate node ``node`` (2..): all pairs of its input states."""
    return list(combinations(range(node), 2))


# ---------------------------------------------------------------- genotypes

@dataclass(frozen=True)
class Genotype:
    """A normal and a reduction cell: per intermediate node two ``(operation, input state)``
    entries, in the DARTS order (states 0 and 1 are the cell inputs, 2.. the nodes)."""
    normal: tuple[tuple[str, int], ...]
    reduce: tuple[tuple[str, int], ...]

    def __post_init__(self) -> None:
        for kind in ("normal", "reduce"):
            cell = getattr(self, kind)
            if len(cell) != 2 * STEPS:
                raise ValueError(f"{kind} cell needs {2 * STEPS} (op, input) entries, got {len(cell)}")
            for k, (op, src) in enumerate(cell):
                if op not in PRIMITIVES or op == "none":
                    raise ValueError(f"{kind} cell: unknown operation {op!r}; valid: {', '.join(PRIMITIVES[1:])}")
                if not 0 <= src < 2 + k // 2:
                    raise ValueError(f"{kind} cell node {k // 2 + 1}: input {src} not in 0..{1 + k // 2}")

    def count(self, op: str, kind: str = "normal") -> int:
        """How many edges of a cell carry ``op`` (e.g. the skip connections of bs-fig3)."""
        return sum(name == op for name, _ in getattr(self, kind))

    def rows(self) -> list[dict]:
        """One row per (cell, node), the layout of the paper's Tables 5 and 6."""
        return [{"cell": kind, "node": k + 1,
                 "genotype": ", ".join(f"('{o}', {s})" for o, s in getattr(self, kind)[2 * k: 2 * k + 2])}
                for kind in ("normal", "reduce") for k in range(STEPS)]


def _cell(*entries: tuple[str, int]) -> tuple[tuple[str, int], ...]:
    return tuple(entries)


PAPER_GENOTYPES: dict[str, Genotype] = {
    # Table 5 (CIFAR-10; also the ImageNet cell, Appendix C)
    "cifar10": Genotype(
        normal=_cell(("skip_connect", 0), ("skip_connect", 1), ("sep_conv_3x3", 0), ("sep_conv_3x3", 1),
                     ("sep_conv_3x3", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("dil_conv_5x5", 4)),
        reduce=_cell(("skip_connect", 0), ("skip_connect", 1), ("sep_conv_3x3", 0), ("max_pool_3x3", 1),
                     ("sep_conv_3x3", 0), ("sep_conv_5x5", 1), ("skip_connect", 0), ("dil_conv_5x5", 2))),
    # Table 6 (CIFAR-100)
    "cifar100": Genotype(
        normal=_cell(("sep_conv_3x3", 0), ("skip_connect", 1), ("skip_connect", 0), ("sep_conv_3x3", 1),
                     ("sep_conv_3x3", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("sep_conv_5x5", 4)),
        reduce=_cell(("max_pool_3x3", 0), ("skip_connect", 1), ("sep_conv_5x5", 0), ("sep_conv_5x5", 1),
                     ("max_pool_3x3", 0), ("dil_conv_5x5", 3), ("sep_conv_5x5", 0), ("sep_conv_3x3", 3))),
}
