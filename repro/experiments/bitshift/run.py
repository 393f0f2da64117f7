"""Notebook 06: the bit-shift ShiftNAS experiments at the profile's scale, every step cached.

* :func:`search_shiftnas` / :func:`search_darts`: the DOTS-style search and the DARTS strategy in the
  shift space (the operation phase is cached apart, so the LRR on/off arms of Table 4 share it).
* :func:`train_network`: trains a searched cell, the DARTS cell or the hand-designed
  :class:`ShiftResNet20` in the bit-shift or the real domain (RAdam lr 0.01, cosine, Appendix B).
* :func:`run`: all of notebook 06's runs, once per seed of ``profile.seed_list`` (the arms of every
  comparison share the seed: the same data order and initialisation); the ``table*`` helpers put
  our numbers (mean over seeds) beside the paper's.
* :func:`verdicts`: every bs-* verdict through :mod:`repro.evidence`, paired by seed, with the
  accuracy gate (84%, a logistic regression's Fashion-MNIST accuracy) on every network whose
  accuracy decides a claim.

Data: Fashion-MNIST at reduced scale (``BitshiftConfig.image_size``), CIFAR-10/100 in the paper profile.
Deviations: the accuracy gates are read on the profile's test subset (``test_subset``; the full
10,000 images in the paper profile), the data subset is the same for every seed (only the search and
training seeds change), and at the default budget the inputs stay pooled to 7x7: one bi-level search
step at C = 4 takes about 1.4 s at 7x7, 5 s at 14x14 and 8 s at 28x28 on one thread (measured), so
28x28 would put the default run about 6x over its 14-minute budget.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import Dataset, Subset, TensorDataset

from repro import evidence, reported
from repro.cache import Checkpoint, cached
from repro.profiles import BitshiftConfig, Profile
from repro.search import darts, dots
from repro.spaces import darts as darts_space
from repro.spaces.darts import Domain, Genotype
from repro.supernets import darts as darts_nets
from repro.supernets.darts import NetworkCIFAR, conv
from repro.train.basic import evaluate, loader, train_classifier

ABLATIONS = ((True, True), (True, False), (False, True), (False, False))  # (L2R, LRR), Table 4 order


# ---------------------------------------------------------------- data

def load_data(cfg: BitshiftConfig, data_cfg, seed: int = 0) -> tuple[TensorDataset, TensorDataset]:
    """(train, test) for ``cfg.dataset``: Fashion-MNIST pooled to ``image_size``, or CIFAR from ``cifar_root``."""
    if cfg.dataset == "fashion_mnist":
        from repro.data import load_fashion_mnist

        sets = [load_fashion_mnist(split, n, seed=seed) for split, n in (("train", cfg.train_subset),
                                                                        ("test", cfg.test_subset))]
        return tuple(TensorDataset(F.adaptive_avg_pool2d(s.tensors[0], cfg.image_size), s.tensors[1])
                     for s in sets)
    from repro.data.cifar import load_cifar

    train, test = (load_cifar(cfg.dataset, split, data_cfg.cifar_root) for split in ("train", "test"))
    return subset(train, cfg.train_subset, seed), subset(test, cfg.test_subset, seed)


def subset(ds: Dataset, n: int, seed: int) -> Dataset:
    """A seeded random ``n`` of ``ds`` (0: all of it); a TensorDataset stays one."""
    if not n or n >= len(ds):
        return ds
    idx = torch.randperm(len(ds), generator=torch.Generator().manual_seed(seed))[:n]
    if isinstance(ds, TensorDataset):
        return TensorDataset(*(t[idx] for t in ds.tensors))
    return Subset(ds, idx.tolist())


def search_data(train: TensorDataset, test: TensorDataset) -> dots.SearchData:
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

def search_config(cfg: BitshiftConfig, train: TensorDataset, seed: int, *, l2r: bool = True,
                  lrr: bool = True) -> dots.SearchConfig:
    in_channels, classes = _shape(train)
    return dots.SearchConfig(c=cfg.search_channels, layers=cfg.search_layers, in_channels=in_channels,
                             num_classes=classes, domain="shift", warmup_epochs=cfg.warmup_epochs,
                             op_epochs=cfg.op_epochs, retrain_epochs=cfg.retrain_epochs, topo_epochs=cfg.topo_epochs,
                             batch_size=cfg.batch_size, lr=cfg.lr, arch_lr=cfg.arch_lr,
                             l2r=l2r, lrr=lrr, fixed_point=cfg.fixed_point, seed=seed)


def _data_key(data: dots.SearchData) -> dict:
    return {"train": len(data.train), "val": len(data.val), "test": len(data.test),
            "checksum": float(data.train.dataset.tensors[0][:64].sum())}


def search_shiftnas(scfg: dots.SearchConfig, data: dots.SearchData) -> dots.SearchResult:
    """The ShiftNAS search, cached in two steps: the first two stages (shared by the LRR arms, their
    schedule is the same), then the retraining and the topology search."""
    op_cfg = replace(scfg, lrr=True)
    key = {"data": _data_key(data)}
    op_state = cached("bs-dots-op", {**key, "cfg": asdict(op_cfg)},
                      lambda ckpt: dots.run_phases(op_cfg, data, dots.DotsArchitecture(op_cfg.seed, op_cfg.balance_t),
                                                   until=dots.OPERATION, ckpt=ckpt),
                      code=(dots, darts_space, darts_nets))

    def topology(ckpt: Checkpoint) -> dots.SearchResult:
        arch = dots.DotsArchitecture(scfg.seed, scfg.balance_t)
        state = dots.run_phases(scfg, data, arch, start=op_state, ckpt=ckpt)
        return dots.SearchResult(arch.genotype(), state["history"], state["seconds"])

    return cached("bs-dots", {**key, "cfg": asdict(scfg)}, topology, code=(dots, darts_space, darts_nets))


def search_darts(scfg: dots.SearchConfig, data: dots.SearchData) -> dots.SearchResult:
    """The DARTS strategy in the same shift space, for the same number of epochs (cached)."""
    return cached("bs-darts", {"data": _data_key(data), "cfg": asdict(scfg)},
                  lambda ckpt: darts.search(scfg, data, ckpt), code=(darts, dots, darts_space, darts_nets))


# ---------------------------------------------------------------- networks and their training

class BasicBlock(nn.Module):
    """Two 3x3 conv-BN layers with an identity (or 1x1 conv-BN) shortcut (He et al., 2016)."""

    def __init__(self, c_in: int, c_out: int, stride: int, domain: Domain):
        super().__init__()
        self.body = nn.Sequential(conv(c_in, c_out, 3, stride=stride, padding=1, domain=domain), nn.BatchNorm2d(c_out),
                                  nn.ReLU(inplace=True), conv(c_out, c_out, 3, padding=1, domain=domain),
                                  nn.BatchNorm2d(c_out))
        self.shortcut = (nn.Identity() if stride == 1 and c_in == c_out else
                         nn.Sequential(conv(c_in, c_out, 1, stride=stride, domain=domain), nn.BatchNorm2d(c_out)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.body(x) + self.shortcut(x))


class ShiftResNet20(nn.Module):
    """The hand-designed baseline: ResNet-20 (3 stages x 3 blocks, widths w, 2w, 4w; w = 16 in the
    paper's Table 1), every convolution and the classifier in the chosen domain."""

    def __init__(self, width: int = 16, num_classes: int = 10, in_channels: int = 3, domain: Domain = "shift"):
        super().__init__()
        self.stem = nn.Sequential(conv(in_channels, width, 3, padding=1, domain=domain), nn.BatchNorm2d(width),
                                  nn.ReLU(inplace=True))
        blocks, c = [], width
        for stage, c_out in enumerate((width, 2 * width, 4 * width)):
            for b in range(3):
                blocks.append(BasicBlock(c, c_out, 2 if stage and b == 0 else 1, domain))
                c = c_out
        self.blocks = nn.Sequential(*blocks)
        self.fc = conv(c, num_classes, 1, bias=True, domain=domain)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(F.adaptive_avg_pool2d(self.blocks(self.stem(x)), 1)).flatten(1)


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


def fit_network(spec: TrainSpec, cfg: BitshiftConfig, train: Dataset, test: Dataset, seed: int,
                ckpt: Checkpoint | None = None, *, device: str = "auto", stop_at: int | None = None,
                metrics: Path | None = None) -> TrainResult:
    """Train from scratch (Appendix B: RAdam, lr ``cfg.lr`` (paper 0.01) cosine to 0, weight decay 3e-4
    with Eq. 15 on the shift parameters) on the engine, the test accuracy after every epoch;
    resumable through ``ckpt``, ``stop_at`` steps at most (``--max-steps``)."""
    from repro.cost.counting import count_params

    in_channels, classes = _shape(train)
    torch.manual_seed(seed)
    net = build_network(spec, cfg, in_channels, classes)
    opt = dots.weight_optimizer(net, cfg.lr, 3e-4, l2r=True)
    batches = loader(train, spec.batch_size, shuffle=True, seed=seed, drop_last=True)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: dots.lr_factor(s, cfg.eval_epochs * len(batches), None))
    test_batches = loader(test, 256, shuffle=False)
    tic = time.perf_counter()

    def on_epoch_end(epoch: int, stats: dict) -> dict:
        return {"lr": opt.param_groups[0]["lr"], "test_acc": evaluate(net, test_batches)["acc"]}

    history = train_classifier(net, batches, cfg.eval_epochs, opt, scheduler=sched,
                               extra_loss=dots.regulariser(net, 3e-4, l2r=True), device=device,
                               desc=f"train {spec.name} [{spec.domain}]", on_epoch_end=on_epoch_end, seed=seed,
                               ckpt=ckpt, stop_at=stop_at, metrics=metrics)
    return TrainResult(spec, count_params(net), history, time.perf_counter() - tic)


