"""The input-hashed cache: reuse, keying, resume after an interruption, atomic writes."""
from __future__ import annotations

import pytest
import torch

from repro import cache


def test_cached_computes_once_per_key(tmp_path):
    calls = []

    def compute(ckpt):
        calls.append(1)
        return {"value": len(calls)}

    first = cache.cached("step", {"lr": 0.1, "epochs": 2}, compute, directory=tmp_path)
    again = cache.cached("step", {"epochs": 2, "lr": 0.1}, compute, directory=tmp_path)  # same key, reordered
    other = cache.cached("step", {"lr": 0.2, "epochs": 2}, compute, directory=tmp_path)
    assert first == again == {"value": 1} and other == {"value": 2}
    assert len(calls) == 2
    assert len(list(tmp_path.glob("step-*.pt"))) == 2


def test_cached_uses_the_cache_dir_by_default(tmp_path, monkeypatch):
    monkeypatch.setenv("REPRO_CACHE", str(tmp_path / "c"))
    assert cache.cached("env", 1, lambda ckpt: 42) == 42
    assert len(list((tmp_path / "c").glob("env-*.pt"))) == 1


def test_key_hash_is_order_independent_and_sensitive_to_values():
    assert cache.key_hash({"a": 1, "b": [1, 2]}) == cache.key_hash({"b": [1, 2], "a": 1})
    assert cache.key_hash({"a": 1}) != cache.key_hash({"a": 2})


def test_interrupted_step_resumes_from_its_checkpoint(tmp_path):
    """Epochs 0-2 run, a checkpoint after each; the run dies in epoch 3; the rerun starts at epoch 3."""
    seen = []
    crash = {"at": 3}

    def train(ckpt):
        state = ckpt.load() or {"epoch": 0, "total": 0}
        for epoch in range(state["epoch"], 5):
            if epoch == crash["at"]:
                raise KeyboardInterrupt("killed")
            seen.append(epoch)
            state = {"epoch": epoch + 1, "total": state["total"] + epoch}
            ckpt.save(state)
        return state["total"]

    with pytest.raises(KeyboardInterrupt):
        cache.cached("train", {"epochs": 5}, train, directory=tmp_path)
    assert seen == [0, 1, 2] and len(list(tmp_path.glob("train-*.ckpt"))) == 1
    crash["at"] = None
    assert cache.cached("train", {"epochs": 5}, train, directory=tmp_path) == 0 + 1 + 2 + 3 + 4
    assert seen == [0, 1, 2, 3, 4]                       # epochs 0-2 were not run again
    assert not list(tmp_path.glob("train-*.ckpt"))       # the checkpoint is cleared once the result is stored
    assert cache.cached("train", {"epochs": 5}, train, directory=tmp_path) == 10
    assert seen == [0, 1, 2, 3, 4]                       # and the result is reused


def test_atomic_save_leaves_no_partial_file(tmp_path, monkeypatch):
    target = tmp_path / "state.pt"
    cache.atomic_save({"v": 1}, target)

    def dies_midway(obj, fh):
        fh.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", dies_midway)
    with pytest.raises(OSError, match="disk full"):
        cache.atomic_save({"v": 2}, target)
    monkeypatch.undo()
    assert cache.load(target) == {"v": 1}                 # the old file is intact
    assert [p.name for p in tmp_path.iterdir()] == ["state.pt"]  # and no temporary file is left


def test_checkpoint_round_trip(tmp_path):
    ckpt = cache.Checkpoint(tmp_path / "x.ckpt")
    assert ckpt.load() is None
    ckpt.save({"w": torch.arange(3)})
    assert torch.equal(ckpt.load()["w"], torch.arange(3))
    ckpt.clear()
    assert ckpt.load() is None


def test_code_version_of_a_function_without_a_source_file_is_stable():
    """A function defined in a notebook cell (here: by exec) must not be keyed by its memory address."""
    def define(body: str):
        ns: dict = {}
        exec(f"def compute(ckpt):\n    return {body}", ns)
        return ns["compute"]

    assert cache.code_version(define("1")) == cache.code_version(define("1"))
    assert cache.code_version(len) == cache.code_version(len)


def test_code_version_follows_the_source_of_a_notebook_cell():
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    versions = []
    for body in ("1", "1", "2"):
        shell.run_cell(f"def compute(ckpt):\n    return {body}")
        versions.append(cache.code_version(shell.user_ns["compute"]))
    assert versions[0] == versions[1] != versions[2]


def _package(root, name: str, files: dict[str, str]):
    """Write package ``name`` under ``root`` with ``files`` (module name -> source)."""
    pkg = root / name
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    for module, source in files.items():
        (pkg / f"{module}.py").write_text(source)
    return pkg


