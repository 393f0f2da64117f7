"""The torchvision/timm image pipelines on the fakes of tests/fakes.py, and the epoch-seeded batch stream."""
from __future__ import annotations

import pickle
import re
from collections import Counter

import numpy as np
import pytest
import torch
from torch.utils.data import TensorDataset

from repro.data import cifar, imagenet, vision
from repro.data.errors import DataError, DatasetNotFound
from tests.fakes import write_cifar, write_imagenet, write_wmt14


@pytest.fixture(autouse=True)
def no_user_paths(monkeypatch):
    for var in (cifar.ENV_VAR, imagenet.ENV_VAR):
        monkeypatch.delenv(var, raising=False)


def test_imagenet_folder_round_trip_classes_labels_and_shapes(tmp_path):
    written = write_imagenet(tmp_path, classes=3, per_class=2, size=40)
    wnids = sorted({w for _, w in written["train"]})
    for split, recipe in (("train", "deit"), ("train", "basic"), ("val", "deit")):
        ds = vision.imagenet_dataset(split, tmp_path, image_size=32, train_recipe=recipe)
        assert ds.classes == wnids and len(ds) == len(written[split])
        assert [p for p, _ in ds.samples] == [str(p) for p, _ in written[split]]
        assert Counter(ds.classes[t] for t in ds.targets) == Counter(w for _, w in written[split])
        x, label = ds[len(ds) - 1]
        assert x.shape == (3, 32, 32) and x.dtype == torch.float32 and label == 2
        assert pickle.loads(pickle.dumps(ds)).samples == ds.samples  # workers started by spawn get a copy


def test_imagenet_eval_transform_is_deits_and_deterministic_train_is_not(tmp_path):
    from PIL import Image

    written = write_imagenet(tmp_path, classes=1, per_class=1, size=40)
    val = vision.imagenet_dataset("val", tmp_path, image_size=32)
    assert torch.equal(val[0][0], val[0][0])
    # reference: shorter side to int(32 / 0.875) = 36 (bicubic, Pillow), centre 32 x 32, standardised
    image = Image.open(written["val"][0][0]).convert("RGB").resize((36, 36), Image.Resampling.BICUBIC)
    ref = torch.from_numpy(np.asarray(image, dtype=np.float32)[2:34, 2:34] / 255.0).permute(2, 0, 1)
    ref = (ref - torch.tensor(imagenet.MEAN).view(3, 1, 1)) / torch.tensor(imagenet.STD).view(3, 1, 1)
    assert (val[0][0] - ref).abs().mean() < 0.01  # bilinear would be 0.03 off
    torch.manual_seed(0)
    for recipe in vision.RECIPES:
        train = vision.imagenet_dataset("train", tmp_path, image_size=32, train_recipe=recipe)
        assert not torch.equal(train[0][0], train[0][0])
    with pytest.raises(ValueError, match="valid recipes: deit, basic"):
        vision.imagenet_dataset("train", tmp_path, train_recipe="autoaugment")
    with pytest.raises(ValueError, match="valid splits: train, val"):
        vision.imagenet_dataset("test", tmp_path)


def test_imagenet_corrupt_jpeg_missing_root_and_empty_class(tmp_path):
    written = write_imagenet(tmp_path, classes=2, per_class=2)
    bad = written["val"][1][0]
    bad.write_bytes(b"\xff\xd8 not really a jpeg")
    ds = vision.imagenet_dataset("val", tmp_path, image_size=16)
    ds[0]
    with pytest.raises(DataError, match="cannot be decoded") as err:
        ds[1]
    assert err.value.path == str(bad)
    stream = vision.batch_stream(ds, vision.LoaderConfig(batch_size=2, workers=2))()
    with pytest.raises(RuntimeError, match=re.escape(f"DataError: {bad}: cannot be decoded")):  # torch's wrapper
        for _ in range(2):  # one epoch: the bad file is in one of its two batches
            next(stream)
    stream.close()
    with pytest.raises(DatasetNotFound) as err:
        vision.imagenet_dataset("train", tmp_path / "nowhere")
    assert str(tmp_path / "nowhere" / "train") in str(err.value) and "image-net.org" in str(err.value)
    for p, _ in written["val"][2:]:  # the second class of val/ left without images
        p.unlink()
    with pytest.raises(DataError, match="class without images") as err:
        vision.imagenet_dataset("val", tmp_path)
    assert err.value.path == str(tmp_path / "val")


