"""Notebook 06, what is computed and cached: the study config (:class:`BitshiftStudy`, built once from
the profile), the data, the ShiftNAS and DARTS-strategy searches, the trainings of the searched cells and
of :class:`repro.models.shift_resnet.ShiftResNet20`, and the op counts of the ImageNet-mobile network."""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import Dataset, Subset, TensorDataset

from repro.cache import Checkpoint, cached
from repro.models import shift_resnet
from repro.models.shift_resnet import ShiftResNet20
from repro.ops import shift as shift_ops
from repro.profiles import BitshiftConfig, Profile
from repro.search import darts, dots
from repro.spaces import darts as darts_space
from repro.spaces.darts import Genotype
from repro.supernets import darts as darts_nets
from repro.supernets.darts import NetworkCIFAR
from repro.train.basic import evaluate, loader, train_classifier

if TYPE_CHECKING:
    from repro.cost.counting import OpCounts

ABLATIONS = ((True, True), (True, False), (False, True), (False, False))  # (L2R, LRR), Table 4 order


@dataclass(frozen=True)
class BitshiftStudy:
    """Notebook 06's config, built once from the profile; its fields, with the seed of a step in place
    of ``seeds``, are the key of every cached step (:meth:`key`)."""
    cfg: BitshiftConfig
    cifar_root: str | None   # DataConfig.cifar_root: where CIFAR-10/100 is read when ``cfg.dataset`` is one
    data_seed: int           # Profile.seed: the data subsets, and the search config the figures draw
    seeds: tuple[int, ...]   # Profile.seed_list: one set of searches and trainings per seed

    @classmethod
    def from_profile(cls, profile: Profile) -> BitshiftStudy:
        return cls(profile.bitshift, profile.data.cifar_root, profile.seed, profile.seed_list)

    def key(self, seed: int) -> dict:
        """The cache key of one seed's step: every field, ``seed`` in place of the seed list."""
        return {"cfg": asdict(self.cfg), "cifar_root": self.cifar_root, "data_seed": self.data_seed, "seed": seed}


# ---------------------------------------------------------------- data

@lru_cache(maxsize=6)
def dataset(study: BitshiftStudy, image_size: int, train_subset: int, test_subset: int,
            cutout: bool = False) -> tuple[Dataset, Dataset]:
    """(train, test) for ``cfg.dataset`` (memoised): Fashion-MNIST pooled to ``image_size``, or CIFAR from
    ``cifar_root`` through torchvision (:func:`repro.data.vision.cifar_dataset`, the reader of the
    ``bitshift-*`` studies, at its own 32x32): training images with DARTS' crop and flip, and with Cutout
    (16 px) when ``cutout`` (the evaluation trainings, Sec. 5.1 and Appendix B); ``train_subset`` and
    ``test_subset`` images (0: all) drawn with ``data_seed``. Cutout is never applied to Fashion-MNIST
    pooled to a few pixels (a 16-px hole would blank it)."""
    cfg, seed = study.cfg, study.data_seed
    if cfg.dataset == "fashion_mnist":
        from repro.data import load_fashion_mnist

        sets = [load_fashion_mnist(split, n, seed=seed) for split, n in (("train", train_subset),
                                                                        ("test", test_subset))]
        return tuple(TensorDataset(F.adaptive_avg_pool2d(s.tensors[0], image_size), s.tensors[1]) for s in sets)
    from repro.data import vision

    train, test = (vision.cifar_dataset(cfg.dataset, split, study.cifar_root, cutout=cutout)
                   for split in ("train", "test"))
    return subset(train, train_subset, seed), subset(test, test_subset, seed)


def load_data(study: BitshiftStudy) -> tuple[Dataset, Dataset]:
    """(train, test) of the searches (``image_size``, ``train_subset``, ``test_subset``): the training images
    are split in two halves (:func:`search_data`), which share DARTS' crop and flip on CIFAR as in DARTS'
    and DOTS' search code."""
    c = study.cfg
    return dataset(study, c.image_size, c.train_subset, c.test_subset)


