"""Unit energy per operation (ShiftAddNAS Fig. 1): the 45nm table, shift, and the FPGA column as reported.

The table is ``data/unit_energy.csv`` (pJ per operation, with a source per row). :func:`quoted_ratios`
recomputes the five ratios the ShiftAddNAS text quotes in Sec. 3.1, each from its pair of entries.

Sources: the 45nm entries are Horowitz (ISSCC 2014); the shift entries are the released ShiftAddNAS
code's; the FPGA entries are the paper's Fig. 1 as printed (unverifiable, entered to match its quoted
ratios). :func:`mac_energy` charging a MAC its multiply (or add / shift) *and* its accumulate is our
convention (the op split of :mod:`repro.cost.counting`); the released code charges one op per MAC
(:data:`repro.cost.eyeriss.RELEASED_OP_PJ`).
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from repro.paths import DATA_DIR

TABLE = DATA_DIR / "unit_energy.csv"
PLATFORMS = ("asic45", "fpga")
FORMATS = ("FIX", "FP")


@lru_cache(maxsize=4)
def _read(path: Path) -> pd.DataFrame:
    body = "\n".join(line for line in path.read_text().splitlines() if not line.startswith("#"))
    return pd.read_csv(io.StringIO(body))


def table(path: Path | None = None) -> pd.DataFrame:
    """The unit-energy table: op, format, bits, platform, energy_pj, source."""
    return _read(Path(path or TABLE)).copy()


def energy(op: str, fmt: str = "FIX", bits: int = 32, platform: str = "asic45") -> float:
    """Energy in pJ of one ``op`` (mult, add, shift) in ``fmt`` (FIX, FP) at ``bits`` on ``platform``."""
    df = _read(TABLE)
    hit = df[(df.op == op) & (df.format == fmt) & (df.bits == bits) & (df.platform == platform)]
    if hit.empty:
        have = sorted({f"{r.op} {r.format}{r.bits} {r.platform}" for r in df.itertuples()})
        raise KeyError(f"no unit energy for {op} {fmt}{bits} on {platform}; the table has: {', '.join(have)}")
    return float(hit.energy_pj.iloc[0])


def mac_energy(op: str, bits: int, fmt: str = "FIX", platform: str = "asic45") -> float:
    """Energy in pJ of one MAC of op type ``op`` (counting convention of :mod:`repro.cost.counting`)."""
    from repro.cost.counting import split

    return sum(n * energy(kind, fmt, bits, platform) for kind, n in split(op, 1).items() if n)


@dataclass(frozen=True)
class QuotedRatio:
    """A ratio the text quotes, and the pair of table entries (numerator over denominator) it comes from."""
    quoted: str
    claim: str
    numerator: tuple[str, str, int, str]    # op, format, bits, platform
    denominator: tuple[str, str, int, str]


QUOTED = (
    QuotedRatio("196x", "shift saves vs mult (FIX32)", ("mult", "FIX", 32, "fpga"), ("shift", "FIX", 32, "fpga")),
    QuotedRatio("24x", "shift saves vs mult (FIX32)", ("mult", "FIX", 32, "asic45"), ("shift", "FIX", 32, "asic45")),
    QuotedRatio("196x", "add saves vs mult (FIX32)", ("mult", "FIX", 32, "fpga"), ("add", "FIX", 32, "fpga")),
    QuotedRatio("31x", "add saves vs mult (FIX32)", ("mult", "FIX", 32, "asic45"), ("add", "FIX", 32, "asic45")),
    QuotedRatio("47x", "add saves vs mult (FP32)", ("mult", "FP", 32, "fpga"), ("add", "FP", 32, "fpga")),
    QuotedRatio("4.1x", "add saves vs mult (FP32)", ("mult", "FP", 32, "asic45"), ("add", "FP", 32, "asic45")),
)


def quoted_ratios() -> pd.DataFrame:
    """Each ratio quoted in ShiftAddNAS Sec. 3.1 beside the ratio of its two table entries."""
    rows = []
    for q in QUOTED:
        num, den = energy(*q.numerator), energy(*q.denominator)
        label = lambda e: f"{e[0]} {e[1]}{e[2]} {e[3]}"  # noqa: E731
        rows.append({"claim": q.claim, "reported": q.quoted, "numerator": label(q.numerator),
                     "numerator_pj": num, "denominator": label(q.denominator), "denominator_pj": den,
                     "ours": num / den, "matches": abs(num / den - float(q.quoted[:-1])) / float(q.quoted[:-1]) < 0.05})
    return pd.DataFrame(rows)
