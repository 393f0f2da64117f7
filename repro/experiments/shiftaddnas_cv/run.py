"""ShiftAddNAS on images, end to end at the profile's scale (notebooks 03, 04 and 05, CV parts).

One-shot training of the CV supernet on Fashion-MNIST (Sec. 3.2.1, Eq. 3), evolutionary search
under a MACs budget with inherited-weight validation accuracy as fitness (Eq. 4, AutoFormer's
settings scaled by the profile), standalone training of subnets from scratch, the cost model's
counts / energy / latency of subnets, and the weight-sharing ablation of Table 5. Every training
and search is cached by its inputs (:func:`repro.cache.cached`), so notebooks 04 and 05 reuse the
supernets of notebook 03 and an interrupted run resumes from its last checkpoint.

Verdicts (:mod:`repro.evidence`) are decided here, never in the notebooks: the exact artifacts
(Table 2, the supernet sizes of Sec. 4.4, the counted columns of Table 4, the cost share of Table 8)
against the paper's numbers with stated tolerances; Table 5 by the paired-bootstrap difference of
the ranking correlations over the same subnets, gated by the ground truth's accuracy and two-seed
reliability.

Deviations from the paper: Fashion-MNIST at a reduced scale instead of ImageNet; the ground truth
of Table 5 is a short standalone training (``standalone_steps``) scored on the test split, over two
training seeds, and one supernet seed per sharing mode (the correlation interval is a bootstrap over
subnets, not over supernet seeds); two of the Table 5 subnets are all-Add and all-Shift (the paper
samples its subnets without saying how).
"""
from __future__ import annotations

import functools
import random
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from typing import Callable, Iterator, TypeVar

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from scipy import stats
from torch import nn
from torch.utils.data import TensorDataset
from tqdm.auto import tqdm

from repro import cache, evidence, reported
from repro.cost.counting import count, count_params
from repro.cost.eyeriss import network_cost
from repro.data.fashion_mnist import load_fashion_mnist
from repro.profiles import Profile
from repro.search import evolution, latency_predictor
from repro.search.evolution import EvolutionSettings, evolutionary_search
from repro.search.latency_predictor import LatencyPredictor, PredictorSettings, sample_latencies
from repro.spaces import shiftaddnas_cv as space_module
from repro.spaces.base import Config
from repro.spaces.shiftaddnas_cv import ShiftAddNASCVSpace, dims_for
from repro.supernets import shiftaddnas_cv as supernet_module
from repro.supernets.shiftaddnas_cv import CVNet, CVSupernet
from repro.train import one_shot
from repro.train.basic import evaluate, loader
from repro.train.one_shot import train_one_shot, train_steps

_CODE = (space_module, supernet_module, one_shot, evolution)
F_ = TypeVar("F_", bound=Callable)


