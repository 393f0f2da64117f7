"""ShiftAddNAS on images, the computing part: the study's config (:class:`CVExperiment`, from the profile),
the data, one-shot supernet training, evolutionary search, standalone training, the cost model's numbers of
subnets, the latency predictor and the sharing ablation of Table 5. Every training and search is cached by
its inputs (:func:`repro.cache.cached`; the key is ``asdict(exp)`` and the step's own arguments).
"""
from __future__ import annotations

import functools
import random
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Callable, Iterator, TypeVar

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from scipy import stats
from torch import nn
from torch.utils.data import TensorDataset
from tqdm.auto import tqdm

from repro import cache
from repro.cost import measured
from repro.cost.counting import count
from repro.cost.eyeriss import network_cost
from repro.data.fashion_mnist import load_fashion_mnist
from repro.ops import shift, weight_sharing
from repro.ops.weight_sharing import kernel_param_groups
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

_CODE = (space_module, supernet_module, weight_sharing, shift, one_shot, evolution)
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
    kernel_lr: float
    warmup_steps: int
    train_subset: int
    test_subset: int
    val_size: int
    calib_batches: int
    search_iterations: int
    population: int
    standalone_steps: int
    ablation_subnets: int
    predictor_samples: int
    predictor_hidden: int
    predictor_epochs: int
    predictor_lr: float
    seed: int
    weight_decay: float

    @classmethod
    def from_profile(cls, profile: Profile) -> "CVExperiment":
        s = profile.supernet
        return cls(scale=s.scale, steps=s.steps, batch_size=s.batch_size, lr=s.lr, kernel_lr=s.kernel_lr,
                   warmup_steps=max(1, s.steps // 10), train_subset=profile.data.fashion_train_subset,
                   test_subset=profile.data.fashion_test_subset, val_size=s.val_size,
                   calib_batches=s.calib_batches, search_iterations=s.search_iterations,
                   population=s.population, standalone_steps=s.standalone_steps,
                   ablation_subnets=s.ablation_subnets, predictor_samples=s.predictor_samples,
                   predictor_hidden=s.predictor_hidden, predictor_epochs=s.predictor_epochs,
                   predictor_lr=s.predictor_lr, seed=profile.seed, weight_decay=s.weight_decay)

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


def classification_loss(model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """Cross-entropy of the Fashion-MNIST runs (plain: no label smoothing or Mixup at this scale)."""
    return F.cross_entropy(model(batch[0]), batch[1])


@single_threaded
def train_supernet(exp: CVExperiment, sharing: str) -> dict:
    """One-shot training (one uniformly sampled subnet per step), cached: state, losses, wall clock.
    The transformation kernels' alphas train at their own peak ``exp.kernel_lr`` (:func:`kernel_param_groups`)."""
    def compute(ckpt: cache.Checkpoint) -> dict:
        torch.manual_seed(exp.seed)
        net = CVSupernet(dims_for(exp.scale), sharing)
        train = splits(exp)[0]
        res = train_one_shot(net, exp.space, lambda: batches(train, exp.batch_size, exp.seed), classification_loss,
                             steps=exp.steps, lr=exp.lr, warmup_steps=exp.warmup_steps,
                             weight_decay=exp.weight_decay, param_groups=kernel_param_groups(net, exp.kernel_lr),
                             ckpt=ckpt,
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
        net = standalone_net(exp.scale, config)
        train, val, test = splits(exp)
        res = train_steps(net, lambda: batches(train, exp.batch_size, seed), classification_loss,
                          steps=exp.standalone_steps, lr=exp.lr, warmup_steps=max(1, exp.standalone_steps // 10),
                          weight_decay=exp.weight_decay, ckpt=ckpt,
                          ckpt_every=max(10, exp.standalone_steps // 5), seed=seed, desc="standalone")
        net.eval()
        return {"val_acc": evaluate(net, loader(val, 500, shuffle=False))["acc"],
                "test_acc": evaluate(net, loader(test, 500, shuffle=False))["acc"], "wall_clock_s": res.wall_clock_s}

    return cache.cached("cv-standalone", {"exp": asdict(exp), "config": config, "seed": seed}, compute, code=_CODE)


def standalone_net(scale: str, config: Config) -> CVNet:
    """A searched subnet as the network it is retrained, costed and timed as (:meth:`CVSpaceDims.retrained`:
    at paper scale the released retraining's widths, twice the search supernet's; the reduced scales retrain
    at the supernet's widths)."""
    return CVNet(dims_for(scale).retrained(), config)


def _meta_net(scale: str, config: Config) -> CVNet:
    with torch.device("meta"):  # no memory, and the attention matmuls are decomposed so they are counted
        return standalone_net(scale, config)


def _input_shape(scale: str) -> tuple[int, int, int, int]:
    d = dims_for(scale)
    return (1, d.in_channels, d.input_size, d.input_size)


@single_threaded
def subnet_cost(scale: str, config: Config, bits: int = 32) -> dict:
    """Params, MACs, #Mult / #Add / #Shift, energy (mJ) and latency (ms) of a subnet (cost model), as
    :func:`standalone_net`."""
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
def sharing_ablation(exp: CVExperiment, budget_quantile: float = 0.5,
                     modes: tuple[str, ...] = ("naive", "heterogeneous")) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Table 5: per mode the ranking correlations over the same ``exp.ablation_subnets`` subnets
    (:func:`ablation_subnets`), and the standalone top-1, params, energy and latency of that mode's searched subnet.

    The ground truth is the standalone test accuracy, trained at two seeds (``exp.seed``, ``exp.seed + 1``)
    and averaged; the per-seed accuracies feed the reliability and accuracy gates (``claims.table5``).
    Returns (the table, one row per subnet with its inherited and standalone accuracies).
    """
    configs = ablation_subnets(exp.space, exp.ablation_subnets, exp.seed + 7)
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


#: Table 4's rows costed from the zoo: (zoo model, input resolution; None: the model's own).
ZOO_ROWS = {"AdderNet": ("addernet-resnet50", None), "AdderNet-PKKD": ("addernet-resnet50", None),
            "DeepShift-Q": ("deepshift-resnet50", None), "DeepShift-PS": ("deepshift-resnet50", None),
            "ResNet-50": ("resnet50", None), "ResNet-101": ("resnet101", None),
            "ViT-B/16": ("vit-base-16", 384), "DeiT-T": ("deit-tiny", None), "DeiT-S": ("deit-small", None),
            "Autoformer-S": ("autoformer-small", None), "Autoformer-B": ("autoformer-base", None),
            "ShiftAddNAS-T0": ("shiftaddnas-t0", None), "ShiftAddNAS-T0↑": ("shiftaddnas-t0", 256),
            "ShiftAddNAS-T1": ("shiftaddnas-t1", None), "ShiftAddNAS-T1↑": ("shiftaddnas-t1", 256)}
#: The counted columns of Table 4.
COUNTED = ("params", "macs", "mult", "add", "shift")


def zoo_counts() -> dict[str, dict]:
    """Our counts of the paper-scale zoo models behind Table 4's rows (:data:`ZOO_ROWS`), cached."""
    from repro.cost import zoo

    def compute(_: cache.Checkpoint) -> dict[str, dict]:
        out = {}
        for row, (name, res) in tqdm(ZOO_ROWS.items(), desc="zoo counts", leave=False):
            c = zoo.counts(name, res)
            out[row] = {k: getattr(c, k) for k in COUNTED} | {"zoo model": name}
        return out

    return cache.cached("cv-table4-zoo", sorted(ZOO_ROWS.items()), compute, code=(zoo,))



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
def latency_predictor_check(exp: CVExperiment, held_out: float = 0.2) -> dict:
    """Fit the latency predictor (Sec. 4.1) on cost-model latencies of ``exp.predictor_samples`` sampled subnets
    (full-batch Adam); its MAPE on the held-out ones (cached)."""
    def compute(_: cache.Checkpoint) -> dict:
        costs = block_costs(exp.scale)
        configs, lat = sample_latencies(exp.space, lambda c: costs(c)[1], exp.predictor_samples, seed=exp.seed + 11)
        cut = int(round(len(configs) * (1 - held_out)))
        settings = PredictorSettings(hidden=exp.predictor_hidden, epochs=exp.predictor_epochs, batch_size=cut,
                                     lr=exp.predictor_lr)
        pred = LatencyPredictor(exp.space, settings, seed=exp.seed)
        pred.fit(configs[:cut], lat[:cut])
        return {"mape_pct": pred.mape(configs[cut:], lat[cut:]), "train": cut, "held_out": len(configs) - cut,
                "latency_ms_range": (min(lat), max(lat))}

    return cache.cached("cv-latency-predictor", {"exp": asdict(exp), "held_out": held_out},
                        compute, code=_CODE + (latency_predictor,))


def _measured_ms(exp: CVExperiment, config: Config, repeats: int) -> float:
    """The subnet built standalone (seeded weights) and its forward pass timed at batch 1 (:mod:`.measured`)."""
    torch.manual_seed(exp.seed)
    return measured.latency_ms(standalone_net(exp.scale, config), _input_shape(exp.scale), repeats)


@single_threaded
def measured_latencies(exp: CVExperiment, repeats: int = 10, repeat_share: float = 0.2) -> dict:
    """Forward latency (ms; batch 1, one thread, minimum of ``repeats`` after 2 warm-up calls) on this machine
    of the ``exp.predictor_samples`` subnets :func:`latency_predictor_check` samples (cached, with the
    machine and its load before and after; timings on a shared machine carry its load). The last
    ``repeat_share`` of them are timed a second time afterwards (``latency_ms_repeat``): how well one
    measurement predicts another, the floor under any predictor's error."""
    def compute(_: cache.Checkpoint) -> dict:
        before = measured.machine()
        configs, lat = sample_latencies(exp.space, lambda c: _measured_ms(exp, c, repeats), exp.predictor_samples,
                                        seed=exp.seed + 11)
        again = [_measured_ms(exp, c, repeats) for c in configs[-max(1, round(len(configs) * repeat_share)):]]
        return {"configs": configs, "latency_ms": lat, "latency_ms_repeat": again, "repeats": repeats,
                "machine": before, "load_avg_1min_after": measured.machine()["load_avg_1min"]}

    return cache.cached("cv-measured-latency", {"exp": asdict(exp), "repeats": repeats, "repeat_share": repeat_share},
                        compute, code=(space_module, supernet_module, measured))


def _fit_measured(exp: CVExperiment, data: dict, held_out: float) -> tuple[LatencyPredictor, int]:
    """The latency predictor fitted on the first ``1 - held_out`` of the measured subnets; the split index."""
    cut = int(round(len(data["configs"]) * (1 - held_out)))
    pred = LatencyPredictor(exp.space, PredictorSettings(hidden=exp.predictor_hidden, epochs=exp.predictor_epochs,
                                                         batch_size=cut, lr=exp.predictor_lr), seed=exp.seed)
    pred.fit(data["configs"][:cut], data["latency_ms"][:cut])
    return pred, cut


@single_threaded
def measured_predictor_check(exp: CVExperiment, held_out: float = 0.2) -> dict:
    """The latency predictor (Sec. 4.1) on measured latencies (:func:`measured_latencies`): its MAPE on the
    held-out subnets against the paper's < 5%; ``repeat_mape_pct``, the MAPE of a second measurement of
    the last subnets against the first (the timing noise: no predictor can be judged below it); and how
    far the cost model's latency ranks as the measured one does (Spearman over all subnets)."""
    data = measured_latencies(exp)
    pred, cut = _fit_measured(exp, data, held_out)
    costs = block_costs(exp.scale)
    modelled = [costs(c)[1] for c in data["configs"]]
    first, again = np.array(data["latency_ms"][-len(data["latency_ms_repeat"]):]), np.array(data["latency_ms_repeat"])
    return {"mape_pct": pred.mape(data["configs"][cut:], data["latency_ms"][cut:]),
            "repeat_mape_pct": float(np.mean(np.abs(again - first) / first) * 100.0), "train": cut,
            "held_out": len(data["configs"]) - cut, "latency_ms_range": (min(data["latency_ms"]),
                                                                         max(data["latency_ms"])),
            "spearman_cost_model_vs_measured": float(stats.spearmanr(modelled, data["latency_ms"])[0]),
            "machine": data["machine"], "load_avg_1min_after": data["load_avg_1min_after"]}


def latency_search(exp: CVExperiment, sharing: str = "heterogeneous", budget_quantile: float = 0.5,
                   held_out: float = 0.2) -> dict:
    """Evolutionary search under *predicted* latency <= the ``budget_quantile`` of the measured latencies
    (Sec. 4.1: the predictor stands in for timing inside the search), then the winner timed (cached):
    best config, its predicted and measured ms, the budget, whether the measurement meets it."""
    def compute(_: cache.Checkpoint) -> dict:
        data = measured_latencies(exp)
        with one_thread():
            pred, _cut = _fit_measured(exp, data, held_out)
        budget = float(np.quantile(data["latency_ms"], budget_quantile))
        net, _run = load_supernet(exp, sharing)
        res = evolutionary_search(exp.space, InheritedAccuracy(net, exp), exp.evolution,
                                  constraint=lambda c: float(pred.predict([c])[0]) <= budget, seed=exp.seed,
                                  desc=f"CV search ({sharing}, predicted latency <= {budget:.2f} ms)")
        with one_thread():
            winner_ms = _measured_ms(exp, res.best, data["repeats"])
        return {"best": res.best, "inherited_acc": res.best_fitness, "budget_ms": budget,
                "predicted_ms": float(pred.predict([res.best])[0]), "measured_ms": winner_ms,
                "meets_budget": winner_ms <= budget, "evaluated": res.evaluated, "machine": measured.machine()}

    train_supernet(exp, sharing)
    return cache.cached("cv-latency-search", {"exp": asdict(exp), "sharing": sharing, "quantile": budget_quantile,
                                              "held_out": held_out}, compute,
                        code=_CODE + (latency_predictor, measured))

