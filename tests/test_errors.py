"""User mistakes end in one clear line (what is wrong, how to fix it), never a traceback; notebooks
run outside ``run-all`` never write the committed ``figures/``."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import nbformat

from repro import paths
from repro.__main__ import main
from repro.cost import zoo


def test_run_all_out_an_existing_file(tmp_path, capsys):
    target = tmp_path / "results.txt"
    target.write_text("x")
    assert main(["run-all", "--profile", "smoke", "--out", str(target)]) == 2
    err = capsys.readouterr().err
    assert f"--out {target} is an existing file, not a folder" in err and "Traceback" not in err
    assert target.read_text() == "x"


def test_cost_without_a_model_says_so_and_lists_them(capsys):
    assert main(["cost"]) == 2
    err = capsys.readouterr().err
    assert "error: no model given" in err and all(name in err for name in zoo.names())
    assert main(["cost", "--list"]) == 0


def clean_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("REPRO_OUT", "REPRO_BUILD", "REPRO_CACHE")}
    return {**env, "OMP_NUM_THREADS": "1", **extra}


def test_output_folders_follow_the_checkout_being_run(tmp_path):
    """A second checkout sharing this environment: its notebooks write its own build folder."""
    other = tmp_path / "other-checkout"
    (other / "repro").mkdir(parents=True)
    (other / "notebooks").mkdir()
    subprocess.run(["git", "init", "-q", str(other)], check=True)
    code = ("from repro import paths; print(paths.figures_dir()); print(paths.interactive_out_dir()); "
            "print(paths.REPO_ROOT)")
    out = subprocess.run([sys.executable, "-c", code], cwd=other / "notebooks", env=clean_env(),
                         capture_output=True, text=True, check=True).stdout.split()
    assert out[:2] == [str(other / "figures"), str(other / "build" / "figures-interactive")]
    assert out[2] != str(other)  # repro itself was imported from the installed checkout


def figures_status() -> str:
    return subprocess.run(["git", "status", "--porcelain", "figures/"], cwd=paths.REPO_ROOT,
                          capture_output=True, text=True, check=True).stdout


def test_a_notebook_executed_without_repro_out_leaves_figures_clean(tmp_path):
    """``jupyter nbconvert --execute`` of a notebook that saves a table: into the build folder."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "import pandas as pd\nfrom repro.notebook import setup\nctx = setup('smoke')\n"
        "ctx.save_table(pd.DataFrame({'a': [1]}), 'sa-table1')\nprint(ctx.out)")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    src = paths.NOTEBOOKS_DIR / f".test-interactive-{os.getpid()}.ipynb"  # in the checkout, like a user's
    nbformat.write(nb, src)
    build = tmp_path / "build"
    status_before = figures_status()  # other work in this checkout may already have touched it
    started = time.time()
    try:
        from nbclient import NotebookClient

        run = nbformat.read(src, as_version=4)
        env_before = dict(os.environ)
        os.environ.clear()
        os.environ.update(clean_env(REPRO_BUILD=str(build)))
        try:
            NotebookClient(run, timeout=120, kernel_name="python3",
                           resources={"metadata": {"path": str(paths.NOTEBOOKS_DIR)}}).execute()
        finally:
            os.environ.clear()
            os.environ.update(env_before)
    finally:
        src.unlink()
    printed = "".join(o.get("text", "") for o in run.cells[0].outputs)
    assert printed.strip() == str(build / "figures-interactive")
    assert (build / "figures-interactive" / "sa-table1.csv").exists()
    assert figures_status() == status_before
    committed = paths.REPO_ROOT / "figures" / "sa-table1.csv"
    assert not committed.exists() or committed.stat().st_mtime < started