@pytest.mark.parametrize("name", ["cifar10", "cifar100"])
def test_cifar_round_trip_through_torchvision(tmp_path, name):
    expected = write_cifar(tmp_path, name, n_train=8, n_test=4)
    mean, std = torch.tensor(cifar.MEAN[name]).view(3, 1, 1), torch.tensor(cifar.STD[name]).view(3, 1, 1)
    for split, (images, labels) in expected.items():
        ds = vision.cifar_dataset(name, split, tmp_path, augment=False)
        assert len(ds) == len(labels) and ds.targets == labels.tolist()
        assert len(ds.classes) == cifar.CLASSES[name]
        x, y = ds[len(ds) - 1]
        raw = torch.from_numpy(images[-1].astype(np.float32) / 255.0).permute(2, 0, 1)
        assert y == labels[-1] and torch.allclose(x * std + mean, raw, atol=1e-5)
    # the extracted folder itself works too; the augmented train split keeps the shape
    train = vision.cifar_dataset(name, "train", tmp_path / cifar.FOLDERS[name], cutout=True)
    assert train[0][0].shape == (3, 32, 32)


def test_cifar_missing_and_unreadable(tmp_path):
    with pytest.raises(DatasetNotFound) as err:
        vision.cifar_dataset("cifar100", "train", tmp_path)
    assert str(tmp_path / "cifar-100-python") in str(err.value) and "cs.toronto.edu" in str(err.value)
    write_cifar(tmp_path, "cifar10")
    (tmp_path / "cifar-10-batches-py" / "batches.meta").unlink()  # torchvision needs the meta file too
    with pytest.raises(DatasetNotFound):
        vision.cifar_dataset("cifar10", "test", tmp_path)
    write_cifar(tmp_path, "cifar10")
    path = tmp_path / "cifar-10-batches-py" / "test_batch"
    batch = pickle.loads(path.read_bytes())
    path.write_bytes(pickle.dumps({k.encode(): v for k, v in batch.items()}))  # bytes keys: not the original
    with pytest.raises(DataError, match="torchvision cannot read") as err:
        vision.cifar_dataset("cifar10", "test", tmp_path)
    assert err.value.path == str(tmp_path / "cifar-10-batches-py")
    with pytest.raises(ValueError, match="valid splits: train, test"):
        vision.cifar_dataset("cifar10", "val", tmp_path)
    with pytest.raises(ValueError, match="valid: cifar10, cifar100"):
        vision.cifar_dataset("cifar1000", "train", tmp_path)


def test_cutout_zeroes_one_clipped_square_on_every_channel():
    torch.manual_seed(0)
    cut = vision.Cutout(16)
    areas = set()
    for _ in range(300):
        out = cut(torch.ones(3, 32, 32))
        zero = out == 0
        assert torch.equal(zero[0], zero[1]) and torch.equal(zero[0], zero[2])
        rows, cols = zero[0].any(1).nonzero().flatten(), zero[0].any(0).nonzero().flatten()
        h, w = len(rows), len(cols)
        assert 8 <= h <= 16 and 8 <= w <= 16 and int(zero[0].sum()) == h * w  # one rectangle
        assert rows[-1] - rows[0] == h - 1 and cols[-1] - cols[0] == w - 1
        areas.add(h * w)
    assert max(areas) == 256 and min(areas) < 256


def test_batch_stream_epoch_order_is_a_pure_function_of_seed_and_epoch(monkeypatch):
    data = TensorDataset(torch.arange(10))

    def first(stream, n):
        it = stream()
        return [next(it)[0].tolist() for _ in range(n)]

    cfg = vision.LoaderConfig(batch_size=3, drop_last=False, seed=7)
    batches = first(vision.batch_stream(data, cfg), 8)  # 4 batches an epoch
    assert batches == first(vision.batch_stream(data, cfg), 8)
    for epoch in (0, 1):  # DistributedSampler: randperm under a generator seeded seed + epoch
        perm = torch.randperm(10, generator=torch.Generator().manual_seed(7 + epoch)).tolist()
        assert sum(batches[4 * epoch: 4 * epoch + 4], []) == perm
    assert batches[:4] != batches[4:]
    assert first(vision.batch_stream(data, vision.LoaderConfig(3, drop_last=False, seed=8)), 8) != batches
    dropped = first(vision.batch_stream(data, vision.LoaderConfig(3, seed=7)), 6)
    assert all(len(b) == 3 for b in dropped) and dropped[3:] == [batches[4], batches[5], batches[6]]

    monkeypatch.setattr(torch.distributed, "is_initialized", lambda: True)  # a fake 2-rank group, rank 1
    monkeypatch.setattr(torch.distributed, "get_world_size", lambda: 2)
    monkeypatch.setattr(torch.distributed, "get_rank", lambda: 1)
    assert first(vision.batch_stream(data, cfg), 4) == batches[:4]  # shard=False: the engine splits
    shard = first(vision.batch_stream(data, vision.LoaderConfig(5, seed=7), shard=True), 1)
    assert shard == [sum(batches[:4], [])[1::2]]