@contextmanager
def one_thread() -> Iterator[None]:
    """Run on one intra-op thread: the layers here are tiny, and on a shared 2-core machine a second
    thread made a supernet step 15x slower in wall-clock time (spinning threads), never faster."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def single_threaded(fn: F_) -> F_:
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with one_thread():
            return fn(*args, **kwargs)
    return wrapper  # type: ignore[return-value]


@dataclass(frozen=True)
class CVExperiment:
    """What a CV run depends on: the cache key of every training and search below."""
    scale: str
    steps: int
    batch_size: int
    lr: float
    warmup_steps: int
    train_subset: int
    test_subset: int
    val_size: int
    calib_batches: int
    search_iterations: int
    population: int
    standalone_steps: int
    seed: int
    weight_decay: float = 0.0

    @classmethod
    def from_profile(cls, profile: Profile) -> "CVExperiment":
        s = profile.supernet
        return cls(scale=s.scale, steps=s.steps, batch_size=s.batch_size, lr=s.lr,
                   warmup_steps=max(1, s.steps // 10), train_subset=profile.data.fashion_train_subset,
                   test_subset=profile.data.fashion_test_subset, val_size=s.val_size,
                   calib_batches=s.calib_batches, search_iterations=s.search_iterations,
                   population=s.population, standalone_steps=s.standalone_steps, seed=profile.seed,
                   weight_decay=s.weight_decay)

    @property
    def space(self) -> ShiftAddNASCVSpace:
        return ShiftAddNASCVSpace(dims_for(self.scale))

    @property
    def evolution(self) -> EvolutionSettings:
        """AutoFormer's CV settings (20 / 50 / 10 / 25 @ 0.2 / 25) scaled to the profile's sizes."""
        return EvolutionSettings.cv().scaled(self.search_iterations, self.population)


@functools.lru_cache(maxsize=4)
def splits(exp: CVExperiment) -> tuple[TensorDataset, TensorDataset, TensorDataset]:
    """Train / validation (held out of the training images, for search fitness) / test (Fashion-MNIST)."""
    dims = dims_for(exp.scale)
    if (dims.in_channels, dims.input_size) != (1, 28):
        raise ValueError(f"the CV experiments run on Fashion-MNIST (1x28x28); scale {exp.scale!r} expects "
                         f"{dims.in_channels}x{dims.input_size}x{dims.input_size} images (an ImageNet pipeline is "
                         "not wired in); use scale 'tiny' or 'small'")
    full = load_fashion_mnist("train", exp.train_subset, seed=exp.seed)
    x, y = full.tensors
    perm = torch.randperm(len(y), generator=torch.Generator().manual_seed(exp.seed))
    val, train = perm[:exp.val_size], perm[exp.val_size:]
    return (TensorDataset(x[train], y[train]), TensorDataset(x[val], y[val]),
            load_fashion_mnist("test", exp.test_subset, seed=exp.seed))


def batches(data: TensorDataset, batch_size: int, seed: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """An endless stream of shuffled batches (a new seeded permutation every epoch)."""
    epoch = 0
    while True:
        yield from loader(data, batch_size, shuffle=True, seed=seed + epoch, drop_last=True)
        epoch += 1


def _ce(model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    return F.cross_entropy(model(batch[0]), batch[1])


@single_threaded
def train_supernet(exp: CVExperiment, sharing: str) -> dict:
    """One-shot training (one uniformly sampled subnet per step), cached: state, losses, wall clock."""
    def compute(ckpt: cache.Checkpoint) -> dict:
        torch.manual_seed(exp.seed)
        net = CVSupernet(dims_for(exp.scale), sharing)
        train = splits(exp)[0]
        res = train_one_shot(net, exp.space, lambda: batches(train, exp.batch_size, exp.seed), _ce,
                             steps=exp.steps, lr=exp.lr, warmup_steps=exp.warmup_steps,
                             weight_decay=exp.weight_decay, ckpt=ckpt,
                             ckpt_every=max(10, exp.steps // 10), seed=exp.seed, desc=f"CV supernet ({sharing})")
        return {"state": net.state_dict(), "losses": res.losses, "wall_clock_s": res.wall_clock_s,
                "steps": res.steps}

    return cache.cached("cv-supernet", {"exp": asdict(exp), "sharing": sharing}, compute, code=_CODE)


def load_supernet(exp: CVExperiment, sharing: str) -> tuple[CVSupernet, dict]:
    """The trained supernet (from the cache, training it if needed) and its training record."""
    run = train_supernet(exp, sharing)
    net = CVSupernet(dims_for(exp.scale), sharing)
    net.load_state_dict(run["state"])
    return net.eval(), run


@torch.no_grad()
def recalibrate_bn(model: nn.Module, calib: list[tuple[torch.Tensor, torch.Tensor]]) -> None:
    """Reset the BatchNorm statistics and re-estimate them on ``calib`` with the active path (SPOS)."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # a cumulative average over the calibration batches
    model.train()
    for x, _ in calib:
        model(x)
    for m in norms:
        m.momentum = 0.1
    model.eval()


class InheritedAccuracy:
    """Validation accuracy of a subnet with weights inherited from a supernet (Eq. 4), BN recalibrated."""

    def __init__(self, net: CVSupernet, exp: CVExperiment):
        train, val, _ = splits(exp)
        stream = batches(train, exp.batch_size, exp.seed + 1)
        self.net, self.calib = net, [next(stream) for _ in range(exp.calib_batches)]
        self.val = loader(val, 500, shuffle=False)

    def __call__(self, config: Config) -> float:
        self.net.set_active_subnet(config)
        recalibrate_bn(self.net, self.calib)
        return evaluate(self.net, self.val)["acc"]


