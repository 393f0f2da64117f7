"""run-all on a temporary notebooks folder: one notebook passes, one fails; the manifest records both."""
from __future__ import annotations

import json
import sys
from types import SimpleNamespace

import nbformat
import pytest

from repro import artifacts, pipeline
from repro.__main__ import main
from repro.profiles import ConfigError

PARAMETERS = "profile = None\nout_dir = None"


def write_notebook(path, *cells: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(PARAMETERS, metadata={"tags": ["parameters"]})]
    nb.cells += [nbformat.v4.new_code_cell(src) for src in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.write(nb, path)


@pytest.fixture
def series(tmp_path, monkeypatch):
    """Notebooks ``00_pass`` (writes the injected parameters into out_dir) and ``01_fail`` (raises)."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    write_notebook(folder / "00_pass.ipynb",
                   "from pathlib import Path",
                   "Path(out_dir, 'pass.txt').write_text(profile)")
    write_notebook(folder / "01_fail.ipynb", "x = 1", "raise ValueError('boom in cell three')", "y = 2")
    monkeypatch.setattr(pipeline, "NOTEBOOKS_DIR", folder)
    monkeypatch.setattr(artifacts, "NOTEBOOKS", ("00_pass", "01_fail", "02_absent"))
    monkeypatch.setenv("REPRO_BUILD", str(tmp_path / "build"))
    reports = []
    monkeypatch.setitem(sys.modules, "repro.report", SimpleNamespace(write_report=reports.append))
    return SimpleNamespace(folder=folder, out=tmp_path / "figures", build=tmp_path / "build", reports=reports)


def test_run_all_names_the_failing_notebook_and_cell(series, capsys):
    assert pipeline.select_notebooks(None) == ["00_pass", "01_fail"]  # 02_absent has no file
    assert pipeline.run_all("smoke", out_dir=str(series.out)) == 1
    err = capsys.readouterr().err
    assert "FAILED notebooks/01_fail.ipynb, cell " in err and "ValueError: boom in cell three" in err
    assert "FAILED notebooks/00_pass" not in err
    assert (series.out / "pass.txt").read_text() == "smoke"                  # parameters were injected
    assert (series.build / "notebooks" / "smoke" / "00_pass.ipynb").exists()  # the executed copy
    assert series.reports == [series.out]

    manifest = json.loads((series.out / "manifest.json").read_text())
    assert manifest["profile"] == "smoke" and manifest["seed"] == 0
    assert manifest["profile_config"]["data"]["spm_vocab_size"] == 1000
    assert {"torch", "numpy", "papermill", "sentencepiece"} <= set(manifest["versions"])
    assert manifest["versions"]["torch"] and manifest["device"]["cpus"] >= 1
    assert "commit" in manifest and "dirty" in manifest
    nbs = manifest["notebooks"]
    assert nbs["00_pass"]["status"] == "ok" and nbs["01_fail"]["status"] == "failed"
    assert nbs["01_fail"]["error"] == "ValueError: boom in cell three"
    source = nbformat.read(series.folder / "01_fail.ipynb", as_version=4)
    assert nbs["01_fail"]["cell_index"] == 2 and "boom" in source.cells[2].source  # the source notebook's cell
    assert "FAILED notebooks/01_fail.ipynb, cell 2: ValueError: boom in cell three" in err
    assert all(e["duration_s"] > 0 for e in nbs.values())
    assert all(e["torch_threads"] == manifest["device"]["torch_threads"] >= 1 for e in nbs.values())
    assert manifest["total_duration_s"] == pytest.approx(sum(e["duration_s"] for e in nbs.values()), abs=0.2)


def test_a_dead_kernel_names_the_notebook_its_last_cell_the_memory_and_a_hint(series, capsys):
    write_notebook(series.folder / "01_fail.ipynb", "x = 1", "import os; os._exit(9)", "y = 2")
    assert pipeline.run_all("smoke", only=["01_fail"], out_dir=str(series.out)) == 1
    entry = json.loads((series.out / "manifest.json").read_text())["notebooks"]["01_fail"]
    assert entry["status"] == "failed" and entry["cell_index"] == 2  # the os._exit cell of the source
    assert entry["error"].startswith("DeadKernelError after cell 2")
    assert "peak kernel memory" in entry["error"] and "lower the batch size" in entry["error"]
    assert "FAILED notebooks/01_fail.ipynb" in capsys.readouterr().err


def test_run_all_exits_zero_when_every_notebook_passes(series):
    (series.folder / "01_fail.ipynb").unlink()
    assert pipeline.run_all("smoke", out_dir=str(series.out)) == 0
    assert json.loads((series.out / "manifest.json").read_text())["notebooks"]["00_pass"]["status"] == "ok"


def test_unknown_profile_and_id_name_the_valid_ones(series, capsys):
    with pytest.raises(ConfigError, match="valid profiles: smoke, default, gpu, paper"):
        pipeline.run_all("quick", out_dir=str(series.out))
    with pytest.raises(KeyError, match="valid ids"):
        pipeline.select_notebooks(["sa-fig99"])
    assert main(["run-all", "--profile", "quick", "--out", str(series.out)]) == 2
    assert main(["run-all", "--only", "sa-fig99", "--out", str(series.out)]) == 2
    err = capsys.readouterr().err
    assert "valid profiles: smoke, default, gpu, paper" in err and "valid ids: sa-fig1" in err
    assert not (series.out / "manifest.json").exists()


def test_only_selects_the_notebooks_behind_the_ids():
    assert pipeline.select_notebooks(["sa-fig1", "ps-fig2", "bs-fig2"]) == [
        "02_hardware_costs", "06_shiftnas_bitshift", "07_probability_shift"]


def test_manifest_keeps_earlier_entries_of_the_same_profile(series, monkeypatch):
    monkeypatch.setattr(pipeline, "run_notebook",
                        lambda name, profile, out, timeout: {"status": "ok", "duration_s": 1.5, "profile": profile})
    monkeypatch.setattr(artifacts, "REGISTRY", (artifacts.Artifact("x-1", "t", "s", "00_pass", "figure", "exact", "c"),
                                                artifacts.Artifact("x-2", "t", "s", "01_fail", "figure", "exact", "c")))
    monkeypatch.setattr(artifacts, "_BY_ID", {a.id: a for a in artifacts.REGISTRY})

    def read() -> dict:
        return json.loads((series.out / "manifest.json").read_text())

    assert pipeline.run_all("smoke", out_dir=str(series.out)) == 0
    assert pipeline.run_all("smoke", ["x-2"], out_dir=str(series.out)) == 0
    assert set(read()["notebooks"]) == {"00_pass", "01_fail"} and read()["total_duration_s"] == 3.0
    assert pipeline.run_all("default", ["x-2"], out_dir=str(series.out)) == 0
    assert set(read()["notebooks"]) == {"01_fail"} and read()["profile"] == "default"


def test_the_gpu_profile_writes_its_own_folder(series, monkeypatch):
    monkeypatch.setenv("REPRO_OUT", str(series.out))
    assert pipeline.run_all("gpu", only=["00_pass"]) == 0
    assert (series.out / "gpu" / "pass.txt").read_text() == "gpu"
    assert json.loads((series.out / "gpu" / "manifest.json").read_text())["profile"] == "gpu"
    assert not (series.out / "manifest.json").exists()  # the default profile's results untouched
