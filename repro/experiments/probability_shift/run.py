"""Notebook 07, what is computed and cached: the bins in paper units, the FLOPs of uniform subnets and
their normal fit (Fig. 2), the supernet trainings of every seed and arm (Fig. 4, 5, 7, 8) and of Fig. 4's
CNN panel, the per-seed measurements of Table 2, Fig. 6 and Table 4, and the sampling times of Fig. 9.
The study's config is the profile's :class:`ProbShiftConfig`; ``family`` picks its ViT space
(``cfg.space``) or its CNN space (``cfg.cnn_space``)."""
from __future__ import annotations

import copy
import math
import random
import time
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any, Sequence

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from scipy import stats
from torch.utils.data import Subset, random_split
from tqdm.auto import tqdm

from repro.cache import Checkpoint, cached
from repro.data import load_fashion_mnist
from repro.profiles import ProbShiftConfig
from repro.search import generator as ag
from repro.search import probability_shift as ps
from repro.spaces import bignas_cnn
from repro.spaces.autoformer import PAPER_SPACES, ViTSpace, get_space, hidden_width
from repro.spaces.bignas_cnn import CNNSpace
from repro.supernets import cnn, vit
from repro.train.basic import evaluate, loader, train_classifier

REFERENCE = PAPER_SPACES["T"]
SPLIT_G = (1.3, 1.9)                     # the paper's ViT-T split (Sec. 3.2, Appendix C)
BIN_WIDTHS_G = (0.2, 0.1, 0.05)          # Fig. 7
Q_FACTORS = (0.5, 1, 5, 10)              # Fig. 8: q = 50 / 100 / 500 / 1000 against the paper's 100
#: Fig. 9's speed-ups: (rejection column, generator column).
SPEEDUPS = {"speedup_analytic_batch1": ("rejection_s", "generator_s"),
            "speedup_analytic_batched": ("rejection_s", "generator_batched_s"),
            "speedup_counted_batch1": ("rejection_counted_s", "generator_s"),
            "speedup_counted_batched": ("rejection_counted_s", "generator_batched_s")}
FAMILIES = ("vit", "cnn")
#: The supernet of each kind of space (Fig. 4: the ViT panel and the CNN panel).
SUPERNETS = {ViTSpace: vit.ViTSupernet, CNNSpace: cnn.CNNSupernet}
Space = ViTSpace | CNNSpace
Supernet = vit.ViTSupernet | cnn.CNNSupernet


def space_of(cfg: ProbShiftConfig, family: str = "vit") -> Space:
    """The study's ViT space (``cfg.space``) or the CNN space of Fig. 4's CNN panel (``cfg.cnn_space``)."""
    if family not in FAMILIES:
        raise ValueError(f"unknown space family {family!r}; valid: {FAMILIES}")
    return get_space(cfg.space) if family == "vit" else bignas_cnn.get_space(cfg.cnn_space)


def supernet(space: Space) -> Supernet:
    """A freshly initialised supernet of ``space`` (the caller seeds ``torch`` first)."""
    return SUPERNETS[type(space)](space)


# ---------------------------------------------------------------- bins in paper units
def _range(space: Space) -> tuple[float, float]:
    return space.flops(space.smallest()), space.flops(space.largest())


def to_scaled(space: Space, gflops: float) -> float:
    """ViT-T GFLOPs -> FLOPs of ``space`` at the same position between its smallest and largest subnet."""
    (a0, a1), (b0, b1) = _range(REFERENCE), _range(space)
    return b0 + (gflops * 1e9 - a0) / (a1 - a0) * (b1 - b0)


def to_paper(space: Space, flops: float) -> float:
    """The inverse of :func:`to_scaled` (for axis labels in ViT-T-equivalent GFLOPs)."""
    (a0, a1), (b0, b1) = _range(REFERENCE), _range(space)
    return (a0 + (flops - b0) / (b1 - b0) * (a1 - a0)) / 1e9


