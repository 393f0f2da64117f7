"""Figure and table writers: PNG + PDF with deterministic metadata; CSV + Markdown + LaTeX."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from repro.paths import figures_dir  # noqa: E402

_PNG_META = {"Software": None}
_PDF_META = {"Creator": None, "Producer": None, "CreationDate": None, "ModDate": None}


def style() -> None:
    """The house style: seaborn ``paper`` context, white grid, Agg backend."""
    import seaborn as sns

    sns.set_theme(context="paper", style="whitegrid")
    plt.rcParams.update({"figure.dpi": 100, "savefig.dpi": 150, "savefig.bbox": "tight",
                         "svg.hashsalt": "repro", "pdf.fonttype": 42})


def save_figure(fig: plt.Figure, name: str, out_dir: Path | None = None) -> list[Path]:
    """Write ``name.png`` and ``name.pdf`` into the figures folder (no timestamps, so reruns are stable)."""
    out = Path(out_dir or figures_dir())
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{name}.png", out / f"{name}.pdf"]
    fig.savefig(paths[0], metadata=_PNG_META)
    fig.savefig(paths[1], metadata=_PDF_META)
    return paths


def save_table(df: pd.DataFrame, name: str, out_dir: Path | None = None, *, caption: str = "",
               float_format: str = "{:.4g}") -> list[Path]:
    """Write ``name.csv`` (the data), ``name.md`` (to read) and ``name.tex`` (to paste)."""
    out = Path(out_dir or figures_dir())
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{name}.csv", out / f"{name}.md", out / f"{name}.tex"]
    df.to_csv(paths[0], index=False)
    shown = df.map(lambda v: "" if pd.isna(v) else float_format.format(v) if isinstance(v, float) else v)
    md = shown.to_markdown(index=False)
    paths[1].write_text((f"**{caption}**\n\n" if caption else "") + md + "\n")
    tex = shown.to_latex(index=False, caption=caption or None, label=f"tab:{name}", escape=True)
    paths[2].write_text(tex)
    return paths