def eval_data(study: BitshiftStudy) -> tuple[Dataset, Dataset]:
    """(train, test) of the evaluation trainings (the searched cells and the ResNet-20 baselines from
    scratch, ``eval_image_size``, ``eval_train_subset``, ``eval_test_subset``): Cutout on CIFAR, as the
    paper's Sec. 5.1 and Appendix B and DARTS' evaluation (``--cutout``). The paper trains them on all of
    CIFAR's training set, the search on its two halves: at reduced scale the two budgets are set apart."""
    c = study.cfg
    return dataset(study, c.eval_image_size, c.eval_train_subset, c.eval_test_subset, cutout=True)


def drift_data(study: BitshiftStudy) -> tuple[Dataset, Dataset]:
    """(train, test) of bs-table4's L2R mechanism check (:func:`l2r_drift`): ``drift_image_size``,
    ``drift_train_subset``, ``drift_test_subset``, Cutout on CIFAR as every evaluation training."""
    c = study.cfg
    return dataset(study, c.drift_image_size, c.drift_train_subset, c.drift_test_subset, cutout=True)


def subset(ds: Dataset, n: int, seed: int) -> Dataset:
    """A seeded random ``n`` of ``ds`` (0: all of it); a TensorDataset stays one."""
    if not n or n >= len(ds):
        return ds
    idx = torch.randperm(len(ds), generator=torch.Generator().manual_seed(seed))[:n]
    if isinstance(ds, TensorDataset):
        return TensorDataset(*(t[idx] for t in ds.tensors))
    return Subset(ds, idx.tolist())


def search_data(train: Dataset, test: Dataset) -> dots.SearchData:
    """The training set in two fixed halves (Appendix A: w on one, alpha on the other)."""
    half = len(train) // 2
    return dots.SearchData(Subset(train, range(half)), Subset(train, range(half, 2 * half)), test)


def _shape(ds: Dataset) -> tuple[int, int]:
    """(input channels, classes) of a TensorDataset or a (Subset of a) torchvision dataset."""
    if isinstance(ds, TensorDataset):
        x, y = ds.tensors
        return x.shape[1], int(y.max()) + 1
    base = ds.dataset if isinstance(ds, Subset) else ds
    return ds[0][0].shape[0], len(base.classes)


# ---------------------------------------------------------------- searches

def search_config(study: BitshiftStudy, train: Dataset, seed: int, *, l2r: bool = True,
                  lrr: bool = True) -> dots.SearchConfig:
    """The DOTS search of one seed and (L2R, LRR) arm at the study's scale (Appendix A)."""
    cfg = study.cfg
    in_channels, classes = _shape(train)
    return dots.SearchConfig(c=cfg.search_channels, layers=cfg.search_layers, in_channels=in_channels,
                             num_classes=classes, domain="shift", warmup_epochs=cfg.warmup_epochs,
                             op_epochs=cfg.op_epochs, retrain_epochs=cfg.retrain_epochs, topo_epochs=cfg.topo_epochs,
                             batch_size=cfg.batch_size, lr=cfg.lr, weight_decay=cfg.weight_decay,
                             arch_lr=cfg.arch_lr, l2r=l2r, lrr=lrr, fixed_point=cfg.fixed_point, seed=seed)


def search_shiftnas(study: BitshiftStudy, seed: int, *, l2r: bool = True, lrr: bool = True) -> dots.SearchResult:
    """The ShiftNAS search of one seed and arm, cached in two steps: the first two stages (shared by the
    LRR arms, their schedule is the same), then the retraining and the topology search."""
    train, test = load_data(study)
    data, scfg = search_data(train, test), search_config(study, train, seed, l2r=l2r, lrr=lrr)
    op_cfg = replace(scfg, lrr=True)
    key = study.key(seed) | {"l2r": l2r}
    op_state = cached("bs-dots-op", key,
                      lambda ckpt: dots.run_phases(op_cfg, data, dots.DotsArchitecture(op_cfg.seed, op_cfg.balance_t),
                                                   until=dots.OPERATION, ckpt=ckpt),
                      code=(dots, darts_space, darts_nets))

    def topology(ckpt: Checkpoint) -> dots.SearchResult:
        arch = dots.DotsArchitecture(scfg.seed, scfg.balance_t)
        state = dots.run_phases(scfg, data, arch, start=op_state, ckpt=ckpt)
        return dots.SearchResult(arch.genotype(), state["history"], state["seconds"])

    return cached("bs-dots", key | {"lrr": lrr}, topology, code=(dots, darts_space, darts_nets))