def macs_budget(exp: CVExperiment, quantile: float, samples: int = 2000) -> int:
    """The MACs of the ``quantile`` of uniformly sampled subnets (the search constraint)."""
    rng = random.Random(exp.seed)
    space = exp.space
    return int(np.quantile([space.macs(space.sample(rng)) for _ in range(samples)], quantile))


@single_threaded
def search(exp: CVExperiment, sharing: str, budget_quantile: float) -> dict:
    """Evolutionary search under ``MACs <= macs_budget(quantile)``, cached: best config, history, time."""
    def compute(_: cache.Checkpoint) -> dict:
        net, _run = load_supernet(exp, sharing)
        fitness = InheritedAccuracy(net, exp)
        budget = macs_budget(exp, budget_quantile)
        start = time.perf_counter()
        res = evolutionary_search(exp.space, fitness, exp.evolution, constraint=lambda c: exp.space.macs(c) <= budget,
                                  seed=exp.seed, desc=f"CV search ({sharing}, MACs <= {budget / 1e6:.2f}M)")
        return {"best": res.best, "inherited_acc": res.best_fitness, "history": res.history,
                "evaluated": res.evaluated, "macs_budget": budget, "wall_clock_s": time.perf_counter() - start}

    train_supernet(exp, sharing)  # outside the timed search: training is its own cached step
    return cache.cached("cv-search", {"exp": asdict(exp), "sharing": sharing, "quantile": budget_quantile},
                        compute, code=_CODE)