def train_network(spec: TrainSpec, cfg: BitshiftConfig, train: TensorDataset, test: TensorDataset,
                  seed: int) -> TrainResult:
    """:func:`fit_network`, cached."""
    key = {"spec": asdict(spec), "cfg": asdict(cfg), "n": [len(train), len(test)], "seed": seed,
           "checksum": float(train.tensors[0][:64].sum())}

    def compute(ckpt: Checkpoint) -> TrainResult:
        return fit_network(spec, cfg, train, test, seed, ckpt)

    return cached("bs-train", key, compute, code=(darts_space, darts_nets, dots))


# ---------------------------------------------------------------- the whole notebook

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


@dataclass
class BitshiftRun:
    """Everything notebook 06 draws: one :class:`SeedRun` per seed and the search config; the
    attributes ``shiftnas`` ... ``batch_trained`` are the first seed's (figures draw one seed)."""
    cfg: BitshiftConfig
    search_cfg: dots.SearchConfig
    steps_per_epoch: int
    seeds: list[SeedRun]

    def __getattr__(self, name: str):
        if name in ("shiftnas", "darts", "ablation", "trained", "ablation_trained", "batch_trained"):
            return getattr(self.seeds[0], name)
        raise AttributeError(name)


def run_seed(cfg: BitshiftConfig, train: TensorDataset, test: TensorDataset, seed: int) -> SeedRun:
    """All searches and trainings of one seed (each cached)."""
    data = search_data(train, test)
    scfg = search_config(cfg, train, seed)
    ablation = {(l2r, lrr): search_shiftnas(replace(scfg, l2r=l2r, lrr=lrr), data) for l2r, lrr in ABLATIONS}
    shiftnas = ablation[(True, True)]
    darts_result = search_darts(scfg, data)
    cells = {"ShiftNAS": shiftnas.genotype, "DARTS strategy": darts_result.genotype, "ResNet-20": None}
    trained = {(name, domain): train_network(TrainSpec(name, domain, g, cfg.batch_size), cfg, train, test, seed)
               for name, g in cells.items() for domain in ("shift", "real")}
    ablation_trained = {arm: (trained[("ShiftNAS", "shift")] if arm == (True, True) else
                              train_network(TrainSpec(f"ShiftNAS L2R={arm[0]} LRR={arm[1]}", "shift",
                                                      ablation[arm].genotype, cfg.batch_size), cfg, train, test, seed))
                        for arm in ABLATIONS}
    big = min(4 * cfg.batch_size, len(train))  # 4x (1024 vs 256), capped by a tiny (smoke) training set
    batch_trained = {cfg.batch_size: trained[("ShiftNAS", "shift")],
                     big: train_network(TrainSpec("ShiftNAS", "shift", shiftnas.genotype, big), cfg, train, test, seed)}
    return SeedRun(seed, shiftnas, darts_result, ablation, trained, ablation_trained, batch_trained)