def test_code_version_follows_what_a_module_imports_from_its_package(tmp_path, monkeypatch):
    """An edit to a module imported transitively (at the top or inside a function, absolutely or relatively)
    changes the version; an edit to a module of the package that is not imported does not."""
    pkg = _package(tmp_path, "cachepkg_imports", {
        "a": "from cachepkg_imports import b\n\n\ndef compute(ckpt):\n    from .c import f\n    return b.g() + f()\n",
        "b": "import cachepkg_imports.d\n\n\ndef g():\n    return 1\n",
        "c": "def f():\n    return 2\n",
        "d": "X = 1\n",
        "unrelated": "Y = 1\n"})
    monkeypatch.syspath_prepend(str(tmp_path))
    from cachepkg_imports import a

    base = cache.code_version(a.compute)
    assert cache.code_version(a) == base
    versions = {}
    for module in ("b", "c", "d", "unrelated"):
        path = pkg / f"{module}.py"
        original = path.read_text()
        path.write_text(original + "# edited\n")
        versions[module] = cache.code_version(a.compute)
        path.write_text(original)
    assert base not in (versions["b"], versions["c"], versions["d"])
    assert versions["unrelated"] == base == cache.code_version(a.compute)


def test_code_version_includes_the_files_a_module_names_in_cache_files(tmp_path, monkeypatch):
    kernel = tmp_path / "kernel.cpp"
    kernel.write_text("int f() { return 1; }\n")
    _package(tmp_path, "cachepkg_native", {"native": f"CACHE_FILES = ({str(kernel)!r},)\n",
                                           "op": "from cachepkg_native import native\n\n\ndef compute(ckpt):\n"
                                                 "    return 1\n"})
    monkeypatch.syspath_prepend(str(tmp_path))
    from cachepkg_native import op

    before = cache.code_version(op.compute)
    kernel.write_text("int f() { return 2; }\n")
    assert cache.code_version(op.compute) != before


def test_the_native_kernel_sources_are_part_of_the_adder_and_sharing_versions():
    from repro.ops import native

    for module in ("repro.ops.adder", "repro.ops.weight_sharing"):
        files = cache._closure(module)
        assert set(native.CACHE_FILES) <= set(files) and native.CACHE_FILES
        assert {p.name for p in native.CACHE_FILES} == {"adder.cpp", "sharing.cpp"}


def damage(path, how: str) -> None:
    """Truncate ``path`` to half its bytes, empty it, or overwrite it with garbage."""
    data = path.read_bytes()
    path.write_bytes({"truncated": data[: len(data) // 2], "empty": b"", "garbage": b"not a torch file"}[how])


@pytest.mark.parametrize("how", ["truncated", "empty", "garbage"])
def test_unreadable_result_is_named_moved_aside_and_recomputed(tmp_path, how):
    calls = []

    def compute(ckpt):
        calls.append(1)
        return {"w": torch.arange(1000)}

    cache.cached("step", 1, compute, directory=tmp_path)
    (entry,) = tmp_path.glob("step-*.pt")
    damage(entry, how)
    with pytest.warns(cache.CorruptEntryWarning, match=str(entry)):
        again = cache.cached("step", 1, compute, directory=tmp_path)
    assert torch.equal(again["w"], torch.arange(1000)) and len(calls) == 2
    assert (tmp_path / f"{entry.name}.corrupt-1").exists() and cache.load(entry)["w"].shape == (1000,)


@pytest.mark.parametrize("how", ["truncated", "empty", "garbage"])
def test_unreadable_checkpoint_resumes_from_the_one_before(tmp_path, how):
    ckpt = cache.Checkpoint(tmp_path / "train.ckpt")
    ckpt.save({"epoch": 1, "pad": torch.zeros(1000)})
    ckpt.save({"epoch": 2, "pad": torch.zeros(1000)})
    damage(ckpt.path, how)
    with pytest.warns(cache.CorruptEntryWarning, match=str(ckpt.path)):
        assert ckpt.load()["epoch"] == 1
    assert (tmp_path / "train.ckpt.corrupt-1").exists()
    damage(ckpt.previous, how)
    with pytest.warns(cache.CorruptEntryWarning, match=str(ckpt.previous)):
        assert ckpt.load() is None                       # nothing readable left: start from scratch
    assert (tmp_path / "train.ckpt.prev.corrupt-1").exists()


def test_cached_step_with_an_unreadable_checkpoint_recomputes(tmp_path):
    def train(ckpt):
        state = ckpt.load() or {"epoch": 0}
        for epoch in range(state["epoch"], 3):
            ckpt.save({"epoch": epoch + 1})
            if epoch == 1 and not resumed:
                raise KeyboardInterrupt
        return "done"

    resumed = False
    with pytest.raises(KeyboardInterrupt):
        cache.cached("t", 1, train, directory=tmp_path)
    (ckpt,) = tmp_path.glob("t-*.ckpt")
    damage(ckpt, "empty")
    resumed = True
    with pytest.warns(cache.CorruptEntryWarning, match=str(ckpt)):
        assert cache.cached("t", 1, train, directory=tmp_path) == "done"
    assert not ckpt.exists() and not list(tmp_path.glob("t-*.ckpt.prev"))