@single_threaded
def train_standalone(exp: CVExperiment, config: Config, seed: int | None = None) -> dict:
    """Train the subnet from scratch (same recipe, ``standalone_steps`` steps), cached: val / test accuracy.

    ``seed`` (default ``exp.seed``) sets the initialisation and the data order; the splits stay ``exp``'s.
    """
    seed = exp.seed if seed is None else seed

    def compute(ckpt: cache.Checkpoint) -> dict:
        torch.manual_seed(seed)
        net = CVNet(dims_for(exp.scale), config)
        train, val, test = splits(exp)
        res = train_steps(net, lambda: batches(train, exp.batch_size, seed), _ce, steps=exp.standalone_steps,
                          lr=exp.lr, warmup_steps=max(1, exp.standalone_steps // 10),
                          weight_decay=exp.weight_decay, ckpt=ckpt,
                          ckpt_every=max(10, exp.standalone_steps // 5), seed=seed, desc="standalone")
        net.eval()
        return {"val_acc": evaluate(net, loader(val, 500, shuffle=False))["acc"],
                "test_acc": evaluate(net, loader(test, 500, shuffle=False))["acc"], "wall_clock_s": res.wall_clock_s}

    return cache.cached("cv-standalone", {"exp": asdict(exp), "config": config, "seed": seed}, compute, code=_CODE)


def _meta_net(scale: str, config: Config) -> CVNet:
    with torch.device("meta"):  # no memory, and the attention matmuls are decomposed so they are counted
        return CVNet(dims_for(scale), config)


def _input_shape(scale: str) -> tuple[int, int, int, int]:
    d = dims_for(scale)
    return (1, d.in_channels, d.input_size, d.input_size)


@single_threaded
def subnet_cost(scale: str, config: Config, bits: int = 32) -> dict:
    """Params, MACs, #Mult / #Add / #Shift, energy (mJ) and latency (ms) of a subnet (cost model)."""
    net = _meta_net(scale, config)
    c = count(net, _input_shape(scale))
    hw = network_cost(net, _input_shape(scale), bits=bits)
    return {"params": c.params, "macs": c.macs, "mult": c.mult, "add": c.add, "shift": c.shift,
            "energy_mj": hw.energy_mj, "latency_ms": hw.latency_ms}


def distinct_samples(space: ShiftAddNASCVSpace, n: int, seed: int) -> list[Config]:
    """``n`` distinct uniformly sampled configs (fixed seed)."""
    rng = random.Random(seed)
    out: dict[str, Config] = {}
    while len(out) < n:
        cfg = space.sample(rng)
        out.setdefault(repr(cfg), cfg)
    return list(out.values())


def ablation_subnets(space: ShiftAddNASCVSpace, n: int, seed: int) -> list[Config]:
    """Table 5's subnets: one all-Add and one all-Shift subnet (sampled depths), then distinct uniform samples."""
    rng = random.Random(seed)
    heavy = []
    for code in (space_module.BLOCK_TYPES.index("Add"), space_module.BLOCK_TYPES.index("Shift"))[:n]:
        cfg = space.sample(rng)
        heavy.append({**cfg, "stages": [[code] * len(layers) for layers in cfg["stages"]]})
    rest = [c for c in distinct_samples(space, n, seed) if c not in heavy]
    return heavy + rest[: n - len(heavy)]


def ranking(inherited: list[float], standalone: list[float]) -> dict[str, float]:
    """Kendall tau, Pearson R and Spearman rho between inherited and standalone accuracy (Table 5)."""
    return {"kendall_tau": float(stats.kendalltau(inherited, standalone).statistic),
            "pearson_r": float(stats.pearsonr(inherited, standalone).statistic),
            "spearman_rho": float(stats.spearmanr(inherited, standalone).statistic)}


@single_threaded
def sharing_ablation(exp: CVExperiment, subnets: int, budget_quantile: float = 0.5,
                     modes: tuple[str, ...] = ("naive", "heterogeneous")) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Table 5: per mode the ranking correlations over the same ``subnets`` subnets (:func:`ablation_subnets`),
    and the standalone top-1, params, energy and latency of that mode's searched subnet.

    The ground truth is the standalone test accuracy, trained at two seeds (``exp.seed``, ``exp.seed + 1``)
    and averaged; the per-seed accuracies feed the reliability and accuracy gates (:func:`ablation_evidence`).
    Returns (the table, one row per subnet with its inherited and standalone accuracies).
    """
    configs = ablation_subnets(exp.space, subnets, exp.seed + 7)
    per_subnet = pd.DataFrame({"config": [repr(c["stages"]) for c in configs]})
    for i, seed in enumerate((exp.seed, exp.seed + 1)):
        per_subnet[f"standalone_acc_seed{i}"] = [train_standalone(exp, c, seed)["test_acc"]
                                                 for c in tqdm(configs, desc=f"standalone subnets (seed {seed})",
                                                               leave=False)]
    per_subnet["standalone_acc"] = (per_subnet["standalone_acc_seed0"] + per_subnet["standalone_acc_seed1"]) / 2
    truth = list(per_subnet["standalone_acc"])
    rows = []
    for mode in modes:
        net, _ = load_supernet(exp, mode)
        fitness = InheritedAccuracy(net, exp)
        per_subnet[f"inherited_acc_{mode}"] = [fitness(c) for c in tqdm(configs, desc=f"inherited ({mode})",
                                                                        leave=False)]
        found = search(exp, mode, budget_quantile)
        best = train_standalone(exp, found["best"])
        rows.append({"sharing": mode, **ranking(list(per_subnet[f"inherited_acc_{mode}"]), truth),
                     "top1_test": best["test_acc"], **subnet_cost(exp.scale, found["best"]),
                     "searched": repr(found["best"]["stages"])})
    return pd.DataFrame(rows), per_subnet


#: Table 5's correlations, as the evidence rule names them.
CORRELATIONS = {"kendall": "kendall_tau", "pearson": "pearson_r", "spearman": "spearman_rho"}


def ablation_evidence(per_subnet: pd.DataFrame, steps: int) -> evidence.Evidence:
    """sa-table5: heterogeneous minus naive sharing, for each correlation with the ground truth, paired
    bootstrap over the subnets; all three must hold. Gates: every ground-truth network reaches the
    Fashion-MNIST floor, and the two ground-truth seeds agree (Kendall tau >= the reliability floor)."""
    seeds = per_subnet[["standalone_acc_seed0", "standalone_acc_seed1"]]
    reliability = float(stats.kendalltau(seeds.iloc[:, 0], seeds.iloc[:, 1]).statistic)  # nan fails the gate
    gates = (evidence.accuracy_gate(f"ground truth ({steps} standalone steps, 2 seeds)", seeds.to_numpy().ravel()),
             evidence.gate("ground-truth Kendall tau between its two seeds", reliability,
                           evidence.RANKING_RELIABILITY_FLOOR))
    y = per_subnet["standalone_acc"]
    ev = evidence.gated(evidence.all_of({m: evidence.correlation_difference(per_subnet["inherited_acc_heterogeneous"],
                                                                            per_subnet["inherited_acc_naive"], y,
                                                                            method=m) for m in CORRELATIONS}), gates)
    if ev.verdict == evidence.NOT_TESTABLE:
        ev = replace(ev, reason=ev.reason + "; " + ABLATION_BUDGET)
    return ev


#: What passes the accuracy gate, measured on this machine at one thread (default profile, tiny scale):
#: a sampled subnet reached 83.7% Fashion-MNIST test accuracy after 400 standalone steps (about 50 s).
ABLATION_BUDGET = ("budget that would pass the accuracy gate: about 900 standalone steps (one epoch) per "
                   "ground-truth network, about 100 s each at one thread, i.e. 2 seeds x 20 subnets ~ 70 min")


def cost_share_evidence(table8: pd.DataFrame) -> evidence.Evidence:
    """sa-table8: our supernet-training share of the search cost against the paper's 87% (10 pp tolerance)."""
    return evidence.exact(table8["CV ours share (%)"].iloc[0], table8["CV reported share (%)"].iloc[0],
                          unit="% of search cost", abs_tol=10.0)


def search_cost_evidence() -> evidence.Evidence:
    """sa-table7: the claim compares GPU days with DARTS and BossNAS, which we did not run."""
    return evidence.not_testable("we did not run DARTS or BossNAS, and CPU seconds at toy scale on Fashion-MNIST "
                                 "are not comparable to V100 days on ImageNet")


def search_cost_tables(run: dict, found: dict, profile: str, scale: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Tables 7 and 8: the paper's GPU days beside our measured CPU seconds (supernet training + search)."""
    t7 = reported.load("sa-table7")
    t7 = pd.DataFrame({"Method": t7["Methods"], "Source": "reported (V100)",
                       "Search cost (GPU days)": t7["Search Cost (GPU days)"], "Measured (CPU s)": np.nan})
    total = run["wall_clock_s"] + found["wall_clock_s"]
    ours = {"Method": f"ShiftAddNAS (ours, {profile} profile, {scale} CV space, Fashion-MNIST)",
            "Source": "measured (CPU)", "Search cost (GPU days)": np.nan, "Measured (CPU s)": total}
    t8 = reported.load("sa-table8")
    paper_cv = t8["CV (GPU days)"]
    measured = [run["wall_clock_s"], found["wall_clock_s"]]
    table8 = pd.DataFrame({"Stage": t8["Stage"], "NLP reported (GPU days)": t8["NLP (GPU days)"],
                           "CV reported (GPU days)": paper_cv,
                           "CV reported share (%)": 100 * paper_cv / paper_cv.sum(),
                           "CV ours (CPU s)": measured,
                           "CV ours share (%)": [100 * m / sum(measured) for m in measured]})
    return pd.concat([t7, pd.DataFrame([ours])], ignore_index=True), table8


def table2(space: ShiftAddNASCVSpace) -> pd.DataFrame:
    """Table 2 read from the space objects (paper scale and the profile's scale) beside the reported one."""
    rep = reported.load("sa-table2")
    paper = ShiftAddNASCVSpace("paper").describe()
    return pd.DataFrame({"Searchable choice (reported)": rep["Searchable choice"], "Reported": rep["Options"],
                         "Ours, paper scale": [r["values"] for r in paper],
                         f"Ours, profile scale ({space.dims.stages[0].resolution}² first stage)":
                         [f"{r['choice'].removeprefix('Num. of ')}: {r['values']}" if i else r["values"]
                          for i, r in enumerate(space.describe())]})


def table2_mismatches(table: pd.DataFrame) -> int:
    """Rows where our paper-scale Table 2 lists other choices than the reported ones (block types as sets)."""
    def norm(s: str) -> list[str]:
        return sorted(v.strip() for v in s.strip("[]").replace("'", "").split(","))
    return sum(norm(a) != norm(b) for a, b in zip(table["Reported"], table["Ours, paper scale"]))


def table2_evidence(table: pd.DataFrame) -> evidence.Evidence:
    """sa-table2: every row of our paper-scale space object lists Table 2's choices (no tolerance)."""
    return evidence.exact(table2_mismatches(table), 0, unit="rows differing from Table 2", abs_tol=0)


@single_threaded
def supernet_sizes() -> pd.DataFrame:
    """Sec. 4.4: paper-scale supernet parameters per sharing mode (built on the meta device) vs reported."""
    dims = dims_for("paper")
    with torch.device("meta"):
        size = {m: count_params(CVSupernet(dims, m)) / 1e6 for m in ("none", "naive", "heterogeneous")}
    rep = reported.load("sa-text-supernetsize").set_index("Supernet")["Params (M)"]
    saving = 100 * (1 - size["heterogeneous"] / size["none"])
    return pd.DataFrame({"Supernet": ["w/o WS", "w/ naive WS", "w/ HWS", "Saving of HWS (%)"],
                         "Ours (M)": [size["none"], size["naive"], size["heterogeneous"], saving],
                         "Reported (M)": [rep["w/o WS"], np.nan, rep["w/ HWS"], rep["Saving (%)"]]})


#: Relative tolerance of a paper-scale size or count against the paper's (its numbers carry 2 digits; issue 13).
SIZE_REL_TOL = 0.15


def supernet_size_evidence(sizes: pd.DataFrame) -> evidence.Evidence:
    """sa-text-supernetsize: our paper-scale sizes (M) within 15% of 615M / 364M, the saving within 5 pp of 41%."""
    t = sizes.set_index("Supernet")
    params = evidence.exact_all({k: (t.loc[k, "Ours (M)"], t.loc[k, "Reported (M)"]) for k in ("w/o WS", "w/ HWS")},
                                unit="M params", rel_tol=SIZE_REL_TOL)
    saving = evidence.exact(t.loc["Saving of HWS (%)", "Ours (M)"], t.loc["Saving of HWS (%)", "Reported (M)"],
                            unit="% saving", abs_tol=5.0)
    return evidence.all_of({"sizes": params, "saving": saving})


ZOO_ROWS = {"AdderNet": ("addernet-resnet50", None), "AdderNet-PKKD": ("addernet-resnet50", None),
            "DeepShift-Q": ("deepshift-resnet50", None), "DeepShift-PS": ("deepshift-resnet50", None),
            "ResNet-50": ("resnet50", None), "ResNet-101": ("resnet101", None),
            "ViT-B/16": ("vit-base-16", 384), "DeiT-T": ("deit-tiny", None), "DeiT-S": ("deit-small", None),
            "Autoformer-S": ("autoformer-small", None), "Autoformer-B": ("autoformer-base", None),
            "ShiftAddNAS-T0": ("shiftaddnas-t0", None), "ShiftAddNAS-T0↑": ("shiftaddnas-t0", 256),
            "ShiftAddNAS-T1": ("shiftaddnas-t1", None), "ShiftAddNAS-T1↑": ("shiftaddnas-t1", 256)}
_COUNTED = ("params", "macs", "mult", "add", "shift")


def _zoo_counts() -> dict[str, dict]:
    from repro.cost import zoo

    def compute(_: cache.Checkpoint) -> dict[str, dict]:
        out = {}
        for row, (name, res) in tqdm(ZOO_ROWS.items(), desc="zoo counts", leave=False):
            c = zoo.counts(name, res)
            out[row] = {k: getattr(c, k) for k in _COUNTED} | {"zoo model": name}
        return out

    return cache.cached("cv-table4-zoo", sorted(ZOO_ROWS.items()), compute, code=(zoo,))


@single_threaded
def table4(searched: list[dict], profile: str, scale: str) -> pd.DataFrame:
    """Table 4: the reported rows with our counted params / MACs / #Mult / #Add / #Shift of the paper-scale
    models (zoo), the Fig. 8 encoding built in our block design, and our searched subnets (Fashion-MNIST).

    ``searched``: dicts with ``label``, ``config``, ``test_acc`` of our searched subnets.
    """
    rep = reported.load("sa-table4")
    counts = _zoo_counts()
    rows = []
    for _, r in rep.iterrows():
        c = counts.get(r["Model"], {})
        rows.append({"Model": r["Model"], "Source": "reported", "Top-1 (%)": r["Top-1 (%)"],
                     "Params (M)": r["Params (M)"], "Res.": r["Res. (px)"], "MACs (G)": r["MACs (G)"],
                     "#Mult (G)": r["#Mult. (G)"], "#Add (G)": r["#Add (G)"], "#Shift (G)": r["#Shift (G)"],
                     "Ours: zoo model": c.get("zoo model", ""), **(_ours(c) if c else {})})
    fig8 = subnet_cost("paper", space_module.PAPER_FIG8)
    rows.append({"Model": "Fig. 8 encoding in our block design", "Source": "ours (exact, paper scale)",
                 "Res.": 224, **_ours(fig8)})
    for s in searched:
        cost = subnet_cost(scale, s["config"])
        rows.append({"Model": s["label"], "Source": f"ours ({profile} profile, {scale}, Fashion-MNIST)",
                     "Top-1 (%)": s["test_acc"], "Res.": 28, **_ours(cost)})
    return pd.DataFrame(rows)


#: Table 4's counted columns: (reported, ours, unit).
TABLE4_COUNTED = (("Params (M)", "Ours: params (M)", "M"), ("MACs (G)", "Ours: macs (G)", "G"),
                  ("#Mult (G)", "Ours: mult (G)", "G"), ("#Add (G)", "Ours: add (G)", "G"),
                  ("#Shift (G)", "Ours: shift (G)", "G"))


def table4_evidence(table: pd.DataFrame) -> evidence.Evidence:
    """sa-table4: the counted columns of the zoo models within 15% of the reported ones (0.05 absolute for
    zero counts), and the accuracy claim, which needs ImageNet training (not testable here)."""
    rows = table[(table["Source"] == "reported") & (table["Ours: zoo model"] != "")]
    counted = evidence.exact_all({f"{r['Model']} {rep}": (r[ours], r[rep]) for _, r in rows.iterrows()
                                  for rep, ours, _unit in TABLE4_COUNTED},
                                 unit="M params / G ops", rel_tol=SIZE_REL_TOL, abs_tol=0.05)
    accuracy = evidence.not_testable("ImageNet accuracies of ShiftAddNAS and the baselines need ImageNet training; "
                                     "our searched rows are reduced-scale Fashion-MNIST runs without baselines")
    ev = evidence.all_of({"counted columns": counted, "accuracy": accuracy})
    return replace(ev, reason=f"counted columns: {counted.verdict} ({counted.reason}); accuracy: {accuracy.verdict} "
                   f"({accuracy.reason})")


def _ours(cost: dict) -> dict:
    """Our counted columns (G; the reduced-scale subnets have a few MMACs, printed as 0.00x G)."""
    return {"Ours: params (M)": cost["params"] / 1e6, **{f"Ours: {k} (G)": cost[k] / 1e9 for k in _COUNTED[1:]}}


@dataclass(frozen=True)
class BlockCosts:
    """The cost model's energy (mJ) and latency (ms) of the fixed layers and of one block per (stage, type).

    The dataflow model costs a network as the sum of its layers, and a block's layers depend only on
    its stage and type, so ``fixed + sum of the blocks`` is a subnet's cost exactly, without rebuilding it.
    """
    fixed: tuple[float, float]
    blocks: tuple[tuple[tuple[float, float], ...], ...]  # [stage][type code] -> (energy, latency)

    def __call__(self, config: Config) -> tuple[float, float]:
        e, lat = self.fixed
        for stage, codes in zip(self.blocks, config["stages"]):
            for code in codes:
                e, lat = e + stage[code][0], lat + stage[code][1]
        return e, lat


@single_threaded
def block_costs(scale: str, bits: int = 32) -> BlockCosts:
    """:class:`BlockCosts` from four networks (every layer of one type at the deepest depths), cached."""
    def compute(_: cache.Checkpoint) -> BlockCosts:
        space = ShiftAddNASCVSpace(scale)
        blocks = [[(0.0, 0.0)] * len(space_module.BLOCK_TYPES) for _ in space.stages]
        fixed = (0.0, 0.0)
        for code in tqdm(range(len(space_module.BLOCK_TYPES)), desc="block costs", leave=False):
            per_layer = network_cost(_meta_net(scale, {"stages": [[code] * max(st.depths) for st in space.stages]}),
                                     _input_shape(scale), bits=bits).per_layer
            block = per_layer["name"].str.extract(r"^stages\.(\d+)\.(\d+)\.")
            own = block[0].notna()
            fixed = (float(per_layer.energy_mj[~own].sum()), float(per_layer.latency_ms[~own].sum()))
            first = own & (block[1] == "0")
            for stage, group in per_layer[first].groupby(block[0][first].astype(int)):
                blocks[stage][code] = (float(group.energy_mj.sum()), float(group.latency_ms.sum()))
        return BlockCosts(fixed, tuple(tuple(b) for b in blocks))

    return cache.cached("cv-block-costs", {"scale": scale, "bits": bits}, compute, code=_CODE)


@single_threaded
def latency_predictor_check(exp: CVExperiment, samples: int, held_out: float = 0.2) -> dict:
    """Fit the latency predictor on cost-model latencies of sampled subnets; its MAPE on held-out ones (cached)."""
    def compute(_: cache.Checkpoint) -> dict:
        costs = block_costs(exp.scale)
        configs, lat = sample_latencies(exp.space, lambda c: costs(c)[1], samples, seed=exp.seed + 11)
        cut = int(round(len(configs) * (1 - held_out)))
        pred = LatencyPredictor(exp.space, PredictorSettings(hidden=64, epochs=300, batch_size=cut, lr=5e-3),
                                seed=exp.seed)
        pred.fit(configs[:cut], lat[:cut])
        return {"mape_pct": pred.mape(configs[cut:], lat[cut:]), "train": cut, "held_out": len(configs) - cut,
                "latency_ms_range": (min(lat), max(lat))}

    return cache.cached("cv-latency-predictor", {"exp": asdict(exp), "samples": samples, "held_out": held_out},
                        compute, code=_CODE + (latency_predictor,))


BLOCK_COLORS = {"Attn": "#4c72b0", "Conv": "#55a868", "Add": "#c44e52", "Shift": "#dd8452"}


def architecture_evidence() -> evidence.Evidence:
    """sa-fig8: a drawing of the paper's and our searched architecture."""
    return evidence.not_applicable("a drawing of two architectures")


def draw_architecture(ax, config: Config, space: ShiftAddNASCVSpace, title: str) -> None:
    """Fig. 8 style: a stage x layer grid of block-type codes (0 Attn, 1 Conv, 2 Add, 3 Shift)."""
    import matplotlib.patches as mpatches

    space.validate(config)
    width = max(max(st.depths) for st in space.stages)
    for row, layers in enumerate(config["stages"]):
        for col, code in enumerate(layers):
            name = space_module.BLOCK_TYPES[code]
            ax.add_patch(mpatches.Rectangle((col, -row - 1), 0.95, 0.9, color=BLOCK_COLORS[name]))
            ax.text(col + 0.47, -row - 0.55, str(code), ha="center", va="center", color="white", fontsize=9)
    ax.set_yticks([-r - 0.55 for r in range(len(space.stages))],
                  [f"1/{space.dims.stem_stride * 2 ** i} ({st.resolution}²×{st.channels})"
                   for i, st in enumerate(space.stages)])
    ax.set_xticks([c + 0.47 for c in range(width)], [str(c + 1) for c in range(width)])
    ax.set(xlim=(0, width), ylim=(-len(space.stages), 0), xlabel="layer in stage", title=title)
    ax.grid(False)
    handles = [mpatches.Patch(color=c, label=f"{i} {n}") for i, (n, c) in
               enumerate((n, BLOCK_COLORS[n]) for n in space_module.BLOCK_TYPES)]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.22), fontsize=7, ncol=4, frameon=False)