def bins_for(space: Space, width_g: float) -> ps.FlopsBins:
    lo, hi = (to_scaled(space, g) for g in SPLIT_G)
    return ps.FlopsBins(lo, hi, to_scaled(space, SPLIT_G[0] + width_g) - lo)


# ---------------------------------------------------------------- Fig. 2 (exact)
def sample_flops(space: ViTSpace, n: int, seed: int) -> np.ndarray:
    rng = random.Random(seed)
    return np.array([space.flops(space.sample(rng)) for _ in tqdm(range(n), desc="sample subnets", leave=False)])


def irwin_hall_normal(space: ViTSpace) -> list[tuple[float, float, float]]:
    """Remark 1: given embed dim and depth, FLOPs are a sum of i.i.d. uniform per-layer costs, so
    approximately normal; returns the mixture ``(weight, mean, std)`` over (embed, depth)."""
    parts = []
    for e in space.embed_dims:
        layer = np.array([space.layer_macs(e, h, int(r * e)) for h in space.num_heads for r in space.mlp_ratios])
        for d in space.depths:
            parts.append((1 / (len(space.embed_dims) * len(space.depths)),
                          space.outer_macs(e) + d * layer.mean(), np.sqrt(d * layer.var())))
    return parts


def normal_fit(space: ViTSpace, flops: np.ndarray) -> dict[str, float]:
    """How near-normal the FLOPs of uniform subnets are (Fig. 2): the KS distances to one normal and to
    the Irwin-Hall mixture (:func:`irwin_hall_normal`), the skewness, the mean and std (G)."""
    mix = irwin_hall_normal(space)
    mean, std = flops.mean(), flops.std()
    ks_single = stats.kstest(flops, "norm", args=(mean, std)).statistic
    mix_cdf = lambda v: sum(w * stats.norm.cdf(v, m, s) for w, m, s in mix)  # noqa: E731
    ks_mix = stats.kstest(flops, mix_cdf).statistic
    return {"ks_normal": float(ks_single), "ks_mixture": float(ks_mix), "skew": float(stats.skew(flops)),
            "mean_g": float(mean / 1e9), "std_g": float(std / 1e9)}


# ---------------------------------------------------------------- data and trainings (scaled)
def datasets(cfg: ProbShiftConfig, seed: int, imagenet_root: str | None = None, family: str = "vit"
             ) -> tuple[Any, Any, Any]:
    """Train / validation (a held-out part of the training split: Algorithm 2 and every selection) / test
    of the ``family`` space.

    The paper's ViT spaces (3 x 224 x 224) read ImageNet through torchvision with DeiT's recipe
    (``val_subset`` training images held out for B, Sec. 4.1; ILSVRC val as the test set); the
    scaled spaces (every CNN space here) read Fashion-MNIST, the same splits for both families.
    Memoised per resolved ImageNet folder (a changed ``$REPRO_IMAGENET`` is looked up again)."""
    space = space_of(cfg, family)
    if space.in_chans == 3:
        from repro.data.imagenet import find_root

        return _datasets(cfg, seed, str(find_root("val", imagenet_root)), space.img_size)
    return _datasets(cfg, seed, None, space.img_size)


