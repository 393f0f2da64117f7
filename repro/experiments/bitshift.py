"""Notebook 06: the bit-shift ShiftNAS experiments at the profile's scale, every step cached.

* :func:`search_shiftnas` / :func:`search_darts`: the DOTS-style search and the DARTS strategy in the
  shift space (the operation phase is cached apart, so the LRR on/off arms of Table 4 share it).
* :func:`train_network`: trains a searched cell, the DARTS cell or the hand-designed
  :class:`ShiftResNet20` in the bit-shift or the real domain (RAdam lr 0.01, cosine, Appendix B).
* :func:`run`: all of notebook 06's runs; the ``table*`` helpers put our numbers beside the paper's.

Data: Fashion-MNIST at reduced scale (``BitshiftConfig.image_size``), CIFAR-10/100 in the paper profile.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import Subset, TensorDataset
from tqdm.auto import tqdm

from repro import reported
from repro.cache import Checkpoint, cached
from repro.profiles import BitshiftConfig, Profile
from repro.search import darts, darts_space, dots
from repro.search.darts_space import Domain, Genotype, NetworkCIFAR, conv
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
    return _subset(train, cfg.train_subset, seed), _subset(test, cfg.test_subset, seed)


def _subset(ds: TensorDataset, n: int, seed: int) -> TensorDataset:
    if not n or n >= len(ds):
        return ds
    idx = torch.randperm(len(ds), generator=torch.Generator().manual_seed(seed))[:n]
    return TensorDataset(*(t[idx] for t in ds.tensors))


def search_data(train: TensorDataset, test: TensorDataset) -> dots.SearchData:
    """The training set in two fixed halves (Appendix A: w on one, alpha on the other)."""
    half = len(train) // 2
    return dots.SearchData(Subset(train, range(half)), Subset(train, range(half, 2 * half)), test)


def _shape(ds: TensorDataset) -> tuple[int, int]:
    x, y = ds.tensors
    return x.shape[1], int(y.max()) + 1


# ---------------------------------------------------------------- searches

def search_config(cfg: BitshiftConfig, train: TensorDataset, seed: int, *, l2r: bool = True,
                  lrr: bool = True) -> dots.SearchConfig:
    in_channels, classes = _shape(train)
    return dots.SearchConfig(c=cfg.search_channels, layers=cfg.search_layers, in_channels=in_channels,
                             num_classes=classes, domain="shift", op_epochs=cfg.op_epochs,
                             topo_epochs=cfg.topo_epochs, batch_size=cfg.batch_size, arch_lr=cfg.arch_lr, l2r=l2r,
                             lrr=lrr, seed=seed)


def _data_key(data: dots.SearchData) -> dict:
    return {"train": len(data.train), "val": len(data.val), "test": len(data.test),
            "checksum": float(data.train.dataset.tensors[0][:64].sum())}


def search_shiftnas(scfg: dots.SearchConfig, data: dots.SearchData) -> dots.SearchResult:
    """The ShiftNAS search, cached in two steps: the operation phase (shared by the LRR arms, its
    schedule is the same), then the topology phase."""
    op_cfg = replace(scfg, lrr=True)
    key = {"data": _data_key(data)}
    op_state = cached("bs-dots-op", {**key, "cfg": asdict(op_cfg)},
                      lambda ckpt: dots.run_phases(op_cfg, data, dots.DotsArchitecture(op_cfg.seed),
                                                   until="operation search", ckpt=ckpt),
                      code=(dots, darts_space))

    def topology(ckpt: Checkpoint) -> dots.SearchResult:
        arch = dots.DotsArchitecture(scfg.seed)
        state = dots.run_phases(scfg, data, arch, start=op_state, ckpt=ckpt)
        return dots.SearchResult(arch.genotype(), state["history"], state["seconds"])

    return cached("bs-dots", {**key, "cfg": asdict(scfg)}, topology, code=(dots, darts_space))


def search_darts(scfg: dots.SearchConfig, data: dots.SearchData) -> dots.SearchResult:
    """The DARTS strategy in the same shift space, for the same number of epochs (cached)."""
    return cached("bs-darts", {"data": _data_key(data), "cfg": asdict(scfg)},
                  lambda ckpt: darts.search(scfg, data, ckpt), code=(darts, dots, darts_space))


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
        return ShiftResNet20(cfg.resnet_width, num_classes, in_channels, spec.domain)
    net = NetworkCIFAR(cfg.eval_channels, num_classes, cfg.eval_layers, spec.genotype, in_channels, spec.domain)
    net.drop_path_prob = cfg.drop_path
    return net


def train_network(spec: TrainSpec, cfg: BitshiftConfig, train: TensorDataset, test: TensorDataset,
                  seed: int) -> TrainResult:
    """Train from scratch (Appendix B: RAdam lr 0.01 cosine to 0, weight decay 3e-4 with Eq. 15 on
    the shift parameters), evaluating on the test set after every epoch; cached, resumable."""
    from repro.cost.counting import count_params

    in_channels, classes = _shape(train)
    key = {"spec": asdict(spec), "cfg": asdict(cfg), "n": [len(train), len(test)], "seed": seed,
           "checksum": float(train.tensors[0][:64].sum())}

    def compute(ckpt: Checkpoint) -> TrainResult:
        torch.manual_seed(seed)
        net = build_network(spec, cfg, in_channels, classes)
        opt = dots.weight_optimizer(net, 0.01, 3e-4, l2r=True)
        batches = loader(train, spec.batch_size, shuffle=True, seed=seed, drop_last=True)
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: dots.lr_factor(s, cfg.eval_epochs * len(batches), None))
        result = TrainResult(spec, count_params(net))
        saved = ckpt.load()
        if saved is not None:
            net.load_state_dict(saved["net"])
            opt.load_state_dict(saved["opt"])
            sched.load_state_dict(saved["sched"])
            result = saved["result"]
        test_batches = loader(test, 256, shuffle=False)
        extra = dots.regulariser(net, 3e-4, l2r=True)
        for epoch in tqdm(range(len(result.history), cfg.eval_epochs), desc=f"train {spec.name} [{spec.domain}]"):
            tic = time.perf_counter()
            lr = opt.param_groups[0]["lr"]
            batches = loader(train, spec.batch_size, shuffle=True, seed=seed + epoch, drop_last=True)
            stats = train_classifier(net, batches, 1, opt, scheduler=sched, extra_loss=extra,
                                     desc=f"{spec.name} epoch {epoch + 1}")[0]
            result.seconds += time.perf_counter() - tic
            result.history.append({**stats, "epoch": epoch + 1, "lr": lr,
                                   "test_acc": evaluate(net, test_batches)["acc"]})
            ckpt.save({"net": net.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(),
                       "result": result})
        return result

    return cached("bs-train", key, compute, code=(darts_space, dots))


# ---------------------------------------------------------------- the whole notebook

@dataclass
class BitshiftRun:
    """Everything notebook 06 draws: the searches, the trainings and the search configs."""
    cfg: BitshiftConfig
    search_cfg: dots.SearchConfig
    steps_per_epoch: int
    shiftnas: dots.SearchResult
    darts: dots.SearchResult
    ablation: dict[tuple[bool, bool], dots.SearchResult]
    trained: dict[tuple[str, str], TrainResult]            # (network, domain) -> result
    ablation_trained: dict[tuple[bool, bool], TrainResult]
    batch_trained: dict[int, TrainResult]                   # batch size -> ShiftNAS cell, shift domain


def run(profile: Profile) -> BitshiftRun:
    """All searches and trainings of notebook 06 (each cached)."""
    cfg = profile.bitshift
    train, test = load_data(cfg, profile.data, profile.seed)
    data = search_data(train, test)
    scfg = search_config(cfg, train, profile.seed)
    ablation = {(l2r, lrr): search_shiftnas(replace(scfg, l2r=l2r, lrr=lrr), data) for l2r, lrr in ABLATIONS}
    shiftnas = ablation[(True, True)]
    darts_result = search_darts(scfg, data)
    cells = {"ShiftNAS": shiftnas.genotype, "DARTS strategy": darts_result.genotype, "ResNet-20": None}
    trained = {(name, domain): train_network(TrainSpec(name, domain, g, cfg.batch_size), cfg, train, test,
                                             profile.seed)
               for name, g in cells.items() for domain in ("shift", "real")}
    ablation_trained = {arm: (trained[("ShiftNAS", "shift")] if arm == (True, True) else
                              train_network(TrainSpec(f"ShiftNAS L2R={arm[0]} LRR={arm[1]}", "shift",
                                                      ablation[arm].genotype, cfg.batch_size),
                                            cfg, train, test, profile.seed))
                        for arm in ABLATIONS}
    big = 4 * cfg.batch_size
    batch_trained = {cfg.batch_size: trained[("ShiftNAS", "shift")],
                     big: train_network(TrainSpec("ShiftNAS", "shift", shiftnas.genotype, big), cfg, train, test,
                                        profile.seed)}
    return BitshiftRun(cfg, scfg, dots.steps_per_epoch(data, scfg, "operation search"), shiftnas, darts_result,
                       ablation, trained, ablation_trained, batch_trained)


def _dataset_column(cfg: BitshiftConfig) -> str:
    return "C100" if cfg.dataset == "cifar100" else "C10"


def table1(r: BitshiftRun) -> pd.DataFrame:
    """bs-table1: our three networks (bit-shift domain) beside the paper's CIFAR rows."""
    col = "CIFAR100" if r.cfg.dataset == "cifar100" else "CIFAR10"
    paper = reported.load("bs-table1").set_index("Architecture")
    rows = []
    for ours, theirs, search in (("ShiftNAS", "ShiftNAS (Best)", r.shiftnas), ("DARTS strategy", "DARTS-v2", r.darts),
                                 ("ResNet-20", "ResNet20", None)):
        t = r.trained[(ours, "shift")]
        rows.append({"Architecture": ours, "source": f"ours ({r.cfg.dataset}, scaled)", "Top-1 (%)": t.test_acc,
                     "Params (M)": t.params / 1e6,
                     "Search cost (CPU-hours)": search.seconds / 3600 if search else float("nan")})
        rows.append({"Architecture": theirs, "source": f"reported ({col})",
                     "Top-1 (%)": float(paper.loc[theirs, f"{col} Top-1 (%)"]),
                     "Params (M)": float(paper.loc[theirs, f"{col} Params (M)"]),
                     "Search cost (CPU-hours)": float("nan")})
    return pd.DataFrame(rows)


