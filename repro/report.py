"""The generated report ``figures/README.md``: every artifact of the three papers beside our run.

At the top: the run (profile, date, commit, machine, total run time, from ``manifest.json``), the
counts of artifacts by mode and by verdict, and a summary table (id, claim, verdict). Then one
section per paper with every artifact in the paper's order: its picture or table inline, its mode,
the paper's claim, what our run measured and the verdict with its reason (``results/<id>.json``,
written by :func:`repro.artifacts.record`), or *missing*. The output depends only on the folder's
contents, so regenerating it from the same artifacts gives the same bytes.
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from repro import artifacts, evidence, reported
from repro.paths import figures_dir

# Each paper's artifacts in the order they appear in the paper (figure and table numbers interleaved
# as printed; text artifacts at the paragraph that states them).
PAPER_ORDER: dict[str, tuple[str, ...]] = {
    "sa": ("sa-fig1", "sa-text-spacesize", "sa-fig2", "sa-table1", "sa-table2", "sa-fig3", "sa-fig4",
           "sa-fig5", "sa-table3", "sa-fig6", "sa-table4", "sa-table5", "sa-text-supernetsize",
           "sa-table6", "sa-table7", "sa-table8", "sa-fig7", "sa-fig8"),
    "bs": ("bs-fig1", "bs-fig2", "bs-table1", "bs-table2", "bs-table3", "bs-fig3", "bs-table4", "bs-fig4",
           "bs-text-efficiency", "bs-table5", "bs-table6", "bs-fig5", "bs-fig6", "bs-table7"),
    "ps": ("ps-fig1", "ps-fig2", "ps-fig3", "ps-table1", "ps-fig4", "ps-table2", "ps-fig5", "ps-fig6",
           "ps-table3", "ps-table4", "ps-fig7", "ps-fig8", "ps-fig9", "ps-table5", "ps-table6", "ps-fig10"),
}
MISSING = "missing"
_OWN_FILES = {"README.md", "tables.md"}


def paper_order(paper: str | None = None) -> list[artifacts.Artifact]:
    """The registry in the papers' order (one paper, or all three); ids not in the order come last."""
    papers = [paper] if paper else list(artifacts.PAPERS)
    unknown = [p for p in papers if p not in artifacts.PAPERS]
    if unknown:
        raise KeyError(f"unknown paper {unknown[0]!r}; valid papers: {', '.join(artifacts.PAPERS)}")
    ordered = []
    for p in papers:
        ids = list(PAPER_ORDER.get(p, ()))
        ids += [a.id for a in artifacts.REGISTRY if a.paper == p and a.id not in ids]
        ordered += [artifacts.get(i) for i in ids]
    return ordered


def status(art: artifacts.Artifact, out: Path) -> tuple[dict | None, list[str]]:
    """The artifact's result record (or None) and the output files it still lacks."""
    return artifacts.load_result(art.id, out), [f for f in art.outputs if not (out / f).exists()]


def verdict_of(art: artifacts.Artifact, out: Path) -> str:
    result, _ = status(art, out)
    return result["verdict"] if result else MISSING


