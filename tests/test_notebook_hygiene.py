"""Committed notebooks carry no outputs and start with a papermill ``parameters`` cell."""
from __future__ import annotations

import json
import subprocess

import pytest

from repro.artifacts import NOTEBOOKS
from repro.paths import NOTEBOOKS_DIR, REPO_ROOT


def _notebooks():
    return sorted(NOTEBOOKS_DIR.glob("*.ipynb"))


@pytest.mark.parametrize("path", _notebooks(), ids=lambda p: p.name)
def test_notebook_is_clean_and_parameterised(path):
    nb = json.loads(path.read_text())
    for i, cell in enumerate(nb["cells"]):
        assert not cell.get("outputs"), f"{path.name} cell {i} has outputs: clear them before committing"
        assert not cell.get("execution_count"), f"{path.name} cell {i} has an execution count"
    tagged = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"{path.name} needs exactly one cell tagged 'parameters'"
    src = "".join(tagged[0]["source"])
    assert "profile" in src and "out_dir" in src
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    assert nb["metadata"]["language_info"]["name"] == "python"


def test_every_notebook_is_registered():
    assert {p.stem for p in _notebooks()} <= set(NOTEBOOKS)


def test_committed_notebooks_have_no_outputs_in_git():
    """The same check on what git holds, so a dirty working copy cannot hide a dirty commit."""
    files = subprocess.run(["git", "ls-files", "notebooks/*.ipynb"], cwd=REPO_ROOT, capture_output=True,
                           text=True).stdout.split()
    for f in files:
        blob = subprocess.run(["git", "show", f"HEAD:{f}"], cwd=REPO_ROOT, capture_output=True, text=True)
        if blob.returncode:  # added but not yet committed
            continue
        nb = json.loads(blob.stdout)
        assert not any(c.get("outputs") for c in nb["cells"]), f"{f} is committed with outputs"


@pytest.mark.parametrize("path", _notebooks(), ids=lambda p: p.name)
def test_notebook_matches_its_source(path):
    """``notebooks/src/NN_name.py`` is the editable source; the notebook must be rebuilt from it."""
    import importlib.util

    import nbformat

    spec = importlib.util.spec_from_file_location("new_notebook", REPO_ROOT / "tools" / "new_notebook.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    src = NOTEBOOKS_DIR / "src" / f"{path.stem}.py"
    assert src.exists(), f"{path.name} has no source {src}"
    built = tool.build(src)
    committed = nbformat.read(path, as_version=4)
    assert [c.source for c in committed.cells] == [c.source for c in built.cells], \
        f"{path.name} is out of date: run `python tools/new_notebook.py {src.relative_to(REPO_ROOT)}`"
