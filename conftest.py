"""Test settings, at the repository root so they also reach the notebooks nbval collects.

Notebooks run in the smoke profile and write into a temporary folder. Unit tests run torch on one
intra-op thread: their tensors are tiny, and two threads fight over a shared 2-core machine.

The committed ``figures/`` is never touched by tests: ``REPRO_OUT`` and ``REPRO_CACHE`` point at a
session-wide temporary folder before any notebook kernel starts (kernels inherit the environment).
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

_TMP = tempfile.mkdtemp(prefix="repro-tests-")


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("REPRO_PROFILE", "smoke")
    os.environ["REPRO_OUT"] = os.path.join(_TMP, "figures")
    os.environ["REPRO_CACHE"] = os.path.join(_TMP, "cache")
    os.environ["REPRO_BUILD"] = os.path.join(_TMP, "build")
    os.environ.setdefault("MPLBACKEND", "Agg")
    import torch

    torch.set_num_threads(1)


#: Seconds nbval waits for each output message of a cell after the cell's reply. nbval 0.11 hard-codes 5
#: (``IPyNbCell.output_timeout``; computationalmodelling/nbval#136 and #231): on a busy 2-core CI machine
#: the outputs of a long cell (progress bars of several searches) once took longer and failed notebook 04.
NBVAL_OUTPUT_TIMEOUT_S = 60


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if hasattr(item, "output_timeout"):  # an nbval notebook cell
            item.output_timeout = NBVAL_OUTPUT_TIMEOUT_S


@pytest.fixture
def out_dir(tmp_path):
    """A fresh artifact folder for one test."""
    return tmp_path / "figures"


@pytest.fixture
def run_worker(tmp_path):
    """Run a worker script as ``python SCRIPT PORT FOLDER`` (a free local port for gloo) and return FOLDER."""
    def run(source: str) -> Path:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        script = tmp_path / "worker.py"
        script.write_text(source)
        proc = subprocess.run([sys.executable, str(script), str(port), str(tmp_path)],
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
        return tmp_path
    return run
