"""Native CPU kernels (``repro/ops/csrc/*.cpp``), compiled at first use with the machine's compiler through
:func:`torch.utils.cpp_extension.load` into ``build/torch_extensions`` (or ``$TORCH_EXTENSIONS_DIR``), one
folder per CPU model and instruction-set flags, so ``-march=native`` code never runs on a CPU it was not
built for. A kernel that cannot be built (no compiler, no ninja) is ``None`` with a warning: its callers fall
back to their PyTorch path."""
from __future__ import annotations

import functools
import hashlib
import os
import platform
import warnings
from pathlib import Path
from types import ModuleType

CSRC = Path(__file__).with_name("csrc")
CACHE_FILES = tuple(sorted(CSRC.glob("*.cpp")))  # part of every cached result's code version (repro.cache)


def cpu_key() -> str:
    """A short digest of this CPU's model and instruction-set flags (``/proc/cpuinfo`` where there is one)."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        info = sorted({line for line in lines if line.startswith(("model name", "flags", "Features"))})
    except OSError:
        info = [platform.processor()]
    return hashlib.sha1("\n".join([platform.machine(), *info]).encode()).hexdigest()[:10]


@functools.lru_cache(maxsize=None)
def load(name: str) -> ModuleType | None:
    """The compiled ``csrc/<name>.cpp`` as module ``repro_<name>``, or None (with a warning)."""
    from torch.utils import cpp_extension

    build = os.environ.get("TORCH_EXTENSIONS_DIR") or str(Path(__file__).resolve().parents[2] / "build" / "torch_extensions")
    folder = Path(build) / f"repro_{name}_{cpu_key()}"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        return cpp_extension.load(name=f"repro_{name}", sources=[str(CSRC / f"{name}.cpp")], build_directory=str(folder),
                                  extra_cflags=["-O3", "-fopenmp", "-march=native"], extra_ldflags=["-fopenmp"],
                                  verbose=False)
    except Exception as err:  # no compiler, no ninja, or a failed build: the caller falls back to PyTorch
        warnings.warn(f"repro.ops.native: the {name} kernel is unavailable ({type(err).__name__}: {err}); "
                      "using PyTorch", RuntimeWarning, stacklevel=3)
        return None