def search_darts(study: BitshiftStudy, seed: int) -> dots.SearchResult:
    """The DARTS strategy in the same shift space, for the same number of epochs (cached)."""
    train, test = load_data(study)
    scfg = search_config(study, train, seed)
    return cached("bs-darts", study.key(seed), lambda ckpt: darts.search(scfg, search_data(train, test), ckpt),
                  code=(darts, dots, darts_space, darts_nets))


# ---------------------------------------------------------------- trainings

@dataclass(frozen=True)
class TrainSpec:
    """One evaluation training: which network, in which domain, with which batch size."""
    name: str
    domain: str
    genotype: Genotype | None  # None: the hand-designed ResNet-20
    batch_size: int


@dataclass
class TrainResult:
    spec: TrainSpec
    params: int
    history: list[dict] = field(default_factory=list)  # per epoch: train loss/acc, test acc, lr
    seconds: float = 0.0

    @property
    def test_acc(self) -> float:
        return self.history[-1]["test_acc"]


def build_network(spec: TrainSpec, cfg: BitshiftConfig, in_channels: int, num_classes: int) -> nn.Module:
    if spec.genotype is None:
        net = ShiftResNet20(cfg.resnet_width, num_classes, in_channels, spec.domain)
    else:
        net = NetworkCIFAR(cfg.eval_channels, num_classes, cfg.eval_layers, spec.genotype, in_channels, spec.domain)
        net.drop_path_prob = cfg.drop_path
    return darts_nets.use_fixed_point(net) if cfg.fixed_point else net


def init_network(study: BitshiftStudy, spec: TrainSpec, train: Dataset, seed: int) -> nn.Module:
    """The network of ``spec`` as every training of ``seed`` initialises it (``torch.manual_seed(seed)``)."""
    in_channels, classes = _shape(train)
    torch.manual_seed(seed)
    return build_network(spec, study.cfg, in_channels, classes)


def fit_network(study: BitshiftStudy, spec: TrainSpec, train: Dataset, test: Dataset, seed: int,
                ckpt: Checkpoint | None = None, *, l2r: bool = True, net: nn.Module | None = None,
                device: str = "auto", stop_at: int | None = None, metrics: Path | None = None,
                epochs: int | None = None) -> TrainResult:
    """Train from scratch (Appendix B: RAdam, lr ``cfg.lr`` cosine to 0, weight decay ``cfg.weight_decay``
    with Eq. 15 on the shift parameters; ``l2r=False``: the conventional decay of P and S instead) on the
    engine for ``epochs`` (default ``cfg.eval_epochs``), the test accuracy after every epoch; resumable
    through ``ckpt``, ``stop_at`` steps at most (``--max-steps``). ``net``: the network of
    :func:`init_network` (built here when None), trained in place."""
    from repro.cost.counting import count_params

    cfg = study.cfg
    epochs = cfg.eval_epochs if epochs is None else epochs
    net = init_network(study, spec, train, seed) if net is None else net
    opt = dots.weight_optimizer(net, cfg.lr, cfg.weight_decay, l2r=l2r)
    batches = loader(train, spec.batch_size, shuffle=True, seed=seed, drop_last=True)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: dots.lr_factor(s, epochs * len(batches), None))
    test_batches = loader(test, 256, shuffle=False)
    tic = time.perf_counter()

    def on_epoch_end(epoch: int, stats: dict) -> dict:
        return {"lr": opt.param_groups[0]["lr"], "test_acc": evaluate(net, test_batches)["acc"]}

    history = train_classifier(net, batches, epochs, opt, scheduler=sched,
                               extra_loss=dots.regulariser(net, cfg.weight_decay, l2r=l2r), device=device,
                               desc=f"train {spec.name} [{spec.domain}]", on_epoch_end=on_epoch_end, seed=seed,
                               ckpt=ckpt, stop_at=stop_at, metrics=metrics)
    return TrainResult(spec, count_params(net), history, time.perf_counter() - tic)