def run(profile: Profile) -> BitshiftRun:
    """All searches and trainings of notebook 06, for every seed of ``profile.seed_list``."""
    cfg = profile.bitshift
    train, test = load_data(cfg, profile.data, profile.seed)
    scfg = search_config(cfg, train, profile.seed)
    seeds = [run_seed(cfg, train, test, seed) for seed in profile.seed_list]
    return BitshiftRun(cfg, scfg, dots.steps_per_epoch(search_data(train, test), scfg, dots.OPERATION), seeds)


def _mean(r: BitshiftRun, value) -> float:
    """The mean of ``value(seed_run)`` over the seeds."""
    return sum(value(s) for s in r.seeds) / len(r.seeds)


def _dataset_column(cfg: BitshiftConfig) -> str:
    return "C100" if cfg.dataset == "cifar100" else "C10"


def table1(r: BitshiftRun) -> pd.DataFrame:
    """bs-table1: our three networks (bit-shift domain, mean over seeds) beside the paper's CIFAR rows."""
    col = "CIFAR100" if r.cfg.dataset == "cifar100" else "CIFAR10"
    paper = reported.load("bs-table1").set_index("Architecture")
    rows = []
    for ours, theirs, search in (("ShiftNAS", "ShiftNAS (Best)", "shiftnas"), ("DARTS strategy", "DARTS-v2", "darts"),
                                 ("ResNet-20", "ResNet20", None)):
        rows.append({"Architecture": ours, "source": f"ours ({r.cfg.dataset}, scaled, {len(r.seeds)} seeds)",
                     "Top-1 (%)": _mean(r, lambda s: s.trained[(ours, "shift")].test_acc),
                     "Params (M)": _mean(r, lambda s: s.trained[(ours, "shift")].params) / 1e6,
                     "Search cost (CPU-hours)": (_mean(r, lambda s: getattr(s, search).seconds) / 3600
                                                 if search else float("nan"))})
        rows.append({"Architecture": theirs, "source": f"reported ({col})",
                     "Top-1 (%)": float(paper.loc[theirs, f"{col} Top-1 (%)"]),
                     "Params (M)": float(paper.loc[theirs, f"{col} Params (M)"]),
                     "Search cost (CPU-hours)": float("nan")})
    return pd.DataFrame(rows)


