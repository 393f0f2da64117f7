"""The artifact registry against ARTIFACTS.md, its outputs, ``record`` and ``python -m repro artifacts``."""
from __future__ import annotations

import json
import re

import pytest

from repro import artifacts, evidence
from repro.__main__ import main
from repro.paths import REPO_ROOT

ARTIFACTS_MD = REPO_ROOT.parent / "shared" / "ARTIFACTS.md"
ROW = re.compile(r"^\|\s*((?:sa|bs|ps)-[\w-]+)\s*\|.*\|\s*([^|]+?)\s*\|\s*$")


def spec_rows() -> dict[str, str]:
    """``id -> mode`` of every table row of ARTIFACTS.md."""
    return {m.group(1): m.group(2) for line in ARTIFACTS_MD.read_text().splitlines() if (m := ROW.match(line))}


def test_registry_has_48_unique_ids():
    ids = [a.id for a in artifacts.REGISTRY]
    assert len(ids) == 48 and len(set(ids)) == 48
    assert {a.paper for a in artifacts.REGISTRY} == set(artifacts.PAPERS)


@pytest.mark.skipif(not ARTIFACTS_MD.exists(), reason="ARTIFACTS.md is not beside the repository")
def test_registry_covers_exactly_the_ids_and_modes_of_artifacts_md():
    spec = spec_rows()
    assert len(spec) == 48
    assert [a.id for a in artifacts.REGISTRY] == list(spec)
    for a in artifacts.REGISTRY:
        words = re.sub(r"\([^)]*\)", "", spec[a.id]).replace("measured", "exact")  # timings here are "exact"
        assert a.modes == tuple(w.split()[0] for w in words.split("+")), a.id


def test_every_entry_is_well_formed():
    for a in artifacts.REGISTRY:
        assert a.notebook in artifacts.NOTEBOOKS, a.id
        assert a.kind in artifacts.KINDS, a.id
        assert set(a.modes) <= set(artifacts.MODES), a.id
        assert a.title and a.source and a.claim, a.id


@pytest.mark.parametrize("kind, files", [
    ("figure", ["x.png", "x.pdf"]),
    ("table", ["x.csv", "x.md", "x.tex"]),
    ("figure+table", ["x.png", "x.pdf", "x.csv", "x.md", "x.tex"]),
])
def test_outputs_follow_the_kind(kind, files):
    art = artifacts.Artifact("x", "t", "Fig. 1", "00_data", kind, "exact", "c")
    assert art.outputs == tuple(files) + ("results/x.json",)


def test_get_unknown_id_lists_the_valid_ones():
    assert artifacts.get("sa-fig1").source == "Fig. 1"
    with pytest.raises(KeyError, match="valid ids: sa-fig1, sa-fig2"):
        artifacts.get("sa-fig99")


def test_record_writes_the_verdict(out_dir):
    ev = evidence.exact(0.01, 0.0, unit="KS", abs_tol=0.05)
    path = artifacts.record("ps-fig2", "Irwin-Hall fits", ev, out_dir=out_dir, profile="smoke", ks=0.01)
    payload = json.loads(path.read_text())
    assert path == out_dir / "results" / "ps-fig2.json"
    assert payload["verdict"] == "holds" and payload["numbers"] == {"ks": 0.01}
    assert payload["evidence"]["effect"] == 0.01 and payload["evidence"]["n"] == 1
    assert payload["claim"] == artifacts.get("ps-fig2").claim and payload["profile"] == "smoke"
    assert artifacts.load_result("ps-fig2", out_dir) == payload
    with pytest.raises(TypeError, match="needs an Evidence"):
        artifacts.record("ps-fig2", "x", "holds", out_dir=out_dir)
    with pytest.raises(ValueError, match="needs an interval"):  # a scaled claim from one seed
        artifacts.record("ps-fig4", "x", evidence.decide(1.0, (0.5, 1.5), 1, unit="pp", method="one seed", min_n=1),
                         out_dir=out_dir)


def test_cli_json_lists_every_artifact_with_presence(out_dir, capsys):
    art = artifacts.get("bs-fig2")
    for f in art.outputs:
        (out_dir / f).parent.mkdir(parents=True, exist_ok=True)
        (out_dir / f).write_text("x")
    assert main(["artifacts", "--json", "--out", str(out_dir)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in rows] == [a.id for a in artifacts.REGISTRY]
    for r in rows:
        assert {"id", "title", "notebook", "outputs", "mode", "present"} <= set(r)
        assert r["outputs"] == list(artifacts.get(r["id"]).outputs)
    assert [r["id"] for r in rows if r["present"]] == ["bs-fig2"]


def test_cli_table(out_dir, capsys):
    assert main(["artifacts", "--out", str(out_dir)]) == 0
    out = capsys.readouterr().out
    assert "sa-fig1" in out and "0/48 artifacts present" in out