def train_network(study: BitshiftStudy, spec: TrainSpec, seed: int) -> TrainResult:
    """:func:`fit_network` on the study's data, cached."""
    def compute(ckpt: Checkpoint) -> TrainResult:
        return fit_network(study, spec, *eval_data(study), seed, ckpt)

    return cached("bs-train", study.key(seed) | {"spec": asdict(spec)}, compute,
                  code=(darts_space, darts_nets, dots, shift_resnet))


@dataclass
class ShiftDrift:
    """Where one training moved the shift parameters P of every shift layer (pooled), against their
    initialisation: the mechanism behind Eq. 15 (Sec. 4.3), read at the rounded, clamped values."""
    l2r: bool                # True: Eq. 15 on the weights 2^P S; False: the conventional decay of P and S
    p_range: tuple[int, int]
    mean_p_init: float
    mean_p: float
    at_lower: float          # share of P at p_min (|w| = 2^p_min, the smallest weight)
    at_upper: float          # share of P at 0 (|w| = 1, the largest weight)
    mean_abs_drift: float    # mean |P - P_init|
    shift_changed: float     # share of weights whose shift round(P) changed
    zero_weights: float      # share of weights whose sign S rounds to 0
    result: TrainResult

    @property
    def test_acc(self) -> float:
        return self.result.test_acc


def shift_values(net: nn.Module) -> tuple[torch.Tensor, torch.Tensor, tuple[int, int]]:
    """(P clamped to its range, S) of every shift layer of ``net``, flattened and concatenated; the range."""
    layers = dots.shift_layers(net)
    lo, hi = layers[0].p_range
    p = torch.cat([m.shift.detach().cpu().clamp(lo, hi).flatten() for m in layers])
    return p, torch.cat([m.sign.detach().cpu().flatten() for m in layers]), (lo, hi)


def l2r_drift(study: BitshiftStudy, seed: int, l2r: bool) -> ShiftDrift:
    """The bit-shift ResNet-20 trained as :func:`train_network` does (same initialisation and data
    order per seed) on its own budget (:func:`drift_data`, ``drift_epochs``: a network trained past the
    accuracy gate), with Eq. 15 (``l2r``) or the conventional L2 on P and S, and where P went (cached)."""
    spec = TrainSpec("ResNet-20", "shift", None, study.cfg.batch_size)

    def compute(ckpt: Checkpoint) -> ShiftDrift:
        train, test = drift_data(study)
        net = init_network(study, spec, train, seed)
        p0, _, _ = shift_values(net)
        result = fit_network(study, spec, train, test, seed, ckpt, l2r=l2r, net=net, epochs=study.cfg.drift_epochs)
        p, s, (lo, hi) = shift_values(net)
        return ShiftDrift(l2r, (lo, hi), p0.mean().item(), p.mean().item(), (p <= lo).float().mean().item(),
                          (p >= hi).float().mean().item(), (p - p0).abs().mean().item(),
                          (p.round() != p0.round()).float().mean().item(),
                          (shift_ops.ternary_sign(s) == 0).float().mean().item(), result)

    return cached("bs-l2r-drift", study.key(seed) | {"spec": asdict(spec), "l2r": l2r}, compute,
                  code=(darts_space, darts_nets, dots, shift_resnet, shift_ops))