def table3(r: BitshiftRun) -> pd.DataFrame:
    """bs-table3: real vs bit-shift accuracy and the drop (mean over seeds), ours beside the paper's."""
    col = _dataset_column(r.cfg)
    paper = reported.load("bs-table3")
    rows = []
    for ours, theirs in (("ShiftNAS", "ShiftNAS"), ("DARTS strategy", "DARTS(v2)"), ("ResNet-20", "ResNet18")):
        real = _mean(r, lambda s: s.trained[(ours, "real")].test_acc)
        shift = _mean(r, lambda s: s.trained[(ours, "shift")].test_acc)
        p = paper[paper["Architecture"] == theirs].set_index("Domain")
        rows.append({"Architecture": ours, "Real (%)": real, "Bit-shift (%)": shift, "Drop (%)": shift - real,
                     "reported as": theirs, f"reported R {col} (%)": float(p.loc["R", f"{col} Acc. (%)"]),
                     f"reported BS {col} (%)": float(p.loc["BS", f"{col} Acc. (%)"]),
                     f"reported drop {col} (%)": float(p.loc["BS", f"{col} Diff. (%)"])})
    return pd.DataFrame(rows)


def table4(r: BitshiftRun) -> pd.DataFrame:
    """bs-table4: the four L2R / LRR arms: the searched cell trained in the bit-shift domain (mean over seeds)."""
    col = _dataset_column(r.cfg)
    paper = reported.load("bs-table4")
    base = _mean(r, lambda s: s.ablation_trained[(True, True)].test_acc)
    rows = []
    for i, (l2r, lrr) in enumerate(ABLATIONS):
        acc = _mean(r, lambda s: s.ablation_trained[(l2r, lrr)].test_acc)
        p = paper.iloc[i]
        rows.append({"ID": i + 1, "L2R": "yes" if l2r else "no", "LRR": "yes" if lrr else "no",
                     "Acc. (%)": acc, "Diff. (%)": acc - base,
                     "final search acc. (%)": _mean(r, lambda s: s.ablation[(l2r, lrr)].history[-1]["test_acc"]),
                     f"reported {col} (%)": float(p[f"{col} Acc. (%)"]),
                     f"reported {col} Diff. (%)": float(p[f"{col} Diff. (%)"])})  # blank for the reference row
    return pd.DataFrame(rows)


