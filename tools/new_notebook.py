"""Build a clean notebook (no outputs, a ``parameters`` cell, python3 kernelspec) from its source.

The editable source of ``notebooks/NN_name.ipynb`` is the percent-format script
``notebooks/src/NN_name.py`` (cells start at lines ``# %%`` or ``# %% [markdown]``; the first code
cell is the ``parameters`` cell). ``python tools/new_notebook.py notebooks/src/NN_name.py`` writes
the notebook; ``tests/test_notebook_hygiene.py`` checks the two agree.
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat


def cells_from_script(text: str) -> list:
    cells, kind, buf = [], None, []

    def flush():
        src = "\n".join(buf).strip("\n")
        if kind is not None and src:
            if kind == "markdown":
                src = "\n".join(line[2:] if line.startswith("# ") else line.lstrip("#") for line in src.splitlines())
                cells.append(nbformat.v4.new_markdown_cell(src))
            else:
                cells.append(nbformat.v4.new_code_cell(src))

    for line in text.splitlines():
        if line.startswith("# %%"):
            flush()
            kind, buf = ("markdown" if "[markdown]" in line else "code"), []
        else:
            buf.append(line)
    flush()
    return cells


def build(script: Path) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = cells_from_script(script.read_text())
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    first_code.metadata["tags"] = ["parameters"]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for i, c in enumerate(nb.cells):
        c.id = f"cell-{i:02d}"  # stable ids: rebuilding an unchanged script changes nothing
    return nb


def target(script: Path) -> Path:
    return script.parent.parent / f"{script.stem}.ipynb"


def write(script: Path) -> Path:
    out = target(script)
    nbformat.write(build(script), out)
    return out


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        print(write(Path(arg)))