def imagenet_counts(counting_input: tuple[int, ...] = (1, 3, 224, 224)) -> OpCounts:
    """Params and op counts of the ImageNet-mobile network built from the Table 5 cell (bit-shift
    domain, counted on ``meta``; cached)."""
    from repro.cost.counting import count

    def compute(ckpt: Checkpoint) -> OpCounts:
        with torch.device("meta"):
            net = darts_nets.NetworkImageNet()
        return count(net, counting_input)

    return cached("bs-table2-count", {"input": list(counting_input)}, compute, code=(darts_space, darts_nets))


# ---------------------------------------------------------------- every seed

@dataclass
class SeedRun:
    """One seed's searches and trainings (every arm of a comparison shares the seed)."""
    seed: int
    shiftnas: dots.SearchResult
    darts: dots.SearchResult
    ablation: dict[tuple[bool, bool], dots.SearchResult]
    trained: dict[tuple[str, str], TrainResult]            # (network, domain) -> result
    ablation_trained: dict[tuple[bool, bool], TrainResult]
    batch_trained: dict[int, TrainResult]                   # batch size -> ShiftNAS cell, shift domain
    l2r_drift: dict[bool, ShiftDrift]                       # Eq. 15 on / conventional L2 -> ResNet-20's P


@dataclass
class BitshiftRun:
    """Everything notebook 06 draws: one :class:`SeedRun` per seed, the study and the search config of
    its figures; the attributes ``shiftnas`` ... ``l2r_drift`` are the first seed's (figures draw one seed)."""
    study: BitshiftStudy
    search_cfg: dots.SearchConfig
    steps_per_epoch: int
    seeds: list[SeedRun]

    def __getattr__(self, name: str):
        if name in ("shiftnas", "darts", "ablation", "trained", "ablation_trained", "batch_trained", "l2r_drift"):
            return getattr(self.seeds[0], name)
        raise AttributeError(name)

    def per_seed(self, value: Callable[[SeedRun], float]) -> list[float]:
        """``value(seed_run)`` for every seed, in seed order (the pairing of every comparison)."""
        return [float(value(s)) for s in self.seeds]


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def run_seed(study: BitshiftStudy, seed: int) -> SeedRun:
    """All searches and trainings of one seed (each cached)."""
    batch = study.cfg.batch_size
    ablation = {(l2r, lrr): search_shiftnas(study, seed, l2r=l2r, lrr=lrr) for l2r, lrr in ABLATIONS}
    shiftnas = ablation[(True, True)]
    darts_result = search_darts(study, seed)
    cells = {"ShiftNAS": shiftnas.genotype, "DARTS strategy": darts_result.genotype, "ResNet-20": None}
    trained = {(name, domain): train_network(study, TrainSpec(name, domain, g, batch), seed)
               for name, g in cells.items() for domain in ("shift", "real")}
    ablation_trained = {arm: (trained[("ShiftNAS", "shift")] if arm == (True, True) else
                              train_network(study, TrainSpec(f"ShiftNAS L2R={arm[0]} LRR={arm[1]}", "shift",
                                                             ablation[arm].genotype, batch), seed))
                        for arm in ABLATIONS}
    big = min(4 * batch, len(eval_data(study)[0]))  # 4x (1024 vs 256), capped by a tiny (smoke) training set
    batch_trained = {batch: trained[("ShiftNAS", "shift")],
                     big: train_network(study, TrainSpec("ShiftNAS", "shift", shiftnas.genotype, big), seed)}
    l2r = {on: l2r_drift(study, seed, on) for on in (True, False)}
    return SeedRun(seed, shiftnas, darts_result, ablation, trained, ablation_trained, batch_trained, l2r)


def run_seeds(study: BitshiftStudy) -> BitshiftRun:
    """All searches and trainings of notebook 06, for every seed of the study."""
    train, test = load_data(study)
    scfg = search_config(study, train, study.data_seed)
    seeds = [run_seed(study, seed) for seed in study.seeds]
    return BitshiftRun(study, scfg, dots.steps_per_epoch(search_data(train, test), scfg, dots.OPERATION), seeds)
