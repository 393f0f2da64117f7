"""The generated report (``repro.report``) and the table collection (``repro.tables``) on fake results."""
from __future__ import annotations

import json
import re

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from repro import artifacts, evidence, outputs, reported, report, tables

MANIFEST = {"profile": "smoke", "started": "2026-01-02T03:04:05+00:00", "commit": "0123456789abcdef0123",
            "dirty": True, "device": {"platform": "Linux-x86_64", "cpus": 2, "torch_threads": 2, "gpu": None},
            "total_duration_s": 125.4,
            "notebooks": {"00_data": {"status": "ok"}, "05_ablations": {"status": "failed", "error": "ValueError: x"}}}


@pytest.fixture
def fake_run(out_dir):
    """Three artifacts produced (a figure, a scaled table, a reported table), one with a result only."""
    out_dir.mkdir(parents=True)
    (out_dir / "manifest.json").write_text(json.dumps(MANIFEST))
    fig = plt.figure()
    outputs.save_figure(fig, "ps-fig2", out_dir)
    plt.close(fig)
    artifacts.record("ps-fig2", "FLOPs of 1000 subnets look normal",
                     evidence.exact(0.05, 0.0, unit="skew", abs_tol=0.1), out_dir=out_dir, profile="smoke", skew=0.05)
    ours = pd.DataFrame({"ShiftAddNAS": ["w/ HWS", "w/ Naive WS"], "Kendall τ": [0.31, 0.12]})
    outputs.save_table(tables.side_by_side("sa-table5", ours, ["ShiftAddNAS"], "smoke", ["Kendall τ"]),
                       "sa-table5", out_dir, caption="ablation")
    artifacts.record("sa-table5", "tau 0.31 vs 0.12",
                     evidence.paired([0.1, 0.12, 0.11], [0.3, 0.31, 0.33], unit="tau",
                                     gates=[evidence.gate("standalone accuracy (%)", 86.0, 84.0)]),
                     out_dir=out_dir, profile="smoke")
    rep = reported.load("ps-table6")
    outputs.save_table(rep.rename(columns=lambda c: c if c == "Backbone" else tables.reported_label(c)),
                       "ps-table6", out_dir, caption="segmentation (reported)")
    artifacts.record("ps-table6", "transcribed", evidence.not_applicable("reported only"), out_dir=out_dir,
                     profile="smoke")
    artifacts.record("bs-table4", "nothing drawn yet", evidence.not_testable("no GPU"), out_dir=out_dir)
    return out_dir


def test_paper_order_is_the_registry_in_the_papers_numbering():
    for paper in artifacts.PAPERS:
        ordered = report.paper_order(paper)
        assert sorted(a.id for a in ordered) == sorted(a.id for a in artifacts.REGISTRY if a.paper == paper)
        assert [a.id for a in ordered] == list(report.PAPER_ORDER[paper])
        for kind in ("Fig", "Table"):
            nums = [int(re.search(r"\d+", a.source).group()) for a in ordered if a.source.startswith(kind)]
            assert nums == sorted(nums) and nums == list(range(1, len(nums) + 1)), (paper, kind, nums)
    with pytest.raises(KeyError, match="valid papers: sa, bs, ps"):
        report.paper_order("xx")


