"""What every notebook does first: pick the profile, the output folder, the seed and the style.

    ctx = setup(profile, out_dir, overrides)
    ctx.profile.weights.epochs          # the profile's knobs
    ctx.save_figure(fig, "sa-fig3")     # PNG + PDF into the figures folder
    ctx.save_table(df, "sa-table5")     # CSV + Markdown + LaTeX
    ctx.record("sa-fig3", measured=..., evidence=evidence.paired(...))
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from repro import artifacts, outputs
from repro.evidence import Evidence
from repro.paths import interactive_out_dir
from repro.profiles import Profile, get_profile


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@dataclass
class Context:
    profile: Profile
    out: Path

    def save_figure(self, fig, name: str) -> list[Path]:
        return outputs.save_figure(fig, name, self.out)

    def save_table(self, df, name: str, **kw) -> list[Path]:
        return outputs.save_table(df, name, self.out, **kw)

    def save_arch(self, name: str, kind: str, config, **meta) -> Path:
        """A searched architecture as ``archs/<name>.json`` (:mod:`repro.spaces.arch_files`): loaded back by
        ``python -m repro cost --arch`` and ``python -m repro train ... --arch``."""
        from repro.spaces.arch_files import write_arch

        return write_arch(self.out / "archs" / f"{name}.json", kind, config, profile=self.profile.name, **meta)

    def record(self, artifact_id: str, measured: str, evidence: Evidence, **numbers) -> Path:
        """Write the artifact's result; the verdict is ``evidence.verdict`` (:mod:`repro.evidence`)."""
        return artifacts.record(artifact_id, measured, evidence, out_dir=self.out,
                                profile=self.profile.name, **numbers)


def setup(profile: str | None = None, out_dir: str | None = None,
          overrides: dict[str, Any] | None = None) -> Context:
    """Resolve the profile (``$REPRO_PROFILE`` or ``default``) and the output folder, seed, style."""
    prof = get_profile(profile, overrides)
    out = Path(out_dir) if out_dir else interactive_out_dir()
    out.mkdir(parents=True, exist_ok=True)
    seed_everything(prof.seed)
    outputs.style()
    return Context(prof, out)