def _cell(text: str) -> str:
    """Text made safe for one Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs:02d} s ({seconds:.1f} s)"


def _run_lines(manifest: dict) -> list[str]:
    if not manifest:
        return ["No `manifest.json` in this folder: the run details are unknown "
                "(it is written by `python -m repro run-all`).", ""]
    dev = manifest.get("device", {})
    machine = f"{dev.get('platform', 'unknown')}, {dev.get('cpus', '?')} CPUs, " \
              f"{dev.get('torch_threads', '?')} torch threads, GPU: {dev.get('gpu') or 'none'}"
    commit = f"`{(manifest.get('commit') or 'unknown')[:12]}`" + (" (uncommitted changes)" if manifest.get("dirty") else "")
    lines = ["| Run | |", "|---|---|", f"| Profile | `{manifest.get('profile', 'unknown')}` |",
             f"| Date | {manifest.get('started', 'unknown')} |", f"| Commit | {commit} |",
             f"| Machine | {_cell(machine)} |",
             f"| Total run time | {_duration(manifest.get('total_duration_s'))} |", ""]
    failed = sorted(n for n, e in manifest.get("notebooks", {}).items() if e.get("status") != "ok")
    if failed:
        lines += ["Notebooks that failed or are missing in this run: "
                  + ", ".join(f"`{n}` ({_cell(manifest['notebooks'][n].get('error', ''))})" for n in failed), ""]
    return lines


def _count_lines(arts: list[artifacts.Artifact], out: Path) -> list[str]:
    by_mode: Counter = Counter()
    present: Counter = Counter()
    for a in arts:
        for m in a.modes:
            by_mode[m] += 1
            present[m] += a.present(out)
    verdicts = Counter(verdict_of(a, out) for a in arts)
    lines = ["**Artifacts by mode** (an artifact with a combined mode such as *reported + scaled* counts "
             "under each):", "", "| Mode | Artifacts | Present |", "|---|---:|---:|"]
    lines += [f"| {m} | {by_mode[m]} | {present[m]} |" for m in artifacts.MODES]
    lines += ["", "**Artifacts by verdict:**", "", "| Verdict | Artifacts |", "|---|---:|"]
    lines += [f"| {v} | {verdicts[v]} |" for v in (*artifacts.VERDICTS, MISSING)]
    lines += [f"| total | {len(arts)} |", ""]
    return lines


def _effect(result: dict | None) -> str:
    """``+1.2 pp [0.4, 2.1]`` from a result's evidence object, or empty."""
    ev = (result or {}).get("evidence") or {}
    if ev.get("effect") is None:
        return ""
    lo, hi = ev.get("ci") or (None, None)
    ci = f" [{lo:.3g}, {hi:.3g}]" if lo is not None and hi is not None and lo != hi else ""
    return f"{ev['effect']:+.3g} {ev.get('unit', '')}".rstrip() + ci


def _gates(result: dict | None) -> str:
    """Each gate as ``name value/floor ✓|✗``."""
    gates = ((result or {}).get("evidence") or {}).get("gates") or []
    return "; ".join(f"{g['name']} {g['value'] if g['value'] is None else format(g['value'], '.3g')}"
                     f"{'≥' if g.get('higher', True) else '≤'}{g['floor']:g} {'✓' if g['passed'] else '✗'}"
                     for g in gates)


def _summary_lines(arts: list[artifacts.Artifact], out: Path) -> list[str]:
    lines = ["## Which claims our runs support", "",
             "Effect: the estimate and its 95% interval; n: seeds (or subnets) behind it; gates: the "
             "training-regime floors the networks had to pass (✗: failed, so the claim is not testable).", "",
             "| Artifact | Paper's claim | Mode | Verdict | Effect [95% CI] | n | Gates |",
             "|---|---|---|---|---|---:|---|"]
    for a in arts:
        result, _ = status(a, out)
        v = result["verdict"] if result else MISSING
        n = ((result or {}).get("evidence") or {}).get("n")
        lines.append(f"| [{a.id}](#{a.id}) | {_cell(a.claim)} | {a.mode} | "
                     f"{'**' + v + '**' if v in (evidence.HOLDS, evidence.DOES_NOT_HOLD) else v} | "
                     f"{_cell(_effect(result))} | {n if n else ''} | {_cell(_gates(result))} |")
    return lines + [""]


def _numbers(numbers: dict) -> str:
    return ", ".join(f"{k} = {v:g}" if isinstance(v, float) else f"{k} = {v}" for k, v in sorted(numbers.items()))