def test_report_header_counts_and_summary(fake_run):
    text = report.render(fake_run)
    assert "| Profile | `smoke` |" in text and "2026-01-02T03:04:05+00:00" in text
    assert "`0123456789ab` (uncommitted changes)" in text and "2 CPUs" in text and "GPU: none" in text
    assert "2 min 05 s (125.4 s)" in text
    assert "`05_ablations` (ValueError: x)" in text
    total = len(artifacts.REGISTRY)
    # by verdict, counted by hand from the fixture: 1 holds, 1 does not hold, 1 not testable, 1 n/a
    for verdict, n in (("holds", 1), ("does not hold", 1), ("not testable at this scale", 1), ("n/a", 1),
                       ("missing", total - 4), ("total", total)):
        assert f"| {verdict} | {n} |" in text
    # by mode, present: ps-table6 is the only reported one (sa-table5 is scaled), ps-fig2 the only exact one
    n_reported = sum("reported" in a.modes for a in artifacts.REGISTRY)
    assert f"| reported | {n_reported} | 1 |" in text
    n_exact = sum("exact" in a.modes for a in artifacts.REGISTRY)
    assert f"| exact | {n_exact} | 1 |" in text  # ps-fig2
    summary = text.split("## Which claims our runs support")[1].split("\n## ")[0]
    rows = [line for line in summary.splitlines() if line.startswith("| [")]
    assert len(rows) == total
    assert "| [sa-table5](#sa-table5) |" in summary and summary.count("| missing |") == total - 4
    row = next(r for r in rows if "sa-table5" in r)
    assert "**does not hold**" in row
    # the effect and interval by hand: differences -0.2, -0.19, -0.22 -> mean -0.203; n = 3; the gate passed
    assert "| -0.203 tau [" in row and "| 3 |" in row and "standalone accuracy (%) 86≥84 ✓" in row


def test_report_sections_in_paper_order_with_content(fake_run):
    text = report.render(fake_run)
    positions = [text.index(f'<a id="{a.id}"></a>') for a in report.paper_order()]
    assert positions == sorted(positions)
    section = text.split('<a id="ps-fig2"></a>')[1].split("<a id=")[0]
    assert "![ps-fig2](ps-fig2.png)" in section and "**holds**" in section and "skew = 0.05" in section
    assert "(profile `smoke`)" in section and "Paper's numbers" not in section  # no transcription for ps-fig2
    section = text.split('<a id="sa-table5"></a>')[1].split("<a id=")[0]
    assert "**ablation**" in section and "Kendall τ [reported]" in section and "excludes zero against" in section
    assert "- **Evidence:** -0.203 tau [" in section and "n = 3" in section and "Student t" in section
    assert "`data/reported/sa-table5.csv` (Table 5 (Sec. 4.4)" in section
    section = text.split('<a id="bs-table4"></a>')[1].split("<a id=")[0]
    assert "not testable at this scale" in section and "`bs-table4.csv`" in section  # files still missing
    section = text.split('<a id="sa-fig8"></a>')[1].split("<a id=")[0]
    assert "missing" in section and "run-all --only sa-fig8" in section


def test_report_is_deterministic_and_written(fake_run):
    path = report.write_report(fake_run)
    first = path.read_bytes()
    (fake_run / "ps-fig2.png").touch()
    assert report.write_report(fake_run).read_bytes() == first
    assert not list(fake_run.glob("*.tmp"))


def test_report_lists_outputs_of_no_artifact(fake_run):
    (fake_run / "data-samples.png").write_bytes(b"png")
    (fake_run / "data-stats.md").write_text("| a |\n|---|\n| 1 |\n")
    tables.write_tables(fake_run, "smoke")
    other = report.render(fake_run).split("## Other outputs")[1]
    assert "![data-samples.png](data-samples.png)" in other and "| 1 |" in other
    assert "tables.md" not in other and "ps-table6" not in other


def test_report_without_manifest(out_dir):
    out_dir.mkdir(parents=True)
    text = report.render(out_dir)
    assert "No `manifest.json`" in text and f"| missing | {len(artifacts.REGISTRY)} |" in text


def test_side_by_side_keeps_paper_rows_and_appends_ours():
    ours = pd.DataFrame({"Architecture": ["ShiftNAS", "Ours"], "Domain": ["BS", "BS"], "Top-1 (%)": [50.0, 40.0]})
    df = tables.side_by_side("bs-table7", ours, ["Architecture", "Domain"], "smoke", ["Top-1 (%)"])
    assert list(df.columns) == ["Architecture", "Domain", "Top-1 (%) [reported]", "Top-1 (%) [ours, smoke]"]
    assert list(df["Architecture"]) == ["ResNet18", "ResNet18", "DOTS", "DOTS", "ShiftNAS", "ShiftNAS", "Ours"]
    assert df.iloc[5]["Top-1 (%) [reported]"] == 67.17 and df.iloc[5]["Top-1 (%) [ours, smoke]"] == 50.0
    assert pd.isna(df.iloc[6]["Top-1 (%) [reported]"])
    with pytest.raises(KeyError, match="columns"):
        tables.side_by_side("bs-table7", ours, ["Architecture"], "smoke", ["Top-9 (%)"])


