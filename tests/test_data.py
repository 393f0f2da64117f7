"""Dataset readers on tiny fake datasets: CIFAR pickles (found and validated), an ImageNet folder tree,
WMT'14 text, IDX files."""
from __future__ import annotations

import gzip
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from repro.data import cifar, fashion_mnist, imagenet, wmt
from repro.data.errors import DataError, DatasetNotFound
from tests.fakes import write_cifar


@pytest.fixture(autouse=True)
def no_user_paths(monkeypatch):
    for var in (cifar.ENV_VAR, imagenet.ENV_VAR, wmt.ENV_VAR, fashion_mnist.ENV_VAR):
        monkeypatch.delenv(var, raising=False)


def test_cifar_env_var_and_the_extracted_folder_itself(tmp_path, monkeypatch):
    write_cifar(tmp_path, "cifar10", n_train=10, n_test=2)
    folder = tmp_path / "cifar-10-batches-py"
    assert cifar.find_root("cifar10", folder) == folder
    monkeypatch.setenv(cifar.ENV_VAR, str(tmp_path))
    assert cifar.find_root("cifar10") == folder


def test_cifar_missing_names_every_place(tmp_path, monkeypatch):
    with pytest.raises(DatasetNotFound) as err:
        cifar.find_root("cifar100")
    assert str(cifar.DATA_DIR / "cifar" / "cifar-100-python") in str(err.value)
    monkeypatch.setenv(cifar.ENV_VAR, str(tmp_path / "env"))
    with pytest.raises(DatasetNotFound) as err:
        cifar.find_root("cifar100", tmp_path / "arg")
    msg = str(err.value)
    assert str(tmp_path / "arg" / "cifar-100-python") in msg and "cs.toronto.edu" in msg
    assert str(tmp_path / "env") not in msg and str(cifar.DATA_DIR) not in msg  # the given place alone
    with pytest.raises(ValueError, match="valid: cifar10, cifar100"):
        cifar.find_root("cifar1000", tmp_path)
    write_cifar(tmp_path, "cifar10")
    (tmp_path / "cifar-10-batches-py" / "batches.meta").unlink()  # torchvision reads the meta file too
    with pytest.raises(DatasetNotFound):
        cifar.find_root("cifar10", tmp_path)


def write_imagenet(root: Path) -> None:
    from PIL import Image

    colours = {"n01": (255, 0, 0), "n02": (0, 0, 255)}
    for split in imagenet.SPLITS:
        for cls, rgb in colours.items():
            d = root / split / cls
            d.mkdir(parents=True)
            for k, size in enumerate([(40, 30), (30, 50)]):
                Image.new("RGB", size, rgb).save(d / f"img{k}.JPEG" if k == 0 else d / f"img{k}.png")
            (d / "notes.txt").write_text("not an image")


def test_imagenet_class_folders_through_torchvision(tmp_path):
    from repro.data import vision

    write_imagenet(tmp_path)
    ds = vision.imagenet_dataset("val", tmp_path, image_size=16)
    assert ds.classes == ["n01", "n02"] and len(ds) == 4  # the .txt file is not an image
    assert [label for _, label in ds.samples] == [0, 0, 1, 1]
    x, label = ds[3]
    assert x.shape == (3, 16, 16) and label == 1
    mean, std = torch.tensor(imagenet.MEAN), torch.tensor(imagenet.STD)
    blue = (torch.tensor([0.0, 0.0, 1.0]) - mean) / std
    assert torch.allclose(x.mean(dim=(1, 2)), blue, atol=1e-3)


def test_imagenet_errors(tmp_path, monkeypatch):
    monkeypatch.setenv(imagenet.ENV_VAR, str(tmp_path / "env"))
    from repro.data import vision

    with pytest.raises(DatasetNotFound) as err:
        vision.imagenet_dataset("val", tmp_path / "arg")
    msg = str(err.value)
    for place in (tmp_path / "arg" / "train", tmp_path / "arg" / "val", "image-net.org"):
        assert str(place) in msg
    assert str(tmp_path / "env") not in msg
    with pytest.raises(ValueError, match="valid splits: train, val"):
        vision.imagenet_dataset("test", tmp_path)