@lru_cache(maxsize=4)
def _datasets(cfg: ProbShiftConfig, seed: int, imagenet_root: str | None, img_size: int) -> tuple[Any, Any, Any]:
    """ImageNet at ``img_size`` from ``imagenet_root``, or Fashion-MNIST when it is ``None``."""
    if imagenet_root is not None:
        from repro.data import vision

        full = vision.imagenet_dataset("train", imagenet_root, image_size=img_size, train_recipe="deit")
        test = vision.imagenet_dataset("val", imagenet_root, image_size=img_size)
        n_val = min(cfg.val_subset, len(full) // 2)
    else:
        size = cfg.train_subset + cfg.val_subset if cfg.train_subset else 0
        full = load_fashion_mnist("train", size, seed=seed)
        test = load_fashion_mnist("test", cfg.test_subset, seed=seed)
        n_val = cfg.val_subset
    train, val = random_split(full, [len(full) - n_val, n_val], generator=torch.Generator().manual_seed(seed))
    return train, val, test


def _train_key(cfg: ProbShiftConfig, seed: int, family: str = "vit") -> dict:
    keep = ("space", "train_subset", "val_subset", "epochs", "warmup_epochs", "batch_size", "lr", "weight_decay",
            "generator_lr", "generator_warm_lr", "distribution_lr", "finetune_lr")
    return {k: getattr(cfg, k) for k in keep} | {"seed": seed} | (
        {"space": cfg.cnn_space} if family == "cnn" else {})


def warm_generator(space: Space, bins: ps.FlopsBins, steps: int, seed: int, lr: float
                   ) -> ag.ArchitectureGenerator:
    """A generator fitted to the resource loss alone (cached), the start of joint training."""
    def compute(_: Checkpoint) -> dict:
        torch.manual_seed(seed)
        gen = ag.ArchitectureGenerator(space.decisions(), (bins.lo, bins.hi))
        ag.train_on_resource_loss(gen, space, bins, steps, lr=lr, seed=seed)
        return gen.state_dict()
    gen = ag.ArchitectureGenerator(space.decisions(), (bins.lo, bins.hi))
    gen.load_state_dict(cached("ps-generator-warm", {"space": asdict(space), "bins": asdict(bins), "steps": steps,
                                                    "lr": lr, "seed": seed}, compute, code=(ag,)))
    return gen


def train_config(cfg: ProbShiftConfig, mode: str, seed: int, *, direction: str = "paper",
                 q_factor: float = 1) -> ps.TrainConfig:
    """The profile's Algorithm 1 settings for one run; shift runs snapshot every epoch (Table 4)."""
    return ps.TrainConfig(mode=mode, direction=direction, epochs=cfg.epochs, warmup_epochs=cfg.warmup_epochs,
                          update_every=max(1, round(cfg.update_every * q_factor)), lr=cfg.lr,
                          weight_decay=cfg.weight_decay, generator_lr=cfg.generator_lr,
                          distribution_lr=cfg.distribution_lr,
                          snapshot_epochs=tuple(range(1, cfg.epochs + 1)) if mode == "shift" else (), seed=seed)


def train_run(cfg: ProbShiftConfig, mode: str, seed: int, *, direction: str = "paper", width_g: float | None = None,
              q_factor: float = 1, family: str = "vit") -> ps.TrainResult:
    """One supernet training (cached, resumable) in the ``family`` space: ``mode`` uniform / generator /
    shift; shift runs keep a ``(w_{t-1}, w_t)`` snapshot at every epoch (Table 4). Every run seeds its
    own initialisation, data order and steps from ``seed``, so the runs of one family draw nothing
    from another's."""
    space = space_of(cfg, family)
    bins = bins_for(space, width_g or cfg.bin_width)
    tcfg = train_config(cfg, mode, seed, direction=direction, q_factor=q_factor)

    def compute(ckpt: Checkpoint) -> ps.TrainResult:
        train, val, _ = datasets(cfg, seed, family=family)
        gen = None if mode == "uniform" else warm_generator(space, bins, cfg.generator_warm_steps, seed,
                                                            cfg.generator_warm_lr)
        torch.manual_seed(seed)
        net = supernet(space)
        return ps.train_supernet(net, space, bins, loader(train, cfg.batch_size, shuffle=True, seed=seed),
                                 loader(val, cfg.batch_size, shuffle=True, seed=seed + 1), tcfg, gen, ckpt)
    key = _train_key(cfg, seed, family) | {"train": asdict(tcfg), "bins": asdict(bins),
                                           "generator_warm_steps": cfg.generator_warm_steps}
    prefix = "ps" if family == "vit" else "ps-cnn"
    return cached(f"{prefix}-{mode}", key, compute, code=(ps, ag, SUPERNETS[type(space)]))


def load(cfg: ProbShiftConfig, result: ps.TrainResult, width_g: float | None = None, family: str = "vit"
         ) -> tuple[Supernet, ag.ArchitectureGenerator | None, ps.FlopsBins]:
    """The trained supernet, generator (``None`` for uniform sampling) and bins of a run."""
    space = space_of(cfg, family)
    bins = bins_for(space, width_g or cfg.bin_width)
    net = supernet(space)
    net.load_state_dict(result.supernet_state)
    gen = None
    if result.generator_state is not None:
        gen = ag.ArchitectureGenerator(space.decisions(), (bins.lo, bins.hi))
        gen.load_state_dict(result.generator_state)
    return net.eval(), gen, bins


def accuracy(net: Supernet, config: dict, data: Any) -> float:
    net.set_active_subnet(config)
    return evaluate(net, loader(data, 500, shuffle=False))["acc"]


def per_bin(cfg: ProbShiftConfig, result: ps.TrainResult, seed: int, width_g: float | None = None,
            k_random: int = 3, family: str = "vit") -> pd.DataFrame:
    """The subnet of every bin and its inherited test accuracy: the generator's most probable subnet
    (as the paper deploys), or for uniform sampling the best on the validation split of ``k_random``
    rejection-sampled ones (never selected on the test set). ``target_g`` and ``flops_g`` are in
    ViT-T-equivalent G, ``target_m`` and ``flops_m`` the space's own MFLOPs."""
    _, val, test = datasets(cfg, seed, family=family)
    net, gen, bins = load(cfg, result, width_g, family)
    space, rng, rows = net.space, random.Random(seed), []
    for k, c in enumerate(bins.centers):
        if gen is not None:
            with torch.no_grad():
                best = ag.configs(space, gen(torch.tensor([c]), greedy=True))[0]
        else:
            cands = [ag.rejection_sample(space, bins.edges[k], bins.edges[k + 1], rng)[0] for _ in range(k_random)]
            best = cands[int(np.argmax([accuracy(net, c_, val) for c_ in cands]))]
        flops = space.flops(best)
        rows.append({"bin": k, "target_g": to_paper(space, c), "target_m": c / 1e6, "flops_g": to_paper(space, flops),
                     "flops_m": flops / 1e6, "acc": accuracy(net, best, test), "in_bin": bins.index(flops) == k,
                     "config": best})
    return pd.DataFrame(rows)


def finetune(net: Supernet, config: dict, train: Any, steps: int, batch: int, seed: int,
             cfg: ProbShiftConfig) -> Supernet:
    """A copy of the supernet trained on ``config`` alone for ``steps`` batches (inherited weights)."""
    net = copy.deepcopy(net)
    net.set_active_subnet(config)
    idx = torch.randperm(len(train), generator=torch.Generator().manual_seed(seed))[: steps * batch]
    data = loader(Subset(train, idx.tolist()), batch, shuffle=True, seed=seed)
    train_classifier(net, data, 1, torch.optim.AdamW(net.parameters(), lr=cfg.finetune_lr,
                                                     weight_decay=cfg.weight_decay), desc="finetune")
    return net.eval()


# ---------------------------------------------------------------- the runs of every seed
ARMS = ("uniform", "generator", "shift", "reversed")


@dataclass
class SeedRuns:
    """The supernet trainings of one seed (same data order and initialisation in every arm)."""
    seed: int
    runs: dict[str, ps.TrainResult]            # ARMS
    curves: dict[str, pd.DataFrame]            # ARMS -> per-bin subnets and accuracies
    widths: dict[float, pd.DataFrame]          # Fig. 7
    qs: dict[float, pd.DataFrame]              # Fig. 8


def seed_runs(cfg: ProbShiftConfig, seed: int) -> SeedRuns:
    runs = {"uniform": train_run(cfg, "uniform", seed), "generator": train_run(cfg, "generator", seed),
            "shift": train_run(cfg, "shift", seed), "reversed": train_run(cfg, "shift", seed, direction="reversed")}
    curves = {m: per_bin(cfg, r, seed) for m, r in runs.items()}
    widths = {w: curves["shift"] if w == cfg.bin_width else
              per_bin(cfg, train_run(cfg, "shift", seed, width_g=w), seed, width_g=w) for w in BIN_WIDTHS_G}
    qs = {f: curves["shift"] if f == 1 else per_bin(cfg, train_run(cfg, "shift", seed, q_factor=f), seed)
          for f in Q_FACTORS}
    return SeedRuns(seed, runs, curves, widths, qs)


def study(cfg: ProbShiftConfig, seeds: Sequence[int]) -> list[SeedRuns]:
    """Every supernet training of the scaled studies, for each seed (cached)."""
    return [seed_runs(cfg, s) for s in seeds]


# ---------------------------------------------------------------- Fig. 4's CNN panel
FIG4_ARMS = ("uniform", "generator", "shift")


@dataclass
class PanelRuns:
    """Fig. 4's trainings of one seed in one more space: the arms :data:`FIG4_ARMS` and their per-bin curves."""
    seed: int
    runs: dict[str, ps.TrainResult]
    curves: dict[str, pd.DataFrame]


def cnn_panel(cfg: ProbShiftConfig, seeds: Sequence[int]) -> list[PanelRuns]:
    """Fig. 4's CNN panel (the paper's Fig. 4d): uniform sampling, the generator without and with
    probability shift in ``cfg.cnn_space``, over the ViT panel's seeds and data (cached)."""
    out = []
    for s in seeds:
        runs = {m: train_run(cfg, m, s, family="cnn") for m in FIG4_ARMS}
        out.append(PanelRuns(s, runs, {m: per_bin(cfg, r, s, family="cnn") for m, r in runs.items()}))
    return out


# ---------------------------------------------------------------- Table 2, Fig. 6, Table 4: per seed (cached)
def table2_seed(cfg: ProbShiftConfig, result: ps.TrainResult, seed: int) -> pd.DataFrame:
    """The generator's subnets at the smallest and largest bin: inherited, finetuned (one epoch from
    the supernet's weights) and retrained (from scratch for the supernet's epochs)."""
    train, _, test = datasets(cfg, seed)
    net, gen, bins = load(cfg, result)
    space = net.space
    picks = {"small (lowest bin)": bins.centers[0], "large (highest bin)": bins.centers[-1]}

    def compute(_: Checkpoint) -> list[dict]:
        rows = []
        for name, c in picks.items():
            with torch.no_grad():
                sub = ag.configs(space, gen(torch.tensor([c]), greedy=True))[0]
            tuned = finetune(net, sub, train, len(train) // cfg.batch_size, cfg.batch_size, seed, cfg)
            torch.manual_seed(seed)
            fresh = vit.ViTSupernet(space)
            fresh.set_active_subnet(sub)
            train_classifier(fresh, loader(train, cfg.batch_size, shuffle=True, seed=seed), cfg.epochs,
                             torch.optim.AdamW(fresh.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay),
                             desc="retrain")
            rows.append({"Subnet": name, "FLOPs (G, ViT-T equiv.)": to_paper(space, space.flops(sub)),
                         "Inherit (%)": accuracy(net, sub, test), "Finetune (%)": accuracy(tuned, sub, test),
                         "Retrain (%)": accuracy(fresh.eval(), sub, test), "config": sub})
        return rows
    rows = cached("ps-table2", _train_key(cfg, seed) | {"result": asdict(result.config)}, compute, code=(ps, vit))
    df = pd.DataFrame(rows)
    df["Finetune Diff."] = df["Finetune (%)"] - df["Inherit (%)"]
    df["Retrain Diff."] = df["Retrain (%)"] - df["Inherit (%)"]
    return df.assign(seed=seed)


def ranking_seed(cfg: ProbShiftConfig, result: ps.TrainResult, seed: int) -> pd.DataFrame:
    """Fig. 6: random subnets of the shift supernet, inherited vs finetuned test accuracy."""
    train, _, test = datasets(cfg, seed)
    net, _, _ = load(cfg, result)
    rng = random.Random(seed)
    subs = [net.space.sample(rng) for _ in range(cfg.rank_subnets)]

    def compute(_: Checkpoint) -> list[dict]:
        return [{"inherited": accuracy(net, s, test),
                 "finetuned": accuracy(finetune(net, s, train, cfg.finetune_steps, cfg.batch_size, seed + i, cfg), s,
                                       test),
                 "flops_g": to_paper(net.space, net.space.flops(s))}
                for i, s in enumerate(tqdm(subs, desc="rank subnets", leave=False))]
    rows = cached("ps-fig6", _train_key(cfg, seed) | {"n": cfg.rank_subnets, "steps": cfg.finetune_steps,
                                                      "result": asdict(result.config)}, compute, code=(ps, vit))
    return pd.DataFrame(rows).assign(seed=seed)


def sufficiency_seed(cfg: ProbShiftConfig, result: ps.TrainResult, seed: int) -> pd.DataFrame:
    """Table 4 (Appendix C) of one seed: at each epoch's snapshot ``(w_{t-1}, w_t)`` of the shift supernet,
    the generator's subnet of every bin (cycled to ``rank_subnets``) gets the paper's score (entry of
    ``grad_B``, :func:`ps.bin_gradient_score`) and the loss-decrease score ``L(w_{t-1}) - L(w_t)``, and
    is finetuned; the ground truth is the validation-loss decrease of the finetuning."""
    train, val, _ = datasets(cfg, seed)
    space = get_space(cfg.space)
    xv, yv = next(iter(loader(val, cfg.score_batch, shuffle=False)))
    _, gen, bins = load(cfg, result)

    def val_loss(net: vit.ViTSupernet, s: dict) -> float:
        net.set_active_subnet(s)
        with torch.no_grad():
            return F.cross_entropy(net(xv), yv).item()

    def compute(_: Checkpoint) -> list[dict]:
        rows = []
        for epoch, (w_prev, w_curr) in tqdm(sorted(result.snapshots.items()), desc="table 4", leave=False):
            net = vit.ViTSupernet(space)
            net.load_state_dict(w_curr, strict=False)
            net.eval()
            torch.manual_seed(seed + epoch)
            for i in range(cfg.rank_subnets):
                k = i % bins.count
                score, pol = ps.bin_gradient_score(net, gen, bins, k, w_prev, xv, yv)
                s = ag.configs(space, {n: v[None] for n, v in pol.items()})[0]
                tuned = finetune(net, s, train, cfg.finetune_steps, cfg.batch_size, seed + i, cfg)
                rows.append({"epoch": epoch, "bin": k, "grad_B": score,
                             "loss_decrease": ps.loss_decrease(net, s, w_prev, w_curr, xv, yv),
                             "sufficiency": val_loss(net, s) - val_loss(tuned, s)})
        return rows
    key = _train_key(cfg, seed) | {"n": cfg.rank_subnets, "steps": cfg.finetune_steps, "batch": cfg.score_batch,
                                   "result": asdict(result.config)}
    return pd.DataFrame(cached("ps-table4", key, compute, code=(ps, vit))).assign(seed=seed)


# ---------------------------------------------------------------- Fig. 9 (exact, timed here)
def fig9_bins(space: ViTSpace = REFERENCE, width: float = 0.1e9) -> ps.FlopsBins:
    """0.1 G bins from the lowest to the highest reachable FLOPs of ``space`` (both tails included)."""
    lo = math.floor(space.flops(space.smallest()) / width) * width
    hi = (math.floor(space.flops(space.largest()) / width) + 1) * width
    return ps.FlopsBins(lo, hi, width)


def uniform_bin_probabilities(space: ViTSpace, bins: ps.FlopsBins) -> np.ndarray:
    """The exact probability that a uniformly sampled subnet (Eq. 2) falls in each bin: per (embed, depth)
    the FLOPs are the outer cost plus a sum of i.i.d. per-layer costs, whose law is convolved exactly."""
    probs = np.zeros(bins.count)
    for e in space.embed_dims:
        layer = [space.layer_macs(e, h, hidden_width(r, e)) for h in space.num_heads for r in space.mlp_ratios]
        law = {0: 1.0}
        for d in range(1, max(space.depths) + 1):
            nxt: dict[int, float] = {}
            for v, p in law.items():
                for c in layer:
                    nxt[v + c] = nxt.get(v + c, 0.0) + p / len(layer)
            law = nxt
            if d in space.depths:
                for v, p in law.items():
                    k = bins.index(float(space.outer_macs(e) + v))
                    if k >= 0:
                        probs[k] += p / (len(space.embed_dims) * len(space.depths))
    return probs


def sampling_time(cfg: ProbShiftConfig, seed: int) -> pd.DataFrame:
    """Seconds per subnet inside each 0.1 G bin of the paper-scale ViT-T space, tails included.

    The generator (fitted to the resource loss): ``timing_draws`` draws at batch 1, and one batched
    forward of ``timing_batch`` targets; seconds per draw over the fraction that hit the bin.
    Rejection sampling: the measured seconds per uniform draw with the analytic FLOPs formula (and
    with a cost-model count on the meta-device supernet, ``repro.cost.counting.count``) times the
    expected number of tries ``1 / p_bin``, ``p_bin`` exact (:func:`uniform_bin_probabilities`)."""
    from repro.cost.counting import count

    space, bins = REFERENCE, fig9_bins()
    gen = warm_generator(space, bins, cfg.generator_warm_steps, seed, cfg.generator_warm_lr).eval()
    rng = random.Random(seed)
    t0 = time.perf_counter()
    for _ in range(2000):
        space.flops(space.sample(rng))
    per_try = (time.perf_counter() - t0) / 2000
    with torch.device("meta"):
        net = vit.ViTSupernet(space)
    t0 = time.perf_counter()
    for _ in range(3):
        net.set_active_subnet(space.sample(rng))
        count(net, (1, 3, 224, 224))
    per_count = (time.perf_counter() - t0) / 3 + per_try
    p_bin = uniform_bin_probabilities(space, bins)
    rows = []
    torch.manual_seed(seed)
    for k, c in enumerate(tqdm(bins.centers, desc="fig 9", leave=False)):
        with torch.no_grad():
            t0, hits = time.perf_counter(), 0
            for _ in range(cfg.timing_draws):
                hits += bins.index(space.flops(ag.configs(space, gen(torch.tensor([c])))[0])) == k
            t_one = (time.perf_counter() - t0) / cfg.timing_draws
            t0 = time.perf_counter()
            cfgs = ag.configs(space, gen(torch.full((cfg.timing_batch,), c)))
            hits_b = sum(bins.index(space.flops(x)) == k for x in cfgs)
            t_batch = time.perf_counter() - t0
        rows.append({"bin_g": round(bins.edges[k] / 1e9, 2), "p_uniform": p_bin[k],
                     # a bin never hit in the draws: at least all of them per subnet (a lower bound on the time)
                     "generator_hit": hits / cfg.timing_draws, "generator_s": t_one * cfg.timing_draws / max(hits, 1),
                     "generator_batched_s": t_batch / max(hits_b, 1),
                     "rejection_s": per_try / p_bin[k] if p_bin[k] else np.inf,
                     "rejection_counted_s": per_count / p_bin[k] if p_bin[k] else np.inf})
    df = pd.DataFrame(rows)
    for name, (rej, gen_col) in SPEEDUPS.items():
        df[name] = df[rej] / df[gen_col]
    return df