def test_batch_stream_with_two_workers_repeats_data_and_augmentation(tmp_path):
    expected = write_cifar(tmp_path, "cifar10", n_train=8)
    ds = vision.cifar_dataset("cifar10", "train", tmp_path, cutout=True)
    assert pickle.loads(pickle.dumps(ds)).targets == ds.targets  # workers started by spawn get a copy
    cfg = vision.LoaderConfig(batch_size=4, workers=2, seed=3)
    runs = []
    for _ in range(2):
        it = vision.batch_stream(ds, cfg)()
        runs.append([next(it) for _ in range(3)])
        it.close()
    for (xa, ya), (xb, yb) in zip(*runs):
        assert xa.shape == (4, 3, 32, 32) and torch.equal(xa, xb) and torch.equal(ya, yb)
    assert sorted(torch.cat([y for _, y in runs[0][:2]]).tolist()) == sorted(expected["train"][1].tolist())


def test_batch_stream_and_loader_config_errors():
    with pytest.raises(ValueError, match="make no batch of 4"):
        next(vision.batch_stream(TensorDataset(torch.arange(3)), vision.LoaderConfig(4))())
    for bad in ({"batch_size": 0}, {"batch_size": 2, "workers": -1}, {"batch_size": 2.0},
                {"batch_size": 2, "seed": -1}):
        with pytest.raises(ValueError, match=f"LoaderConfig.{[k for k in bad][-1]} must be an integer"):
            vision.LoaderConfig(**bad)
    with pytest.raises(ValueError, match="LoaderConfig.pin_memory must be True or False"):
        vision.LoaderConfig(2, pin_memory="yes")


def test_mixup_mixes_images_and_labels_with_one_lambda():
    torch.manual_seed(0)
    x, y = torch.randn(6, 3, 8, 8), torch.tensor([0, 1, 2, 3, 4, 0])
    mixed, soft = vision.mixup_fn(5)(x.clone(), y)
    assert mixed.shape == x.shape and soft.shape == (6, 5)
    assert torch.allclose(soft.sum(1), torch.ones(6)) and soft.min() >= 0.1 / 5 - 1e-6
    # mixup alone, no smoothing: x' = lam x + (1 - lam) x.flip(0), y' the same mix of one-hot labels
    mixed, soft = vision.mixup_fn(5, mixup=0.8, cutmix=0.0, label_smoothing=0.0)(x.clone(), y)
    onehot = torch.nn.functional.one_hot(y, 5).float()
    lam = float(soft[1, 1])  # sample 1 (class 1) is mixed with sample 4 (class 4)
    assert torch.allclose(soft, lam * onehot + (1 - lam) * onehot.flip(0), atol=1e-6)
    assert torch.allclose(mixed, lam * x + (1 - lam) * x.flip(0), atol=1e-5)


def test_wmt14_fake_reads_back(tmp_path):
    from repro.data import wmt

    for pair in ("en-de", "en-fr"):
        written = write_wmt14(tmp_path, pair, n=5)
        for split, pairs in written.items():
            assert wmt.load_wmt14(pair, split, tmp_path) == pairs and len(pairs) == 5


@pytest.mark.parametrize("name", ["cifar10", "cifar100"])
def test_notebook_06_reads_cifar_at_paper_scale_through_torchvision(tmp_path, name):
    from torch.utils.data import Subset
    from torchvision.transforms import v2

    from repro.experiments.bitshift import run as bitshift
    from repro.profiles import get_profile

    expected = write_cifar(tmp_path, name, n_train=10, n_test=4)
    profile = get_profile("paper", {"data.cifar_root": str(tmp_path), "bitshift.dataset": name})
    train, test = bitshift.load_data(bitshift.BitshiftStudy.from_profile(profile))
    assert type(train) is type(test) is vision._CIFAR[name] and (len(train), len(test)) == (10, 4)
    assert train.train and not test.train and train.targets == expected["train"][1].tolist()

    def steps(transform: v2.Compose) -> list[type]:
        return [type(t) for t in transform.transforms]

    assert steps(train.transform) == steps(vision.cifar_transform(name, True))  # DARTS' crop and flip
    assert {v2.RandomCrop, v2.RandomHorizontalFlip} <= set(steps(train.transform))
    assert vision.Cutout not in steps(train.transform)  # the search's transform (DARTS, DOTS: no Cutout)
    assert steps(test.transform) == steps(vision.cifar_transform(name, False))
    assert v2.RandomCrop not in steps(test.transform)
    mean, std = torch.tensor(cifar.MEAN[name]).view(3, 1, 1), torch.tensor(cifar.STD[name]).view(3, 1, 1)
    x, y = test[3]
    raw = torch.from_numpy(expected["test"][0][3].astype(np.float32) / 255.0).permute(2, 0, 1)
    assert y == expected["test"][1][3] and torch.allclose(x * std + mean, raw, atol=1e-5)
    # the search: the augmented training images in two fixed halves (Appendix A), the test set for accuracy
    data = bitshift.search_data(train, test)
    assert data.train.dataset is data.val.dataset is train and data.test is test
    assert (list(data.train.indices), list(data.val.indices)) == ([0, 1, 2, 3, 4], [5, 6, 7, 8, 9])
    assert bitshift._shape(train) == (3, cifar.CLASSES[name])
    # a training subset: a seeded Subset of the torchvision dataset
    small = get_profile("paper", {"data.cifar_root": str(tmp_path), "bitshift.dataset": name,
                                  "bitshift.train_subset": 6, "seed": 1})
    sub, _ = bitshift.load_data(bitshift.BitshiftStudy.from_profile(small))
    assert isinstance(sub, Subset) and type(sub.dataset) is vision._CIFAR[name]
    assert sub.indices == torch.randperm(10, generator=torch.Generator().manual_seed(1))[:6].tolist()
    assert bitshift._shape(sub) == (3, cifar.CLASSES[name])