def test_wmt14_reads_raw_parallel_text(tmp_path, monkeypatch):
    (tmp_path / "en-de").mkdir()
    (tmp_path / "en-de" / "test.en").write_text("Hello world .\nGood morning\n")
    (tmp_path / "en-de" / "test.de").write_text("Hallo Welt .\nGuten Morgen\n")
    assert wmt.load_wmt14("en-de", "test", tmp_path) == [("Hello world .", "Hallo Welt ."),
                                                         ("Good morning", "Guten Morgen")]
    monkeypatch.setenv(wmt.ENV_VAR, str(tmp_path))
    assert wmt.load_wmt14("en-de", "test", max_pairs=1) == [("Hello world .", "Hallo Welt .")]
    with pytest.raises(DatasetNotFound) as err:
        wmt.load_wmt14("en-fr", "train", tmp_path / "arg")
    msg = str(err.value)
    arg = tmp_path / "arg" / "en-fr"
    for place in (arg / "train.en", arg / "train.fr", "statmt.org"):
        assert str(place) in msg
    assert f"{tmp_path / 'en-fr'}" not in msg
    with pytest.raises(ValueError, match="valid pairs"):
        wmt.load_wmt14("de-en", "test", tmp_path)


def write_idx(path: Path, array: np.ndarray) -> None:
    """An IDX file from its description: 0, 0, type 0x08 (ubyte), ndim; big-endian dims; the bytes."""
    head = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as fh:
        fh.write(head + array.astype(np.uint8).tobytes())