def _section(art: artifacts.Artifact, out: Path) -> list[str]:
    result, lacking = status(art, out)
    lines = [f'<a id="{art.id}"></a>', "", f"### {art.id} · {art.title} ({art.source})", "",
             f"- **Mode:** {art.mode} · **Notebook:** `notebooks/{art.notebook}.ipynb`",
             f"- **Paper's claim:** {art.claim}"]
    if reported.path(art.id).exists():
        lines.append(f"- **Paper's numbers:** `data/reported/{art.id}.csv` ({reported.metadata(art.id).get('source', '')})")
    if result:
        profile = f" (profile `{result['profile']}`)" if result.get("profile") else ""
        lines.append(f"- **Our run{profile}:** {result.get('measured') or '(nothing stated)'}")
        if result.get("numbers"):
            lines.append(f"- **Numbers:** {_numbers(result['numbers'])}")
        reason = f" — {result['reason']}" if result.get("reason") else ""
        lines.append(f"- **Verdict:** **{result['verdict']}**{reason}")
        ev = result.get("evidence") or {}
        if ev:
            n = f", n = {ev['n']}" if ev.get("n") else ""
            lines.append(f"- **Evidence:** {_cell(_effect(result)) or 'no effect estimated'}{n} — {ev.get('method', '')}"
                         + (f"; gates: {_cell(_gates(result))}" if ev.get("gates") else ""))
    else:
        lines.append(f"- **Verdict:** {MISSING} — not produced yet (run `python -m repro run-all --only {art.id}`)")
    if lacking:
        lines.append(f"- **Missing files:** {', '.join(f'`{f}`' for f in lacking)}")
    lines.append("")
    if (out / f"{art.id}.png").exists():
        lines += [f"![{art.id}]({art.id}.png)", ""]
    if (out / f"{art.id}.md").exists():
        lines += [(out / f"{art.id}.md").read_text().rstrip(), ""]
    return lines


def _other_outputs(out: Path) -> list[str]:
    """Pictures and tables in the folder that belong to no artifact (for example notebook 00's)."""
    known = {f for a in artifacts.REGISTRY for f in a.outputs} | _OWN_FILES
    extra = sorted(p.name for p in out.iterdir() if p.suffix in (".png", ".md") and p.name not in known)
    if not extra:
        return []
    lines = ["## Other outputs", ""]
    for name in extra:
        lines += [f"![{name}]({name})" if name.endswith(".png") else (out / name).read_text().rstrip(), ""]
    return lines


def render(out_dir: Path | None = None) -> str:
    """The report's Markdown for the artifacts in ``out_dir``."""
    out = Path(out_dir or figures_dir())
    manifest_path = out / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    arts = paper_order()
    lines = ["# Reproduction report: ShiftAddNAS and the two ShiftNAS papers", "",
             "Generated by `python -m repro report` (and at the end of `python -m repro run-all`) from the "
             "artifacts in this folder. Every verdict comes from one rule (`repro/evidence.py`): *holds* "
             "(the 95% interval of the effect excludes zero, or the paper's minimum effect, in the paper's "
             "direction), *does not hold* (it excludes it in the other direction), *inconclusive* (the "
             "interval contains it), *not testable at this scale* (a named training-regime gate failed), "
             "*by construction* (the check cannot fail: its input was built to satisfy it); *n/a* "
             "(diagrams and purely reported tables), *missing* (not produced yet).", ""]
    lines += _run_lines(manifest) + _count_lines(arts, out)
    if (out / "tables.md").exists():
        lines += ["Every table with the papers' numbers beside ours: [tables.md](tables.md).", ""]
    lines += _summary_lines(arts, out)
    for paper, name in artifacts.PAPERS.items():
        lines += [f"## {name}", ""]
        for art in paper_order(paper):
            lines += _section(art, out)
    lines += _other_outputs(out)
    return "\n".join(lines).rstrip() + "\n"


def write_report(out_dir: Path | None = None) -> Path:
    """Write ``<out_dir>/README.md`` (atomically) and return its path."""
    out = Path(out_dir or figures_dir())
    out.mkdir(parents=True, exist_ok=True)
    path = out / "README.md"
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(render(out))
    tmp.replace(path)
    return path