def test_check_catches_a_computed_value_in_a_reported_column():
    rep = reported.load("sa-table5")
    good = rep[["ShiftAddNAS", "Kendall τ"]].rename(columns={"Kendall τ": "Kendall τ [reported]"})
    assert [c.status for c in tables.check_reported_columns("sa-table5", good)] == ["ok"]
    bad = good.copy()
    bad.loc[1, "Kendall τ [reported]"] = 0.31  # a computed value written into a reported column
    (check,) = tables.check_reported_columns("sa-table5", bad)
    assert check.status == "differs" and "0.31" in check.detail and "w/ HWS" in check.detail
    swapped = good.assign(ShiftAddNAS=good["ShiftAddNAS"][::-1].to_numpy())  # values on the wrong rows
    assert tables.check_reported_columns("sa-table5", swapped)[0].status == "differs"
    unknown = good.rename(columns={"Kendall τ [reported]": "BLEU [reported]"})
    assert tables.check_reported_columns("sa-table5", unknown)[0].status == "no match"


def test_check_flags_unlabelled_paper_values():
    rep = reported.load("sa-table4")[["Model", "Top-1 (%)"]]
    (check,) = tables.check_reported_columns("sa-table4", rep)
    assert check.status == "unlabelled"
    computed = rep.assign(**{"Top-1 (%)": rep["Top-1 (%)"] - 10})
    assert tables.check_reported_columns("sa-table4", computed) == []


def test_write_tables_collects_every_table_with_labels(fake_run):
    md, tex, checks = tables.write_tables(fake_run, "smoke")
    text = md.read_text()
    assert text.index("sa-table5") < text.index("ps-table6")  # papers' order: sa before ps
    assert "ps-fig2" not in text  # a figure, not a table
    assert "Kendall τ [ours, smoke]" in text and "Kendall τ [reported]" in text
    assert "ps-table6: Segmentation transfer (ADE20k) (Table 6; reported by the paper)" in text
    assert text.count("match data/reported/") == 2 and "FAILED" not in text
    assert all(c.status == "ok" for c in checks) and len(checks) == 1 + 3
    assert tex.read_text().count(r"\begin{table}") == 2
    frame = tables.check_frame(checks)
    assert list(frame["status"]) == ["ok"] * 4
    bad = checks + [tables.ColumnCheck("sa-table4", "Top-1 (%) [reported]", "differs", "76.1 vs 75.0")]
    with pytest.raises(tables.ReportedColumnError, match="sa-table4"):
        tables.check_frame(bad)
    assert tables.REPORTED_ONLY == ("bs-table7", "ps-table5", "ps-table6")


@pytest.mark.parametrize("artifact_id", ["bs-table7", "ps-table5", "ps-table6"])
def test_reported_only_tables_are_labelled_and_pass_the_check(artifact_id):
    table, caption = tables.reported_table(artifact_id)
    assert "reported by the paper" in caption and artifacts.get(artifact_id).source in caption
    numeric = reported.load(artifact_id).select_dtypes("number").columns
    assert all(tables.reported_label(c) in table.columns for c in numeric)
    checks = tables.check_reported_columns(artifact_id, table)
    assert len(checks) == table.shape[1] and all(c.status == "ok" for c in checks)


def test_reported_findings_follow_the_papers_numbers():
    text, consistent = tables.reported_finding("bs-table7")
    assert consistent and "ShiftNAS -5.01" in text and "DOTS -6.39" in text  # Table 7, Top-1 Diff.
    text, consistent = tables.reported_finding("ps-table6")
    assert consistent and "49.8 at 90.4" in text and "48.2 at 120.9" in text  # Table 6
    assert tables.reported_finding("ps-table5")[1]  # 78.7 > 78.4 and 80.4 > 79.8 (Table 5)
    with pytest.raises(KeyError, match="valid ids: bs-table7, ps-table5, ps-table6"):
        tables.reported_finding("sa-table3")