def test_fashion_mnist_reads_idx_and_takes_a_stratified_subset(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    arrays = {"train": (rng.integers(0, 256, (50, 28, 28)), np.arange(50) % 10),
              "test": (rng.integers(0, 256, (20, 28, 28)), np.arange(20) % 10)}
    for split, (images, labels) in arrays.items():
        write_idx(tmp_path / fashion_mnist.FILES[split][0], images)
        write_idx(tmp_path / fashion_mnist.FILES[split][1], labels)
    monkeypatch.setenv(fashion_mnist.ENV_VAR, str(tmp_path))
    x, y = fashion_mnist.load_fashion_mnist("test", normalize=False).tensors
    assert x.shape == (20, 1, 28, 28) and y.tolist() == arrays["test"][1].tolist()
    assert x[3, 0, 4, 5].item() == pytest.approx(arrays["test"][0][3, 4, 5] / 255.0)
    _, y_sub = fashion_mnist.load_fashion_mnist("train", subset=23).tensors
    assert len(y_sub) == 23 and np.bincount(y_sub.numpy(), minlength=10).tolist() == [3, 3, 3] + [2] * 7
    with pytest.raises(ValueError, match="valid splits"):
        fashion_mnist.load_fashion_mnist("val")


def test_fashion_mnist_missing_names_every_place(tmp_path, monkeypatch):
    monkeypatch.setattr(fashion_mnist, "DEBIAN_DIR", tmp_path / "debian")
    monkeypatch.setattr(fashion_mnist, "DATA_DIR", tmp_path / "data")
    with pytest.raises(DatasetNotFound) as err:
        fashion_mnist.find_root()
    for place in (tmp_path / "data" / "fashion-mnist", tmp_path / "debian", "dataset-fashion-mnist"):
        assert str(place) in str(err.value)


def test_a_user_set_location_without_data_is_an_error_never_replaced(tmp_path, monkeypatch):
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv(fashion_mnist.ENV_VAR, str(tmp_path / "empty"))  # Debian's copy may well be there
    with pytest.raises(DatasetNotFound) as err:
        fashion_mnist.find_root()
    assert err.value.looked_in == [str(tmp_path / "empty")]
    assert f"${fashion_mnist.ENV_VAR} is set" in str(err.value)


def write_fashion(root: Path, n: dict[str, int]) -> None:
    rng = np.random.default_rng(0)
    for split, (images, labels) in fashion_mnist.FILES.items():
        write_idx(root / images, rng.integers(0, 256, (n[split], 28, 28)))
        write_idx(root / labels, np.arange(n[split]) % 10)


@pytest.mark.parametrize("how", ["truncated", "empty", "garbage", "gzip of garbage", "wrong count"])
def test_broken_fashion_mnist_file_is_named_with_the_fix(tmp_path, monkeypatch, how):
    write_fashion(tmp_path, {"train": 20, "test": 10})
    path = tmp_path / fashion_mnist.FILES["test"][0]
    data = path.read_bytes()
    if how == "gzip of garbage":
        with gzip.open(path, "wb") as fh:
            fh.write(b"\x01\x02\x03\x04 not idx")
    elif how == "wrong count":
        write_idx(path, np.zeros((9, 28, 28)))
        path = tmp_path / fashion_mnist.FILES["test"][1]  # 10 labels for 9 images: the labels are named
    else:
        path.write_bytes({"truncated": data[: len(data) // 2], "empty": b"", "garbage": b"junk" * 10}[how])
    monkeypatch.setenv(fashion_mnist.ENV_VAR, str(tmp_path))
    with pytest.raises(DataError) as err:
        fashion_mnist.load_fashion_mnist("test")
    assert err.value.path == str(path) and "Fix: replace it with the original file" in str(err.value)
    assert str(path) in [e.path for e in fashion_mnist.verify(tmp_path)]


def test_fashion_mnist_verify_checks_counts_and_sha256(tmp_path):
    write_fashion(tmp_path, {"train": 20, "test": 10})
    problems = fashion_mnist.verify(tmp_path)
    assert [p.problem for p in problems] == ["holds 20 images, not 60000", "holds 10 images, not 10000"]
    write_fashion(tmp_path, fashion_mnist.COUNTS)  # the right shapes, but not the original bytes
    (sha,) = {p.path: p for p in fashion_mnist.verify(tmp_path)}.values()
    assert sha.path == str(tmp_path / "train-images-idx3-ubyte.gz")
    assert "not the original's b0564c3e" in sha.problem


@pytest.mark.parametrize("broken", ["sound", "bytes keys", "no labels", "truncated", "wrong shape",
                                    "class names"])
def test_cifar_verify_reads_what_torchvision_reads_and_names_a_broken_file(tmp_path, broken):
    write_cifar(tmp_path, "cifar10", n_train=100, n_test=2)
    folder = tmp_path / "cifar-10-batches-py"
    path = folder / ("batches.meta" if broken == "class names" else "test_batch")
    batch = pickle.loads(path.read_bytes())
    if broken == "bytes keys":  # re-pickled after loading with encoding="bytes": torchvision cannot read it
        batch = {k.encode(): v for k, v in batch.items()}
    elif broken == "no labels":
        del batch["labels"]
    elif broken == "wrong shape":
        batch["data"] = batch["data"][:, :100]
    elif broken == "class names":
        batch["label_names"] = batch["label_names"][:9]
    path.write_bytes(pickle.dumps(batch)[: 40 if broken == "truncated" else None])
    if broken == "sound":
        assert cifar.verify("cifar10", tmp_path) == f"{folder} (10 classes; train 100, test 2)"
        return
    with pytest.raises(DataError) as err:
        cifar.verify("cifar10", tmp_path)
    assert err.value.path == str(path) and "cs.toronto.edu" in err.value.fix


def test_imagenet_verify_counts_classes_and_decodes_a_sample(tmp_path):
    write_imagenet(tmp_path)
    assert imagenet.verify(tmp_path) == f"{tmp_path} (2 classes; train 4, val 4 images)"
    for p in (tmp_path / "train" / "n01").iterdir():
        p.write_bytes(b"not a jpeg")
    with pytest.raises(DataError, match="cannot be decoded") as err:
        imagenet.verify(tmp_path)
    assert err.value.path == str(tmp_path / "train" / "n01" / "img0.JPEG")
    (tmp_path / "val" / "n03").mkdir()
    with pytest.raises(DataError, match="train/ has 2 classes and val/ 3 .in one only: n03"):
        imagenet.verify(tmp_path)


def test_data_check_reads_the_data_and_fails_on_a_user_set_place(tmp_path, monkeypatch, capsys):
    from repro.data import cli, corpus

    expected = write_cifar(tmp_path, "cifar10", n_train=100, n_test=20)
    assert len(np.unique(expected["train"][1])) == 10
    monkeypatch.setenv(cifar.ENV_VAR, str(tmp_path))
    monkeypatch.setattr(cli, "verify_fashion", lambda: True)
    assert cli.main(["check"]) == 0
    out = capsys.readouterr().out
    assert f"CIFAR-10: {tmp_path / 'cifar-10-batches-py'} (10 classes; train 100, test 20)" in out
    assert "CIFAR-100: not supplied (only the paper profile needs it: not in $REPRO_CIFAR)" in out
    assert "ImageNet: not supplied" in out and "$REPRO_WMT14" in out
    monkeypatch.setenv(imagenet.ENV_VAR, str(tmp_path / "nothing"))
    assert cli.main(["check"]) == 1
    assert f"{tmp_path / 'nothing' / 'train'}" in capsys.readouterr().err
    monkeypatch.delenv(imagenet.ENV_VAR)
    monkeypatch.setattr(corpus, "CORPUS_DIR", tmp_path / "no-corpus")
    assert cli.main(["check"]) == 1
    assert "build-corpus" in capsys.readouterr().err


def test_data_check_on_a_broken_fashion_mnist_exits_one(tmp_path, monkeypatch, capsys):
    from repro.data import cli

    write_fashion(tmp_path, {"train": 20, "test": 10})
    (tmp_path / fashion_mnist.FILES["train"][1]).write_bytes(b"")
    monkeypatch.setenv(fashion_mnist.ENV_VAR, str(tmp_path))
    assert cli.main(["check"]) == 1
    err = capsys.readouterr().err
    assert f"{tmp_path / 'train-labels-idx1-ubyte.gz'}: " in err and "Traceback" not in err
