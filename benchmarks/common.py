"""What every benchmark does with its timings: the minimum and median per case, and the JSON under
``build/bench/`` (at the repository root, wherever the benchmark is run from)."""
from __future__ import annotations

import json
import statistics
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parents[1] / "build" / "bench"


def summary(times: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    """``{case: {"min_s", "median_s"}}`` of the timed rounds (seconds per step)."""
    return {name: {"min_s": min(v), "median_s": statistics.median(v)} for name, v in times.items()}


def write(name: str, out: dict) -> Path:
    """``out`` as ``build/bench/<name>.json``."""
    path = BENCH_DIR / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2) + "\n")
    return path