def table2(counting_input: tuple[int, ...] = (1, 3, 224, 224)) -> pd.DataFrame:
    """bs-table2: the paper's ImageNet rows, with our params / #Mult / #Add / #Shift of the
    ImageNet-mobile network built from the Table 5 cell (bit-shift domain, counted on ``meta``)."""
    from repro.cost.counting import count

    paper = reported.load("bs-table2")

    def compute(ckpt: Checkpoint):
        with torch.device("meta"):
            net = darts_nets.NetworkImageNet()
        return count(net, counting_input)

    ops = cached("bs-table2-count", {"input": list(counting_input)}, compute, code=(darts_space, darts_nets))
    ours = {"Architecture": "ShiftNAS (ours, counted)", "Top-1 (%)": float("nan"), "Top-5 (%)": float("nan"),
            "Params (M)": ops.params / 1e6, "Multi (M)": ops.mult / 1e6, "Add (M)": ops.add / 1e6,
            "Shift (M)": ops.shift / 1e6}
    paper = paper.assign(**{"Architecture": paper["Architecture"] + " (reported)", "Shift (M)": float("nan")})
    return pd.concat([paper, pd.DataFrame([ours])], ignore_index=True)


def genotype_table(paper_key: str, ours: Genotype) -> pd.DataFrame:
    """bs-table5 / bs-table6: the paper's best genotype (reported) beside the cell our search found."""
    paper = darts_space.PAPER_GENOTYPES[paper_key]
    rows = [{"source": f"reported ({paper_key})", **row} for row in paper.rows()]
    return pd.DataFrame(rows + [{"source": "ours (scaled search)", **row} for row in ours.rows()])


# ---------------------------------------------------------------- figures

def fig_overview(scfg: dots.SearchConfig):
    """bs-fig1: the search pipeline drawn from :func:`repro.search.dots.phases`."""
    import matplotlib.pyplot as plt

    import textwrap

    steps = [("shift-oriented space", "8 ops per edge; the O_c convolutions use flip(2^P, S), 5-bit weights; "
                                      "O_t: pooling, skip")]
    steps += [(f"{p.name}\n({p.epochs} epochs, {p.optimisation})",
               f"learns: {p.learns}. Data: {p.data}. Result: {p.outcome}") for p in dots.phases(scfg)]
    steps.append(("bit-shift network", "stack the derived cells; train from scratch with L2R (Eq. 15), RAdam"))
    fig, ax = plt.subplots(figsize=(12, 2.8))
    for k, (title, body) in enumerate(steps):
        x = k * 3.0
        ax.add_patch(plt.Rectangle((x, 0), 2.6, 1.6, fc=("#d9edf7" if "search" in title else "#f5f5f5"), ec="0.3"))
        ax.text(x + 1.3, 1.35, title, ha="center", va="center", fontsize=7, weight="bold")
        ax.text(x + 1.3, 0.6, textwrap.fill(body, 34), ha="center", va="center", fontsize=6)
        if k:
            ax.annotate("", xy=(x, 0.8), xytext=(x - 0.4, 0.8), arrowprops=dict(arrowstyle="-|>"))
    ax.set_xlim(-0.1, 3.0 * len(steps))
    ax.set_ylim(-0.1, 1.7)
    ax.axis("off")
    ax.set_title("ShiftNAS: operation search, then topology search, in the bit-shift domain (drawn from the "
                 "phase objects the search runs)", fontsize=8)
    return fig


def fig_lr(scfg: dots.SearchConfig, steps_per_epoch: int):
    """bs-fig2: the learning rate of every step, read from the scheduler, with and without the reset."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3))
    for lrr, style in ((True, "-"), (False, "--")):
        curve = dots.lr_curve(replace(scfg, lrr=lrr), steps_per_epoch)
        ax.plot([s / steps_per_epoch for s in range(len(curve))], curve, style, label=f"LRR {'on' if lrr else 'off'}")
    ax.axvline(scfg.reset_epoch, color="0.5", lw=0.8)
    ax.text(scfg.reset_epoch, scfg.lr * 1.02, " pruned network re-initialised", fontsize=7, va="bottom")
    ax.set_xlabel("epoch")
    ax.set_ylabel("learning rate of w")
    ax.legend()
    return fig


def fig_cells(r: BitshiftRun):
    """bs-fig3: the normal cells found by the DARTS strategy and by ShiftNAS, with their skip counts."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.4))
    for ax, (name, res) in zip(axes, (("DARTS strategy", r.darts), ("ShiftNAS", r.shiftnas))):
        darts_nets.draw_cell(res.genotype, "normal", ax,
                              f"{name}: normal cell, {res.genotype.count('skip_connect')} skip connections of 8")
    return fig


