"""``run-all``: execute the numbered notebooks headlessly with papermill and write the manifest.

Executed copies go to ``build/notebooks/<profile>/``; artifacts go to the checkout's committed
``figures/`` (or ``--out DIR``; see :mod:`repro.paths`); ``manifest.json`` there records the profile, commit, seed, versions, device and the
duration of every notebook. A failing notebook is named with its failing cell and the command
exits non-zero after the others have run.
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from tqdm.auto import tqdm

from repro import artifacts
from repro.paths import NOTEBOOKS_DIR, build_dir, checkout_root, figures_dir
from repro.profiles import get_profile

VERSIONED = ("torch", "numpy", "scipy", "pandas", "matplotlib", "seaborn", "papermill", "sacrebleu",
             "sentencepiece", "tqdm")


def notebook_path(name: str) -> Path:
    return NOTEBOOKS_DIR / f"{name}.ipynb"


def select_notebooks(only: list[str] | None) -> list[str]:
    """The notebooks to run: those behind the ``only`` artifact ids (or named notebooks, e.g.
    ``00_data``), else every numbered notebook."""
    if only:
        # an id that is neither a notebook nor an artifact raises, listing the valid ids
        names = {i if i in artifacts.NOTEBOOKS else artifacts.get(i).notebook for i in only}
        return [n for n in artifacts.NOTEBOOKS if n in names]
    return [n for n in artifacts.NOTEBOOKS if notebook_path(n).exists()]


def git_commit() -> dict:
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=checkout_root(), capture_output=True, text=True,
                                  check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return ""
    status = git("status", "--porcelain", "--", ".", ":!figures")
    return {"commit": git("rev-parse", "HEAD") or None, "dirty": bool(status)}


def environment() -> dict:
    versions = {"python": platform.python_version()}
    for pkg in VERSIONED:
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    import torch

    dev = {"platform": platform.platform(), "machine": platform.machine(), "cpus": os.cpu_count(),
           "torch_threads": torch.get_num_threads(),
           "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}
    return {"versions": versions, "device": dev}


def source_cell_index(src: Path, err: Exception) -> int:
    """The failing cell's index in the source notebook (papermill's own index counts the cell it injects)."""
    import nbformat

    cells = nbformat.read(src, as_version=4).cells
    return next((i for i, c in enumerate(cells) if c.source == err.source), err.cell_index)


MEMORY_HINT = (" (a kernel that dies is most often killed for memory: lower the batch size of the notebook's "
               "profile section with its overrides parameter, or use a smaller profile, e.g. gpu for one GPU)")


def last_executed_cell(executed: Path) -> int | None:
    """The source notebook's index of the last cell papermill started in the partly written copy
    ``executed`` (papermill saves it after every cell; its injected-parameters cell is not counted)."""
    import nbformat

    try:
        nb = nbformat.read(executed, as_version=4)
    except Exception:  # not written yet, or cut mid-write
        return None
    source = [c for c in nb.cells if "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
    ran = [i for i, c in enumerate(source) if c.get("metadata", {}).get("papermill", {}).get("start_time")]
    return ran[-1] if ran else None


def kernels_peak_memory() -> str:
    """The peak resident memory of the kernels run so far (this process's finished children)."""
    import resource

    return f"peak kernel memory {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20:.1f} GiB"


def run_notebook(name: str, profile: str, out: Path, timeout: int | None) -> dict:
    """Execute one notebook; returns its manifest entry (status, duration, failing cell)."""
    import papermill as pm

    src = notebook_path(name)
    if not src.exists():
        return {"status": "missing", "duration_s": 0.0, "error": f"{src} does not exist"}
    dst = build_dir() / "notebooks" / profile / src.name
    dst.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    entry: dict = {"status": "ok", "executed_copy": str(dst)}
    try:
        pm.execute_notebook(str(src), str(dst), parameters={"profile": profile, "out_dir": str(out)},
                            kernel_name="python3", language="python", progress_bar=False,
                            execution_timeout=timeout, cwd=str(NOTEBOOKS_DIR))
    except pm.PapermillExecutionError as err:
        entry.update(status="failed", cell_index=source_cell_index(src, err), execution_count=err.exec_count,
                     error=f"{err.ename}: {err.evalue}" + (MEMORY_HINT if "OutOfMemory" in err.ename else ""))
    except Exception as err:  # a timeout or a dead kernel: still name the notebook, the last cell, the memory
        last = last_executed_cell(dst)
        where = f" after cell {last}" if last is not None else ""
        entry.update(status="failed", error=f"{type(err).__name__}{where}: {err}; {kernels_peak_memory()}"
                     + (MEMORY_HINT if "DeadKernel" in type(err).__name__ else ""))
        if last is not None:
            entry["cell_index"] = last
    entry["duration_s"] = round(time.perf_counter() - start, 1)
    return entry


class OutDirError(ValueError):
    """``--out`` names something that cannot be the artifact folder."""


def resolve_out(out_dir: str | None) -> Path:
    """The artifact folder of ``run-all``: ``out_dir``, else the committed ``figures/`` (created)."""
    out = Path(out_dir) if out_dir else figures_dir()
    if out.exists() and not out.is_dir():
        raise OutDirError(f"--out {out} is an existing file, not a folder: give a folder "
                          "(created if missing), or leave --out out to write figures/")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutDirError(f"--out {out} cannot be created ({err.strerror}): give a writable folder") from err
    return out


def run_all(profile: str, only: list[str] | None = None, out_dir: str | None = None) -> int:
    """Run the series; returns the process exit code (0 when every notebook succeeded)."""
    prof = get_profile(profile)  # unknown profile: a ConfigError naming the valid ones
    names = select_notebooks(only)
    # The gpu profile's results live beside the committed default ones, with their own manifest and report.
    out = resolve_out(out_dir or (str(figures_dir() / "gpu") if prof.name == "gpu" else None))
    manifest_path = out / "manifest.json"
    notebooks: dict = {}
    manifest = {"profile": prof.name, "seed": prof.seed,
                "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                **git_commit(), **environment(), "profile_config": prof.to_dict()}
    failures = []
    bar = tqdm(names, desc=f"run-all [{prof.name}]", unit="notebook")
    for name in bar:
        bar.set_postfix_str(name)
        entry = run_notebook(name, prof.name, out, prof.notebook_timeout_s)
        # runs may span commits and thread counts (the kernel inherits OMP_NUM_THREADS; floats, and with them
        # near-tied choices such as notebook 06's genotypes, are reproducible at a fixed thread count only)
        entry.update(commit=manifest["commit"], dirty=manifest["dirty"],
                     torch_threads=manifest["device"]["torch_threads"])
        notebooks[name] = entry
        if entry["status"] != "ok":
            where = f", cell {entry['cell_index']}" if "cell_index" in entry else ""
            failures.append(f"notebooks/{name}.ipynb{where}: {entry['error']}")
            tqdm.write(f"FAILED notebooks/{name}.ipynb{where}: {entry['error']}")
    # Merge with the entries of earlier runs of this profile, read now so parallel runs keep each other's.
    old = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    manifest["notebooks"] = {**(old.get("notebooks", {}) if old.get("profile") == prof.name else {}),
                             **notebooks}
    notebooks = manifest["notebooks"]
    manifest["commits"] = sorted({e["commit"] for e in notebooks.values() if e.get("commit")})
    manifest["total_duration_s"] = round(sum(e.get("duration_s", 0) for e in notebooks.values()), 1)
    tmp = manifest_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    tmp.replace(manifest_path)
    try:
        from repro.report import write_report
    except ImportError:
        write_report = None
    if write_report is not None:
        write_report(out)
    missing = [a.id for a in artifacts.REGISTRY if a.notebook in names and not a.present(out)]
    print(f"run-all [{prof.name}]: {len(names) - len(failures)}/{len(names)} notebooks ok; "
          f"manifest {manifest_path}")
    if missing:
        print(f"artifacts still missing: {', '.join(missing)}")
    for f in failures:
        print(f"FAILED {f}", file=sys.stderr)
    return 1 if failures else 0
