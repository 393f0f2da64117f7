"""Every table of the papers beside ours: column labels, the reported-column check, ``tables.md``/``.tex``.

Convention for a table artifact that shows the paper's numbers beside ours: a column holding the
paper's numbers is labelled ``"<column> [reported]"`` (:func:`reported_label`), a column computed
by our run ``"<column> [ours, <profile>]"`` (:func:`ours_label`); :func:`side_by_side` builds such
a table from ``data/reported/<id>.csv``. :func:`check_reported_columns` proves that every value in a
reported column is the transcribed one (nothing computed sits in a reported column), and
:func:`write_tables` collects every table artifact of a folder into ``tables.md`` and ``tables.tex``.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from repro import artifacts, evidence, reported
from repro.paths import figures_dir
from repro.report import paper_order

REPORTED_TAG = "reported"


def reported_label(column: str) -> str:
    return f"{column} [{REPORTED_TAG}]"


def ours_label(column: str, profile: str) -> str:
    return f"{column} [ours, {profile}]"


def is_reported_column(column: str) -> bool:
    return REPORTED_TAG in column.lower()


def is_ours_column(column: str, profile: str | None = None) -> bool:
    low = column.lower()
    return "[ours" in low or "ours" in low.split() or bool(profile and f"[{profile.lower()}" in low)


def side_by_side(artifact_id: str, ours: pd.DataFrame, on: list[str], profile: str,
                 columns: list[str] | None = None) -> pd.DataFrame:
    """The paper's table (its ``columns``, labelled reported) joined on ``on`` with ``ours``.

    ``ours`` holds the row-label columns ``on`` and the computed columns, which get the profile label;
    rows only we have (for example our searched model) come last.
    """
    rep = reported.load(artifact_id)
    missing = [c for c in on + (columns or []) if c not in rep.columns]
    if missing:
        raise KeyError(f"{artifact_id}: no column {missing} in data/reported; columns: {list(rep.columns)}")
    value_cols = columns or [c for c in rep.columns if c not in on]
    left = rep[on + value_cols].rename(columns={c: reported_label(c) for c in value_cols})
    right = ours.rename(columns={c: ours_label(c, profile) for c in ours.columns if c not in on})
    only_ours = ~right.set_index(on).index.isin(left.set_index(on).index)
    return pd.concat([left.merge(right, on=on, how="left"), right[only_ours]], ignore_index=True)


@dataclass(frozen=True)
class ColumnCheck:
    """The outcome for one column of one table: ``ok``, ``differs``, ``no match`` or ``unlabelled``."""
    artifact_id: str
    column: str
    status: str
    detail: str = ""


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9%]", "", name.lower())


def _base_name(column: str) -> str:
    return re.sub(rf"[\[(]?\s*{REPORTED_TAG}\s*[\])]?", "", column, flags=re.IGNORECASE).strip(" ,·-")


def _same(a, b) -> bool:
    try:
        x, y = float(a), float(b)
    except (TypeError, ValueError):
        return str(a).strip() == str(b).strip()
    return (math.isnan(x) and math.isnan(y)) or math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12)


def _label(value) -> str:
    return "" if pd.isna(value) else str(value)


def _mismatches(table: pd.DataFrame, col: str, rep: pd.DataFrame, src: str, keys: list[str]) -> list[str]:
    """Values of ``table[col]`` that are not the transcribed ``rep[src]`` of the row with the same labels."""
    bad = []
    for idx, row in table.iterrows():
        if pd.isna(row[col]) or row[col] == "":
            continue
        cand = rep
        for k in keys:
            if k != col:  # an empty label (NaN, a missing reference) matches an empty label
                cand = cand[cand[k].map(_label) == _label(row[k])]
        if not any(_same(row[col], v) for v in cand[src]):
            label = ", ".join(str(row[k]) for k in keys if k != col) or f"#{idx}"
            bad.append(f"{row[col]!r} in row {label}")
    return bad


def check_reported_columns(artifact_id: str, table: pd.DataFrame,
                           directory: Path | None = None) -> list[ColumnCheck]:
    """Compare each reported column of ``table`` with ``data/reported/<id>.csv``.

    A column is reported when its name says so, or every column when the artifact's mode is
    ``reported`` alone. Rows are matched on the label columns both tables share; a value that is not
    the transcribed one for its row makes the column ``differs``. In an artifact with a reported
    mode, an unlabelled numeric column named like a reported one whose values are all the paper's is
    ``unlabelled`` (it must say reported).
    """
    rep = reported.load(artifact_id, directory)
    modes = artifacts.get(artifact_id).modes
    pure = modes == ("reported",)
    keys = [c for c in table.columns if c in rep.columns and not pd.api.types.is_numeric_dtype(rep[c])]
    by_norm = {_norm(c): c for c in rep.columns}
    checks = []
    for col in table.columns:
        labelled = pure or is_reported_column(col)
        src = by_norm.get(_norm(_base_name(col)))
        if not labelled:
            if ("reported" in modes and src is not None and col not in keys
                    and pd.api.types.is_numeric_dtype(table[col]) and table[col].notna().any()
                    and not _mismatches(table, col, rep, src, keys)):
                checks.append(ColumnCheck(artifact_id, col, "unlabelled",
                                          "holds the paper's values but is not labelled reported"))
            continue
        if src is None:
            checks.append(ColumnCheck(artifact_id, col, "no match",
                                      f"no column of that name in data/reported/{artifact_id}.csv"))
            continue
        bad = _mismatches(table, col, rep, src, keys)
        checks.append(ColumnCheck(artifact_id, col, "differs" if bad else "ok", "; ".join(bad[:5])))
    return checks


def _display(df: pd.DataFrame, art: artifacts.Artifact, profile: str, checks: list[ColumnCheck]) -> pd.DataFrame:
    """Label the computed numeric columns with the profile (unless the artifact is reported only)."""
    if art.modes == ("reported",):
        return df
    unlabelled = {c.column for c in checks if c.status == "unlabelled"}
    rename = {c: ours_label(c, profile) for c in df.select_dtypes("number").columns
              if not is_reported_column(c) and not is_ours_column(c, profile) and c not in unlabelled}
    return df.rename(columns=rename)


def _fmt(v):
    if isinstance(v, float):
        return "" if math.isnan(v) else f"{v:g}"
    return v


def collect(out_dir: Path | None = None, profile: str = "default") -> list[dict]:
    """Every table artifact present in ``out_dir``, in the papers' order, with its reported-column checks."""
    out = Path(out_dir or figures_dir())
    found = []
    for art in paper_order():
        csv = out / f"{art.id}.csv"
        if "table" not in art.kind or not csv.exists():
            continue
        df = pd.read_csv(csv)
        result = artifacts.load_result(art.id, out) or {}
        prof = result.get("profile") or profile
        checks = check_reported_columns(art.id, df) if reported.path(art.id).exists() else []
        found.append({"artifact": art, "table": _display(df, art, prof, checks), "profile": prof, "checks": checks})
    return found