def fig_search_trace(r: BitshiftRun):
    """bs-fig4: test accuracy of the supernet after every search epoch, with and without LRR (L2R on)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3))
    for lrr, style in ((True, "-o"), (False, "--s")):
        h = r.ablation[(True, lrr)].history
        ax.plot([e["epoch"] for e in h], [e["test_acc"] for e in h], style, ms=3, label=f"LRR {'on' if lrr else 'off'}")
    ax.axvline(r.search_cfg.reset_epoch + 0.5, color="0.5", lw=0.8)
    ax.set_xlabel("search epoch (weights only, operation search | retraining, topology search)")
    ax.set_ylabel("supernet test accuracy (%)")
    ax.set_title("reported (CIFAR-10, 70 epochs): 84.68% with LRR vs 74.58% without", fontsize=7)
    ax.legend()
    return fig


def _curves(ax, results: dict[str, TrainResult], metric: str) -> None:
    for label, res in results.items():
        ax.plot([h["epoch"] for h in res.history], [h[metric] for h in res.history], "-o", ms=3, label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric.replace("_", " ") + " (%)")
    ax.legend(fontsize=6)


def fig_training(r: BitshiftRun):
    """bs-fig5: training and test accuracy of the three networks in the bit-shift and the real domain."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
    curves = {f"{n} [{d}]": res for (n, d), res in r.trained.items()}
    for ax, metric in zip(axes, ("train_acc", "test_acc")):
        _curves(ax, curves, metric)
    return fig


def fig_batch(r: BitshiftRun):
    """bs-fig6: the bit-shift ShiftNAS network trained with two batch sizes (4x apart, as 1024 vs 256)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
    curves = {f"batch {b}": res for b, res in sorted(r.batch_trained.items(), reverse=True)}
    for ax, metric in zip(axes, ("train_acc", "test_acc")):
        _curves(ax, curves, metric)
    fig.suptitle("scaled stand-in for ImageNet batch 1024 vs 256; reported final top-1 67.17% vs 68.67%", fontsize=8)
    return fig


def fig_genotypes(paper_key: str, ours: Genotype):
    """bs-table5 / bs-table6: the paper's cells (top) and ours (bottom)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(11, 6.4))
    for row, (label, g) in enumerate(((f"reported, best {paper_key} cell", darts_space.PAPER_GENOTYPES[paper_key]),
                                      ("ours, scaled search", ours))):
        for col, kind in enumerate(("normal", "reduce")):
            darts_nets.draw_cell(g, kind, axes[row, col], f"{label}: {kind} cell")
    return fig


# ---------------------------------------------------------------- verdicts

def _accs(r: BitshiftRun, value) -> list[float]:
    """``value(seed_run)`` for every seed, in seed order (the pairing of every comparison)."""
    return [float(value(s)) for s in r.seeds]


def _gate(name: str, *groups: list[float]) -> evidence.Gate:
    """The accuracy gate over every network (each arm, each seed) of a comparison."""
    return evidence.accuracy_gate(name, [a for g in groups for a in g])


def _budget(r: BitshiftRun) -> str:
    c = r.cfg
    return (f"{len(r.seeds)} seeds, Fashion-MNIST {c.image_size}x{c.image_size}, {c.train_subset} training images, "
            f"search {r.search_cfg.epochs} epochs, evaluation {c.eval_epochs} epochs; the accuracy gate needs "
            f"networks at >= {evidence.FASHION_MNIST_FLOOR:g}% (a logistic regression at 28x28 on the full set: "
            f"about 84%), i.e. 28x28 inputs, the full training set and tens of epochs")