def test_bitshift_evaluation_trainings_add_cutout_on_cifar_only(tmp_path):
    """Sec. 5.1 / Appendix B: Cutout in the evaluation trainings (searched cell, ResNet-20), not in the search;
    the same images; the ``bitshift-eval`` study reads the evaluation data; Fashion-MNIST is left as it is."""
    from repro.experiments import studies
    from repro.experiments.bitshift import run as bitshift
    from repro.profiles import get_profile

    write_cifar(tmp_path, "cifar10", n_train=10, n_test=4)
    profile = get_profile("paper", {"data.cifar_root": str(tmp_path), "bitshift.train_subset": 6,
                                    "bitshift.eval_train_subset": 6})
    study = bitshift.BitshiftStudy.from_profile(profile)
    (train, test), (etrain, etest) = bitshift.load_data(study), bitshift.eval_data(study)

    def steps(ds) -> list[type]:
        return [type(t) for t in (ds.dataset if hasattr(ds, "dataset") else ds).transform.transforms]

    assert steps(etrain)[-1] is vision.Cutout and steps(etrain)[:-1] == steps(train)
    assert vision.Cutout not in steps(train) and vision.Cutout not in steps(etest)
    assert etrain.indices == train.indices and len(etest) == len(test) == 4
    assert steps(studies._bitshift_data(profile, evaluation=True)[0])[-1] is vision.Cutout
    assert vision.Cutout not in steps(studies._bitshift_data(profile)[0])
    fashion = bitshift.BitshiftStudy.from_profile(get_profile("smoke"))
    for a, b in zip(bitshift.eval_data(fashion), bitshift.load_data(fashion)):
        assert all(torch.equal(x, y) for x, y in zip(a.tensors, b.tensors))


def test_bitshift_search_evaluation_and_drift_budgets_are_set_apart(tmp_path):
    """The search, the evaluation trainings and the L2R mechanism check each read their own
    (image size, training images, test images); the paper profile trains the evaluation networks on all
    of CIFAR while the search reads a subset."""
    from repro.experiments.bitshift import run as bitshift
    from repro.profiles import get_profile

    write_cifar(tmp_path, "cifar10", n_train=10, n_test=4)
    paper = bitshift.BitshiftStudy.from_profile(get_profile("paper", {"data.cifar_root": str(tmp_path),
                                                                      "bitshift.train_subset": 6}))
    assert len(bitshift.load_data(paper)[0]) == 6 and len(bitshift.eval_data(paper)[0]) == 10
    assert len(bitshift.drift_data(paper)[0]) == 10
    fashion = bitshift.BitshiftStudy.from_profile(get_profile("smoke", {
        "bitshift.image_size": 7, "bitshift.train_subset": 40, "bitshift.test_subset": 30,
        "bitshift.eval_image_size": 14, "bitshift.eval_train_subset": 50, "bitshift.eval_test_subset": 20,
        "bitshift.drift_image_size": 28, "bitshift.drift_train_subset": 60, "bitshift.drift_test_subset": 10}))
    shapes = [tuple(tuple(ds.tensors[0].shape) for ds in pair)
              for pair in (bitshift.load_data(fashion), bitshift.eval_data(fashion), bitshift.drift_data(fashion))]
    assert shapes == [((40, 1, 7, 7), (30, 1, 7, 7)), ((50, 1, 14, 14), (20, 1, 14, 14)),
                      ((60, 1, 28, 28), (10, 1, 28, 28))]
