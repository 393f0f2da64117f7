"""Layering (STYLE.md floors, issue 11 item 4): operators, spaces, supernets and cost models never import the
search strategies or the experiments, not even inside a function; the name registry imports nothing from repro."""
from __future__ import annotations

import ast
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]
LOWER_PACKAGES = ("repro/ops", "repro/spaces", "repro/supernets", "repro/models", "repro/cost")
UPPER_PACKAGES = ("repro.search", "repro.experiments")

def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports anywhere (top level or in a function), relative imports resolved.

    ``from a import b`` yields ``a``, or ``a.b`` when ``a`` is a package above the upper floors
    (``from repro import search``); ``importlib.import_module("x")`` yields ``x``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[: len(package) - node.level + 1] if node.level else [])
            module = ".".join(p for p in (base, node.module or "") if p)
            if any(p.startswith(module + ".") for p in UPPER_PACKAGES):
                found.update(f"{module}.{a.name}" for a in node.names)
            else:
                found.add(module)
        elif (isinstance(node, ast.Call)
              and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"
              and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            found.add(node.args[0].value)
    return found


def _is_upper(module: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in UPPER_PACKAGES)


def upward_imports() -> set[tuple[str, str]]:
    """(file, module) for every import of a search or experiments module from the lower floors."""
    files = [f for pkg in LOWER_PACKAGES for f in sorted((ROOT / pkg).rglob("*.py"))]
    return {(f.relative_to(ROOT).as_posix(), m) for f in files for m in imported_modules(f) if _is_upper(m)}


def test_lower_floors_do_not_import_search_or_experiments():
    unexpected = sorted(upward_imports())
    assert not unexpected, f"upward imports (move the code down a floor instead): {unexpected}"


def test_the_checker_sees_function_level_and_relative_imports(tmp_path, monkeypatch):
    pkg = tmp_path / "repro" / "cost"
    pkg.mkdir(parents=True)
    (pkg / "x.py").write_text("import torch\n\n\ndef f():\n    from .. import search\n"
                              "    from ..experiments.bitshift import run\n"
                              "    importlib.import_module('repro.search.dots')\n")
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    assert imported_modules(pkg / "x.py") == {"torch", "repro.search", "repro.experiments.bitshift",
                                               "repro.search.dots"}


def test_registry_imports_nothing_from_repro():
    assert not [m for m in imported_modules(ROOT / "repro" / "registry.py") if m.split(".")[0] == "repro"]


def test_a_studys_run_reads_none_of_its_tables_figures_or_claims():
    """experiments/<study>/ (issue 11 item 5): claims, tables and figures read run; run never reads them back."""
    back = []
    for run in sorted((ROOT / "repro" / "experiments").glob("*/run.py")):
        pkg = _module_name(run.parent)
        back += [(run.relative_to(ROOT).as_posix(), m) for m in imported_modules(run)
                 if m == pkg or (m.startswith(pkg + ".") and m != pkg + ".run")]
    assert not back, f"run.py imports its study's other parts: {back}"