def verdicts(r: BitshiftRun, counted: pd.DataFrame) -> dict[str, dict]:
    """The result record of every artifact: what we measured and the evidence rule's verdict
    (paired by seed over ``r.seeds``, gated by the networks' test accuracy)."""
    n = len(r.seeds)
    acc = {k: _accs(r, lambda s, k=k: s.trained[k].test_acc) for k in r.trained}
    shift = {name: acc[(name, "shift")] for name in ("ShiftNAS", "DARTS strategy", "ResNet-20")}
    drops = {name: [re - sh for re, sh in zip(acc[(name, "real")], acc[(name, "shift")])] for name in shift}
    abl = {arm: _accs(r, lambda s, arm=arm: s.ablation_trained[arm].test_acc) for arm in ABLATIONS}
    skips = {"DARTS": _accs(r, lambda s: s.darts.genotype.count("skip_connect")),
             "ShiftNAS": _accs(r, lambda s: s.shiftnas.genotype.count("skip_connect"))}
    supernet = {"DARTS": _accs(r, lambda s: s.darts.history[-1]["test_acc"]),
                **{lrr: _accs(r, lambda s, lrr=lrr: s.ablation[(True, lrr)].history[-1]["test_acc"])
                   for lrr in (True, False)}}
    moved = {"DARTS": _accs(r, lambda s: s.darts.history[-1]["alpha_moved"]),
             "ShiftNAS": _accs(r, lambda s: s.shiftnas.history[-1]["alpha_moved"])}
    small, big = sorted(r.batch_trained)
    batch = {b: _accs(r, lambda s, b=b: s.batch_trained[b].test_acc) for b in (small, big)}
    train_acc = _accs(r, lambda s: s.trained[("ShiftNAS", "shift")].history[-1]["train_acc"])
    curve = dots.lr_curve(r.search_cfg, r.steps_per_epoch)
    start = r.search_cfg.reset_epoch * r.steps_per_epoch
    ours = counted.iloc[-1]
    paper = counted[counted["Architecture"] == "ShiftNAS (Ours) (reported)"].iloc[0]
    fmt = lambda xs: "/".join(f"{x:.1f}" for x in xs)  # noqa: E731
    fmt2 = lambda xs: "/".join(f"{x:.2f}" for x in xs)  # noqa: E731

    g1 = _gate("bit-shift networks", *shift.values())
    table1 = evidence.all_of({
        "vs DARTS strategy": evidence.paired(shift["ShiftNAS"], shift["DARTS strategy"], unit="pp", gates=[g1]),
        "vs ResNet-20": evidence.paired(shift["ShiftNAS"], shift["ResNet-20"], unit="pp", gates=[g1])})
    table3 = evidence.paired(drops["ShiftNAS"], drops["DARTS strategy"], unit="pp", direction="less",
                             gates=[_gate("ShiftNAS and DARTS cells, both domains", acc[("ShiftNAS", "real")],
                                          acc[("ShiftNAS", "shift")], acc[("DARTS strategy", "real")],
                                          acc[("DARTS strategy", "shift")])])
    main = evidence.factorial_main_effects({arm: abl[arm] for arm in ABLATIONS}, ("L2R", "LRR"), unit="pp",
                                           gates=[_gate("ablation networks", *abl.values())])
    table4 = evidence.all_of({"L2R": main["L2R"], "LRR": main["LRR"]})
    fig3 = evidence.paired(skips["DARTS"], skips["ShiftNAS"], unit="skip connections",
                           gates=[_gate("search supernets", supernet["DARTS"], supernet[True])])
    fig4 = evidence.paired(supernet[True], supernet[False], unit="pp",
                           gates=[_gate("search supernets", supernet[True], supernet[False])])
    fig5 = evidence.mean_effect(shift["ShiftNAS"], unit="%", at_least=evidence.FASHION_MNIST_FLOOR,
                                gates=[_gate("bit-shift ShiftNAS networks", shift["ShiftNAS"])])
    fig6 = evidence.paired(batch[small], batch[big], unit="pp", gates=[_gate("batch-size arms", *batch.values())])
    table2 = evidence.exact_all({"params (M)": (float(ours["Params (M)"]), float(paper["Params (M)"])),
                                 "#Mult (M)": (float(ours["Multi (M)"]), float(paper["Multi (M)"])),
                                 "#Add (M)": (float(ours["Add (M)"]), float(paper["Add (M)"]))},
                                unit="M", rel_tol=0.1)
    budget = _budget(r)
    return {
        "bs-fig1": dict(measured="overview drawn from the four stage objects the search runs",
                        evidence=evidence.not_applicable("a diagram of the method")),
        "bs-table1": dict(measured=f"bit-shift top-1 over {n} seeds: ShiftNAS {fmt(shift['ShiftNAS'])}%, DARTS "
                                   f"strategy {fmt(shift['DARTS strategy'])}%, ResNet-20 {fmt(shift['ResNet-20'])}%; "
                                   f"{budget}", evidence=table1,
                          shiftnas=_mean_of(shift["ShiftNAS"]), darts=_mean_of(shift["DARTS strategy"]),
                          resnet20=_mean_of(shift["ResNet-20"])),
        "bs-table2": dict(measured=f"ImageNet-mobile network (Table 5 cell, C=46, 14 cells), counted: params "
                                   f"{ours['Params (M)']:.2f} M, #Mult {ours['Multi (M)']:.0f} M, #Add "
                                   f"{ours['Add (M)']:.0f} M, #Shift {ours['Shift (M)']:.0f} M against the paper's "
                                   f"{paper['Params (M)']:g} M / {paper['Multi (M)']:g} / {paper['Add (M)']:g} M; "
                                   f"no ImageNet training (the accuracies stay reported)", evidence=table2,
                          params_m=float(ours["Params (M)"]), mult_m=float(ours["Multi (M)"]),
                          add_m=float(ours["Add (M)"])),
        "bs-table3": dict(measured="drop real -> bit-shift over seeds (pp): " +
                                   ", ".join(f"{k} {fmt(d)}" for k, d in drops.items()) +
                                   f"; ShiftNAS vs DARTS cells paired by seed; {budget}", evidence=table3,
                          **{f"drop_{k.split()[0].lower().replace('-', '')}": _mean_of(d) for k, d in drops.items()}),
        "bs-table4": dict(measured="bit-shift top-1 (L2R, LRR) over seeds: " +
                                   ", ".join(f"({int(a)}, {int(b)}) {fmt(v)}%" for (a, b), v in abl.items()) +
                                   f"; main effects L2R {main['L2R'].summary()}, LRR {main['LRR'].summary()}; {budget}",
                          evidence=table4,
                          **{f"acc_l2r{int(a)}_lrr{int(b)}": _mean_of(v) for (a, b), v in abl.items()}),
        "bs-fig2": dict(measured=f"lr {curve[start - 1]:.5f} before and {curve[start]:.5f} at the re-initialisation",
                        evidence=evidence.by_construction("the curve is read from our own scheduler, which is built "
                                                          "to restart the cosine there"),
                        lr_at_reset=curve[start]),
        "bs-fig3": dict(measured=f"skip connections in the normal cell over {n} seeds: DARTS strategy "
                                 f"{fmt(skips['DARTS'])}, ShiftNAS {fmt(skips['ShiftNAS'])} (of 8); final supernet "
                                 f"accuracy DARTS {fmt(supernet['DARTS'])}%, ShiftNAS {fmt(supernet[True])}%; "
                                 f"largest alpha change from its initialisation DARTS {fmt2(moved['DARTS'])}, "
                                 f"ShiftNAS {fmt2(moved['ShiftNAS'])}; "
                                 f"DARTS searched {r.search_cfg.epochs} epochs", evidence=fig3,
                        skips_darts=_mean_of(skips["DARTS"]), skips_shiftnas=_mean_of(skips["ShiftNAS"])),
        "bs-fig4": dict(measured=f"final supernet test accuracy over {n} seeds: LRR on {fmt(supernet[True])}%, "
                                 f"off {fmt(supernet[False])}%", evidence=fig4,
                        lrr_on=_mean_of(supernet[True]), lrr_off=_mean_of(supernet[False])),
        "bs-table5": dict(measured="the paper's CIFAR-10 genotype drawn beside our searched cell",
                          evidence=evidence.not_applicable("a genotype (diagram and reported table)")),
        "bs-table6": dict(measured="the paper's CIFAR-100 genotype drawn beside our searched cell",
                          evidence=evidence.not_applicable("a genotype (diagram and reported table)")),
        "bs-fig5": dict(measured=f"bit-shift ShiftNAS network over {n} seeds: train {fmt(train_acc)}%, test "
                                 f"{fmt(shift['ShiftNAS'])}% after {r.cfg.eval_epochs} epochs; 'high' read as the "
                                 f"{evidence.FASHION_MNIST_FLOOR:g}% floor; {budget}", evidence=fig5,
                        test_acc=_mean_of(shift["ShiftNAS"])),
        "bs-fig6": dict(measured=f"bit-shift ShiftNAS, same epochs, over {n} seeds: batch {small} "
                                 f"{fmt(batch[small])}%, batch {big} {fmt(batch[big])}% (scaled stand-in for 256 vs "
                                 f"1024)", evidence=fig6,
                        acc_small=_mean_of(batch[small]), acc_big=_mean_of(batch[big])),
    }


def _mean_of(values: list[float]) -> float:
    return sum(values) / len(values)