def table3(r: BitshiftRun) -> pd.DataFrame:
    """bs-table3: real vs bit-shift accuracy and the drop, ours beside the paper's."""
    col = _dataset_column(r.cfg)
    paper = reported.load("bs-table3")
    rows = []
    for ours, theirs in (("ShiftNAS", "ShiftNAS"), ("DARTS strategy", "DARTS(v2)"), ("ResNet-20", "ResNet18")):
        real, shift = r.trained[(ours, "real")].test_acc, r.trained[(ours, "shift")].test_acc
        p = paper[paper["Architecture"] == theirs].set_index("Domain")
        rows.append({"Architecture": ours, "Real (%)": real, "Bit-shift (%)": shift, "Drop (%)": shift - real,
                     "reported as": theirs, f"reported R {col} (%)": float(p.loc["R", f"{col} Acc. (%)"]),
                     f"reported BS {col} (%)": float(p.loc["BS", f"{col} Acc. (%)"]),
                     f"reported drop {col} (%)": float(p.loc["BS", f"{col} Diff. (%)"])})
    return pd.DataFrame(rows)


def table4(r: BitshiftRun) -> pd.DataFrame:
    """bs-table4: the four L2R / LRR arms: the searched cell trained in the bit-shift domain."""
    col = _dataset_column(r.cfg)
    paper = reported.load("bs-table4")
    base = r.ablation_trained[(True, True)].test_acc
    rows = []
    for i, (l2r, lrr) in enumerate(ABLATIONS):
        acc = r.ablation_trained[(l2r, lrr)].test_acc
        p = paper.iloc[i]
        rows.append({"ID": i + 1, "L2R": "yes" if l2r else "no", "LRR": "yes" if lrr else "no",
                     "Acc. (%)": acc, "Diff. (%)": acc - base,
                     "final search acc. (%)": r.ablation[(l2r, lrr)].history[-1]["test_acc"],
                     f"reported {col} (%)": float(p[f"{col} Acc. (%)"]),
                     f"reported {col} Diff. (%)": 0.0 if i == 0 else float(p[f"{col} Diff. (%)"])})
    return pd.DataFrame(rows)


def table2(counting_input: tuple[int, ...] = (1, 3, 224, 224)) -> pd.DataFrame:
    """bs-table2: the paper's ImageNet rows, with our params / #Mult / #Add / #Shift of the
    ImageNet-mobile network built from the Table 5 cell (bit-shift domain, counted on ``meta``)."""
    from repro.cost.counting import count

    paper = reported.load("bs-table2")

    def compute(ckpt: Checkpoint):
        with torch.device("meta"):
            net = darts_space.NetworkImageNet()
        return count(net, counting_input)

    ops = cached("bs-table2-count", {"input": list(counting_input)}, compute, code=(darts_space,))
    ours = {"Architecture": "ShiftNAS (ours, counted)", "Top-1 (%)": float("nan"), "Top-5 (%)": float("nan"),
            "Params (M)": ops.params / 1e6, "Multi (M)": ops.mult / 1e6, "Add (M)": ops.add / 1e6,
            "Shift (M)": ops.shift / 1e6}
    paper = paper.assign(**{"Architecture": paper["Architecture"] + " (reported)", "Shift (M)": float("nan")})
    return pd.concat([paper, pd.DataFrame([ours])], ignore_index=True)