def _check_line(checks: list[ColumnCheck], artifact_id: str) -> str:
    if not reported.path(artifact_id).exists():
        return "No reported numbers for this table (computed only)."
    if not checks:
        return "No column labelled reported: this table shows only our numbers."
    bad = [c for c in checks if c.status != "ok"]
    if not bad:
        return f"Reported columns ({len(checks)}) match data/reported/{artifact_id}.csv."
    return "REPORTED-COLUMN CHECK FAILED: " + "; ".join(f"{c.column}: {c.status} {c.detail}".strip() for c in bad)


def write_tables(out_dir: Path | None = None, profile: str = "default") -> tuple[Path, Path, list[ColumnCheck]]:
    """Write ``tables.md`` and ``tables.tex`` into ``out_dir``; returns their paths and every check."""
    out = Path(out_dir or figures_dir())
    found = collect(out, profile)
    md = ["# Every table, the papers' numbers beside ours", "",
          "Columns marked *reported* hold the papers' numbers, transcribed in `data/reported/` (never "
          "computed); columns marked *ours, <profile>* are computed by our run. A table whose mode is "
          "`reported` holds only the paper's numbers.", ""]
    tex = ["% Every table, the papers' numbers beside ours (generated by repro.tables.write_tables)", ""]
    checks: list[ColumnCheck] = []
    for item in found:
        art, df = item["artifact"], item["table"]
        checks += item["checks"]
        origin = "reported by the paper" if art.modes == ("reported",) else f"mode {art.mode}, profile {item['profile']}"
        caption = f"{art.id}: {art.title} ({art.source}; {origin})"
        shown = df.map(_fmt)
        md += [f"## {caption}", "", shown.to_markdown(index=False), "", _check_line(item["checks"], art.id), ""]
        tex += [shown.to_latex(index=False, caption=caption, label=f"tab:all-{art.id}", escape=True), ""]
    if not found:
        md.append("No table artifact has been produced yet.")
    md_path, tex_path = out / "tables.md", out / "tables.tex"
    md_path.write_text("\n".join(md).rstrip() + "\n")
    tex_path.write_text("\n".join(tex).rstrip() + "\n")
    return md_path, tex_path, checks


class ReportedColumnError(AssertionError):
    """A computed value sits in a column labelled *reported*."""


def check_frame(checks: list[ColumnCheck]) -> pd.DataFrame:
    """Every check of :func:`write_tables` as a table; a computed value in a reported column (status
    ``differs``) raises :class:`ReportedColumnError` listing the problems."""
    frame = pd.DataFrame([c.__dict__ for c in checks], columns=["artifact_id", "column", "status", "detail"])
    problems = frame[frame["status"] != "ok"]
    if (problems["status"] == "differs").any():
        raise ReportedColumnError(f"computed values in reported columns:\n{problems.to_string(index=False)}")
    return frame


def reported_table(artifact_id: str) -> tuple[pd.DataFrame, str]:
    """A purely reported table as the paper prints it: numeric columns labelled reported, empty cells
    blank (not ``nan``), and a caption."""
    art = artifacts.get(artifact_id)
    df = reported.load(artifact_id)
    df = df.rename(columns={c: reported_label(c) for c in df.select_dtypes("number").columns})
    df = df.astype(object).where(df.notna(), "")
    caption = (f"{art.title}: {art.source} of {artifacts.PAPERS[art.paper].split(' (')[0]}, "
               f"reported by the paper (data/reported/{artifact_id}.csv); nothing computed")
    return df, caption


def _bs_table7(df: pd.DataFrame) -> tuple[str, bool]:
    drops = df[df["Domain"] == "BS"].set_index("Architecture")["Top-1 Diff. (%)"]
    best = drops.idxmax()
    text = ", ".join(f"{a} {d:+.2f}" for a, d in drops.items())
    return f"Top-1 drop from real to bit-shift on ImageNet: {text}; smallest: {best}", bool(best == "ShiftNAS")


def _ps_table5(df: pd.DataFrame) -> tuple[str, bool]:
    pairs = [("ShiftCNN-S", "AttentiveNAS-A1"), ("ShiftCNN-B", "AttentiveNAS-A4")]
    t = df.set_index("method")
    text = "; ".join(f"{s} {t.loc[s, 'Acc. @ 1 (%)']:g}% at {t.loc[s, 'FLOPs (M)']:g} MFLOPs vs {a} "
                     f"{t.loc[a, 'Acc. @ 1 (%)']:g}% at {t.loc[a, 'FLOPs (M)']:g} MFLOPs" for s, a in pairs)
    return text, bool(all(t.loc[s, "Acc. @ 1 (%)"] > t.loc[a, "Acc. @ 1 (%)"] for s, a in pairs))


def _ps_table6(df: pd.DataFrame) -> tuple[str, bool]:
    t = df.set_index("Backbone")
    ours, base = t.loc["ShiftFormer-B"], t.loc["ViT-Base"]
    text = (f"ShiftFormer-B {ours['Acc.@1 (%)']:g} at {ours['FLOPs (G)']:g} GFLOPs vs ViT-Base "
            f"{base['Acc.@1 (%)']:g} at {base['FLOPs (G)']:g} GFLOPs")
    return text, bool(ours["Acc.@1 (%)"] > base["Acc.@1 (%)"] and ours["FLOPs (G)"] < base["FLOPs (G)"])


_REPORTED_FINDINGS = {"bs-table7": _bs_table7, "ps-table5": _ps_table5, "ps-table6": _ps_table6}
#: The purely reported tables (beyond this project's scale), rendered by notebook 08.
REPORTED_ONLY: tuple[str, ...] = tuple(_REPORTED_FINDINGS)


def reported_finding(artifact_id: str) -> tuple[str, bool]:
    """What a purely reported table shows by the paper's own numbers, and whether that matches its claim."""
    if artifact_id not in _REPORTED_FINDINGS:
        raise KeyError(f"no finding for {artifact_id!r}; valid ids: {', '.join(_REPORTED_FINDINGS)}")
    return _REPORTED_FINDINGS[artifact_id](reported.load(artifact_id))


def reported_result(artifact_id: str) -> tuple[str, evidence.Evidence]:
    """The ``measured`` text and the evidence of a purely reported table: nothing computed, so *n/a*."""
    finding, consistent = reported_finding(artifact_id)
    measured = f"Reported only, nothing computed. By the paper's numbers: {finding}."
    return measured, evidence.not_applicable(
        "reported-only table: the experiment is beyond this project's scale; the paper's own numbers are "
        f"{'consistent' if consistent else 'NOT consistent'} with its claim")
