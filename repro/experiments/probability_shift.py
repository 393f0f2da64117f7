"""Notebook 07: the studies of ShiftNAS-PS (probability shift and the architecture generator).

Exact at paper scale: the FLOPs of uniformly sampled ViT-T subnets against the normal approximation
of their Irwin-Hall sum (Fig. 2) and the sampling time of the generator against rejection sampling
(Fig. 9). Scaled to Fashion-MNIST on the scaled ViT-T space: the supernet trainings with uniform
sampling, with the generator and a frozen uniform distribution (the paper's baseline) and with
probability shift (Fig. 4, 5, 7, 8), inherited / finetuned / retrained subnets (Table 2), ranking
correlation (Fig. 6) and the distribution-gradient score against training sufficiency (Table 4).

Bins are set in ViT-T GFLOPs (the paper's split 1.3-1.9 G) and mapped linearly onto the scaled
space by position between its smallest and largest subnet. Every training is cached.
"""
from __future__ import annotations

import copy
import random
import time
from dataclasses import asdict
from functools import lru_cache
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from scipy import stats
from torch.utils.data import Subset, random_split
from tqdm.auto import tqdm

from repro import reported
from repro.cache import Checkpoint, cached
from repro.data import load_fashion_mnist
from repro.profiles import ProbShiftConfig
from repro.search import generator as ag
from repro.search import probability_shift as ps
from repro.spaces.autoformer import PAPER_SPACES, ViTSpace, get_space
from repro.spaces.masks import prefix_masks
from repro.supernets import vit
from repro.train.basic import evaluate, loader, train_classifier

REFERENCE = PAPER_SPACES["T"]
SPLIT_G = (1.3, 1.9)                     # the paper's ViT-T split (Sec. 3.2, Appendix C)
FIG9_BINS = ps.FlopsBins(1.3e9, 2.0e9, 0.1e9)
BIN_WIDTHS_G = (0.2, 0.1, 0.05)          # Fig. 7
Q_FACTORS = (0.5, 1, 5, 10)              # Fig. 8: q = 50 / 100 / 500 / 1000 against the paper's 100
LABELS = {"uniform": "uniform sampling (best of 3 per bin)", "generator": "generator, uniform B (no shift)",
          "shift": "probability shift"}


# ---------------------------------------------------------------- bins in paper units
def _range(space: ViTSpace) -> tuple[float, float]:
    return space.flops(space.smallest()), space.flops(space.largest())


def to_scaled(space: ViTSpace, gflops: float) -> float:
    """ViT-T GFLOPs -> FLOPs of ``space`` at the same position between its smallest and largest subnet."""
    (a0, a1), (b0, b1) = _range(REFERENCE), _range(space)
    return b0 + (gflops * 1e9 - a0) / (a1 - a0) * (b1 - b0)


def to_paper(space: ViTSpace, flops: float) -> float:
    """The inverse of :func:`to_scaled` (for axis labels in ViT-T-equivalent GFLOPs)."""
    (a0, a1), (b0, b1) = _range(REFERENCE), _range(space)
    return (a0 + (flops - b0) / (b1 - b0) * (a1 - a0)) / 1e9


def bins_for(space: ViTSpace, width_g: float) -> ps.FlopsBins:
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


def fig2(space: ViTSpace, flops: np.ndarray) -> tuple[plt.Figure, dict[str, float]]:
    """(a) the uniform per-operation choice probabilities, (b) the FLOPs histogram against the normal
    approximations; returns the figure and the fit numbers (KS distances, skewness)."""
    mix = irwin_hall_normal(space)
    mean, std = flops.mean(), flops.std()
    x = np.linspace(flops.min(), flops.max(), 400)
    mix_pdf = sum(w * stats.norm.pdf(x, m, s) for w, m, s in mix)
    ks_single = stats.kstest(flops, "norm", args=(mean, std)).statistic
    mix_cdf = lambda v: sum(w * stats.norm.cdf(v, m, s) for w, m, s in mix)  # noqa: E731
    ks_mix = stats.kstest(flops, mix_cdf).statistic
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.6), gridspec_kw={"width_ratios": [1, 1.6]})
    ops = [("embed", space.embed_dims), ("depth", space.depths), ("heads", space.num_heads),
           ("MLP ratio", space.mlp_ratios)]
    for i, (name, choices) in enumerate(ops):
        a.bar([i + (j - (len(choices) - 1) / 2) * 0.25 for j in range(len(choices))], [1 / len(choices)] * len(choices),
              width=0.22, label=name)
        for j, c in enumerate(choices):
            a.text(i + (j - (len(choices) - 1) / 2) * 0.25, 1 / len(choices) + 0.01, f"{c:g}", ha="center", fontsize=6)
    a.set_xticks(range(len(ops)), [n for n, _ in ops])
    a.set_ylabel("sampling probability")
    a.set_title("(a) uniform choice of each operation")
    b.hist(flops / 1e9, bins=60, density=True, alpha=0.5, label=f"{len(flops)} sampled subnets")
    b.plot(x / 1e9, stats.norm.pdf(x, mean, std) * 1e9, label=f"normal (KS {ks_single:.3f})")
    b.plot(x / 1e9, mix_pdf * 1e9, "--", label=f"Irwin-Hall normal mixture (KS {ks_mix:.3f})")
    b.set_xlabel(f"{space.name} subnet FLOPs (G, multiply-accumulates)")
    b.set_ylabel("density")
    b.set_title("(b) FLOPs of uniformly sampled subnets")
    b.legend(fontsize=7)
    return fig, {"ks_normal": float(ks_single), "ks_mixture": float(ks_mix), "skew": float(stats.skew(flops)),
                 "mean_g": float(mean / 1e9), "std_g": float(std / 1e9)}


# ---------------------------------------------------------------- data and trainings (scaled)
@lru_cache(maxsize=4)
def datasets(cfg: ProbShiftConfig, seed: int) -> tuple[Any, Any, Any]:
    """Train / validation (a held-out part of the training split, for Algorithm 2) / test."""
    size = cfg.train_subset + cfg.val_subset if cfg.train_subset else 0
    full = load_fashion_mnist("train", size, seed=seed)
    n_val = cfg.val_subset
    train, val = random_split(full, [len(full) - n_val, n_val], generator=torch.Generator().manual_seed(seed))
    return train, val, load_fashion_mnist("test", cfg.test_subset, seed=seed)


def _train_key(cfg: ProbShiftConfig, seed: int) -> dict:
    keep = ("space", "train_subset", "val_subset", "epochs", "warmup_epochs", "batch_size")
    return {k: getattr(cfg, k) for k in keep} | {"seed": seed}


def warm_generator(space: ViTSpace, bins: ps.FlopsBins, steps: int, seed: int) -> ag.ArchitectureGenerator:
    """A generator fitted to the resource loss alone (cached), the start of joint training."""
    def compute(_: Checkpoint) -> dict:
        torch.manual_seed(seed)
        gen = ag.ArchitectureGenerator(space.decisions(), (bins.lo, bins.hi))
        ag.train_on_resource_loss(gen, space, bins, steps, seed=seed)
        return gen.state_dict()
    gen = ag.ArchitectureGenerator(space.decisions(), (bins.lo, bins.hi))
    gen.load_state_dict(cached("ps-generator-warm", {"space": asdict(space), "bins": asdict(bins), "steps": steps,
                                                "seed": seed}, compute, code=(ag,)))
    return gen


def train_run(cfg: ProbShiftConfig, mode: str, seed: int, *, width_g: float | None = None,
              q_factor: float = 1, snapshots: tuple[int, ...] = ()) -> ps.TrainResult:
    """One supernet training (cached, resumable): ``mode`` uniform / generator / shift."""
    space = get_space(cfg.space)
    bins = bins_for(space, width_g or cfg.bin_width)
    tcfg = ps.TrainConfig(mode=mode, epochs=cfg.epochs, warmup_epochs=cfg.warmup_epochs,
                          update_every=max(1, round(cfg.update_every * q_factor)), snapshot_epochs=snapshots,
                          seed=seed)

    def compute(ckpt: Checkpoint) -> ps.TrainResult:
        train, val, _ = datasets(cfg, seed)
        gen = None if mode == "uniform" else warm_generator(space, bins, cfg.generator_warm_steps, seed)
        torch.manual_seed(seed)
        net = vit.ViTSupernet(space)
        return ps.train_supernet(net, space, bins, loader(train, cfg.batch_size, shuffle=True, seed=seed),
                                 loader(val, cfg.batch_size, shuffle=True, seed=seed + 1), tcfg, gen, ckpt)
    key = _train_key(cfg, seed) | {"train": asdict(tcfg), "bins": asdict(bins),
                                   "generator_warm_steps": cfg.generator_warm_steps}
    return cached(f"ps-{mode}", key, compute, code=(ps, ag, vit))


def load(cfg: ProbShiftConfig, result: ps.TrainResult, width_g: float | None = None
         ) -> tuple[vit.ViTSupernet, ag.ArchitectureGenerator | None, ps.FlopsBins]:
    """The trained supernet, generator (``None`` for uniform sampling) and bins of a run."""
    space = get_space(cfg.space)
    bins = bins_for(space, width_g or cfg.bin_width)
    net = vit.ViTSupernet(space)
    net.load_state_dict(result.supernet_state)
    gen = None
    if result.generator_state is not None:
        gen = ag.ArchitectureGenerator(space.decisions(), (bins.lo, bins.hi))
        gen.load_state_dict(result.generator_state)
    return net.eval(), gen, bins


def accuracy(net: vit.ViTSupernet, config: dict, data: Any) -> float:
    net.set_active_subnet(config)
    return evaluate(net, loader(data, 500, shuffle=False))["acc"]


def per_bin(cfg: ProbShiftConfig, result: ps.TrainResult, test: Any, seed: int, width_g: float | None = None,
            k_random: int = 3) -> pd.DataFrame:
    """The subnet of every bin and its inherited test accuracy: the generator's most probable subnet
    (as the paper deploys), or for uniform sampling the best of ``k_random`` rejection-sampled ones."""
    net, gen, bins = load(cfg, result, width_g)
    space, rng, rows = net.space, random.Random(seed), []
    for k, c in enumerate(bins.centers):
        if gen is not None:
            with torch.no_grad():
                cands = ag.configs(space, gen(torch.tensor([c]), greedy=True))
        else:
            cands = [ag.rejection_sample(space, bins.edges[k], bins.edges[k + 1], rng)[0] for _ in range(k_random)]
        accs = [accuracy(net, cfg_, test) for cfg_ in cands]
        best = cands[int(np.argmax(accs))]
        flops = space.flops(best)
        rows.append({"bin": k, "target_g": to_paper(space, c), "flops_g": to_paper(space, flops),
                     "flops_m": flops / 1e6, "acc": max(accs), "in_bin": bins.index(flops) == k, "config": best})
    return pd.DataFrame(rows)


def finetune(net: vit.ViTSupernet, config: dict, train: Any, steps: int, batch: int, seed: int,
             lr: float = 5e-4) -> vit.ViTSupernet:
    """A copy of the supernet trained on ``config`` alone for ``steps`` batches (inherited weights)."""
    net = copy.deepcopy(net)
    net.set_active_subnet(config)
    idx = torch.randperm(len(train), generator=torch.Generator().manual_seed(seed))[: steps * batch]
    data = loader(Subset(train, idx.tolist()), batch, shuffle=True, seed=seed)
    train_classifier(net, data, 1, torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=0.05), desc="finetune")
    return net.eval()


# ---------------------------------------------------------------- Table 2, Fig. 6, Table 4
def table2(cfg: ProbShiftConfig, result: ps.TrainResult, seed: int) -> pd.DataFrame:
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
            tuned = finetune(net, sub, train, len(train) // cfg.batch_size, cfg.batch_size, seed)
            torch.manual_seed(seed)
            fresh = vit.ViTSupernet(space)
            fresh.set_active_subnet(sub)
            train_classifier(fresh, loader(train, cfg.batch_size, shuffle=True, seed=seed), cfg.epochs,
                             torch.optim.AdamW(fresh.parameters(), lr=2e-3, weight_decay=0.05), desc="retrain")
            rows.append({"Subnet": name, "FLOPs (G, ViT-T equiv.)": to_paper(space, space.flops(sub)),
                         "Inherit (%)": accuracy(net, sub, test), "Finetune (%)": accuracy(tuned, sub, test),
                         "Retrain (%)": accuracy(fresh.eval(), sub, test), "config": sub})
        return rows
    rows = cached("ps-table2", _train_key(cfg, seed) | {"result": result.config.__dict__}, compute, code=(ps, vit))
    df = pd.DataFrame(rows)
    df["Finetune Diff."] = df["Finetune (%)"] - df["Inherit (%)"]
    df["Retrain Diff."] = df["Retrain (%)"] - df["Inherit (%)"]
    return df


def ranking(cfg: ProbShiftConfig, result: ps.TrainResult, seed: int) -> pd.DataFrame:
    """Fig. 6: random subnets of the shift supernet, inherited vs finetuned test accuracy."""
    train, _, test = datasets(cfg, seed)
    net, _, _ = load(cfg, result)
    rng = random.Random(seed)
    subs = [net.space.sample(rng) for _ in range(cfg.rank_subnets)]

    def compute(_: Checkpoint) -> list[dict]:
        return [{"inherited": accuracy(net, s, test),
                 "finetuned": accuracy(finetune(net, s, train, cfg.finetune_steps, cfg.batch_size, seed + i), s, test),
                 "flops_g": to_paper(net.space, net.space.flops(s))}
                for i, s in enumerate(tqdm(subs, desc="rank subnets", leave=False))]
    rows = cached("ps-fig6", _train_key(cfg, seed) | {"n": cfg.rank_subnets, "steps": cfg.finetune_steps,
                                                      "result": result.config.__dict__}, compute, code=(ps, vit))
    return pd.DataFrame(rows)


def sufficiency(cfg: ProbShiftConfig, result: ps.TrainResult, seed: int) -> pd.DataFrame:
    """Table 4 (Appendix C): at each snapshot of a uniformly trained supernet, random subnets get the
    score ``L(w_{t-1}) - L(w_t)`` (whose gradient through the target is ``grad_B``) and are finetuned;
    Kendall's tau between score and the validation-loss decrease of the finetuning."""
    train, val, _ = datasets(cfg, seed)
    space = get_space(cfg.space)
    xv, yv = next(iter(loader(val, len(val), shuffle=False)))
    rng = random.Random(seed)
    subs = [space.sample(rng) for _ in range(cfg.rank_subnets)]

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
            scores, gains = [], []
            for i, s in enumerate(subs):
                scores.append(ps.loss_decrease(net, s, w_prev, w_curr, xv, yv))
                tuned = finetune(net, s, train, cfg.finetune_steps, cfg.batch_size, seed + i)
                gains.append(val_loss(net, s) - val_loss(tuned, s))
            tau, p = stats.kendalltau(scores, gains)
            rows.append({"Epoch": epoch, "Kendall's tau": float(tau), "p-value": float(p)})
        return rows
    key = _train_key(cfg, seed) | {"n": cfg.rank_subnets, "steps": cfg.finetune_steps, "result": result.config.__dict__}
    return pd.DataFrame(cached("ps-table4", key, compute, code=(ps, vit)))


# ---------------------------------------------------------------- Fig. 9 (exact, timed here)
def sampling_time(samples: int, warm_steps: int, seed: int) -> pd.DataFrame:
    """Seconds per subnet inside each 0.1 G bin of the paper-scale ViT-T space: the generator (fitted to
    the resource loss, redrawn until it lands in the bin) against rejection sampling with the exact
    analytic FLOPs, and rejection sampling that counts each draw with the cost model
    (``repro.cost.counting.count`` on the meta-device supernet: the measured time per count times the tries)."""
    from repro.cost.counting import count

    space, bins = REFERENCE, FIG9_BINS
    gen = warm_generator(space, bins, warm_steps, seed).eval()
    rng = random.Random(seed)
    with torch.device("meta"):
        net = vit.ViTSupernet(space)
    t0 = time.perf_counter()
    for _ in range(3):
        net.set_active_subnet(space.sample(rng))
        count(net, (1, 3, 224, 224))
    per_count = (time.perf_counter() - t0) / 3
    rows = []
    for k, c in enumerate(tqdm(bins.centers, desc="fig 9", leave=False)):
        t0, hits, draws = time.perf_counter(), 0, 0
        with torch.no_grad():
            while hits < samples:
                draws += 1
                hits += bins.index(space.flops(ag.configs(space, gen(torch.tensor([c])))[0])) == k
        t_gen = (time.perf_counter() - t0) / samples
        t0, tries = time.perf_counter(), 0
        for _ in range(samples):
            tries += ag.rejection_sample(space, bins.edges[k], bins.edges[k + 1], rng)[1]
        t_rej = (time.perf_counter() - t0) / samples
        rows.append({"bin_g": round(bins.edges[k] / 1e9, 2), "generator_s": t_gen, "generator_draws": draws / samples,
                     "rejection_s": t_rej, "rejection_tries": tries / samples,
                     "rejection_counted_s": tries / samples * per_count})
    return pd.DataFrame(rows).assign(speedup=lambda d: d.rejection_s / d.generator_s,
                                     speedup_counted=lambda d: d.rejection_counted_s / d.generator_s)


# ---------------------------------------------------------------- tables from the paper beside ours
def table1() -> pd.DataFrame:
    """Table 1 as reported, with params and FLOPs (multiply-accumulates) computed by the cost model's
    zoo for the models it builds (the architectures of the paper's own models are not published)."""
    from repro.cost import zoo

    names = {"DeiT-tiny": "deit-tiny", "DeiT-S": "deit-small", "ViT-B/16": "vit-base-16", "DeiT-B": "vit-base-16",
             "AutoFormer-tiny": "autoformer-tiny", "AutoFormer-small": "autoformer-small",
             "AutoFormer-base": "autoformer-base"}
    df = reported.load("ps-table1")
    ours = {m: zoo.counts(z) for m, z in names.items() if z in zoo.names()}
    df["Params (M) ours"] = [ours[m].params / 1e6 if m in ours else np.nan for m in df["Model"]]
    df["FLOPs (G) ours"] = [ours[m].macs / 1e9 if m in ours else np.nan for m in df["Model"]]
    return df.rename(columns={c: f"{c} reported" for c in ("Params (M)", "FLOPs (G)", "Cost (GPU days)",
                                                           "Top-1 (%)", "Top-5 (%)")})


def table3(cfg: ProbShiftConfig, profile: str) -> pd.DataFrame:
    """Our supernet training settings beside the paper's (Table 3)."""
    paper = reported.load("ps-table3").assign(Source="reported (ImageNet)")
    ours = pd.DataFrame([{"Model": f"ViT ({cfg.space})", "Epochs": cfg.epochs, "Batch size": cfg.batch_size,
                          "Learning rate": ps.TrainConfig.lr, "Weight decay": ps.TrainConfig.weight_decay,
                          "Optimizer": "AdamW", "Augmentation": "none",
                          "Source": f"ours, profile {profile} (Fashion-MNIST, {cfg.train_subset or 60000 - cfg.val_subset} images)"}])
    return pd.concat([paper, ours], ignore_index=True)


# ---------------------------------------------------------------- figures
def plot_tradeoff(curves: dict[str, pd.DataFrame], title: str) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(5, 3.6))
    for name, df in curves.items():
        ax.plot(df["flops_g"], df["acc"], "o-", label=name)
    ax.set_xlabel("subnet FLOPs (ViT-T-equivalent G)")
    ax.set_ylabel("Fashion-MNIST top-1, inherited (%)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    return fig


def plot_distribution(space: ViTSpace, bins: ps.FlopsBins, probs: list[tuple[int, list[float]]]) -> plt.Figure:
    """Fig. 5: B at a few training steps (the first, two in between, the last)."""
    picks = [probs[i] for i in sorted({0, len(probs) // 3, 2 * len(probs) // 3, len(probs) - 1})]
    fig, ax = plt.subplots(figsize=(5, 3.4))
    width = 0.8 / len(picks)
    for j, (step, p) in enumerate(picks):
        ax.bar(np.arange(bins.count) + (j - (len(picks) - 1) / 2) * width, p, width, label=f"step {step}")
    ax.set_xticks(range(bins.count), [f"{to_paper(space, e):.2f}" for e in bins.edges[:-1]])
    ax.set_xlabel("FLOPs group (ViT-T-equivalent G, left edge)")
    ax.set_ylabel("sampling probability")
    ax.set_ylim(0, 1.4 * max(max(p) for _, p in picks))
    ax.legend(fontsize=7, ncol=len(picks), loc="upper center")
    return fig


def plot_ranking(df: pd.DataFrame) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(4, 3.6))
    ax.scatter(df["inherited"], df["finetuned"])
    lim = [min(df.min()[["inherited", "finetuned"]]) - 1, max(df.max()[["inherited", "finetuned"]]) + 1]
    ax.plot(lim, lim, ":", color="grey")
    ax.set_xlabel("inherited top-1 (%)")
    ax.set_ylabel("finetuned top-1 (%)")
    return fig


def plot_timing(df: pd.DataFrame) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(5, 3.6))
    ax.semilogy(df["bin_g"], df["generator_s"], "o-", label="architecture generator (measured)")
    ax.semilogy(df["bin_g"], df["rejection_s"], "s-", label="rejection, analytic FLOPs (measured)")
    ax.semilogy(df["bin_g"], df["rejection_counted_s"], "^--", label="rejection, cost-model count per draw")
    ax.set_xlabel("target bin (ViT-T GFLOPs, left edge)")
    ax.set_ylabel("seconds per subnet in the bin (log)")
    ax.legend(fontsize=7)
    return fig


def plot_overview(space: ViTSpace, bins: ps.FlopsBins, flops: np.ndarray, probs: list[float]) -> plt.Figure:
    """Fig. 1: the FLOPs range split into bins, the learned distribution over them, the generator."""
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.hist(np.array([to_paper(space, f) for f in flops]), bins=50, density=True, alpha=0.35,
            label="uniformly sampled subnets")
    ax2 = ax.twinx()
    ax2.bar([to_paper(space, c) for c in bins.centers], probs, width=0.9 * (SPLIT_G[1] - SPLIT_G[0]) / bins.count,
            color="tab:orange", alpha=0.7, label="learned distribution B over FLOPs bins")
    for e in bins.edges:
        ax.axvline(to_paper(space, e), color="grey", lw=0.5)
    ax.annotate("b ~ B  ->  generator AG(b)  ->  subnet in bin b  ->  train step;  every q steps update B",
                xy=(0.02, 1.04), xycoords="axes fraction", fontsize=8)
    ax.set_xlabel("subnet FLOPs (ViT-T-equivalent G)")
    ax.set_ylabel("density")
    ax2.set_ylabel("probability")
    fig.legend(loc="upper right", fontsize=7, bbox_to_anchor=(0.9, 0.88))
    return fig


def plot_generator(space: ViTSpace) -> plt.Figure:
    """Fig. 3: the LSTM steps (one per decision), Gumbel-softmax one-hot policies, Eq. 9's masks."""
    steps = space.decisions()[:5]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3), gridspec_kw={"width_ratios": [2.2, 1]})
    for i, (name, kind, choices) in enumerate(steps):
        x = i * 2.0
        a.add_patch(plt.Rectangle((x, 0), 1.2, 0.8, fill=False, edgecolor="k"))
        a.text(x + 0.6, 0.4, "LSTM\n64", ha="center", va="center", fontsize=7)
        a.text(x + 0.6, 1.2, f"FC[{kind}] + Gumbel-softmax\n{name}\n{list(choices)}", ha="center", fontsize=6)
        a.annotate("", xy=(x + 0.6, 1.15), xytext=(x + 0.6, 0.8), arrowprops={"arrowstyle": "->"})
        if i:
            a.annotate("", xy=(x, 0.4), xytext=(x - 0.8, 0.4), arrowprops={"arrowstyle": "->"})
    a.text(0, -0.4, "input: target FLOPs C ~ B;  loss = task loss + lambda (FLOPs(p) - C)^2  (Eq. 10)", fontsize=7)
    a.set_xlim(-0.3, len(steps) * 2.0)
    a.set_ylim(-0.6, 2.2)
    a.axis("off")
    m = prefix_masks(space.num_heads, space.max_heads)
    b.imshow(m, cmap="Blues", vmin=0, vmax=1.5)
    b.set_yticks(range(len(space.num_heads)), [f"{h} heads" for h in space.num_heads])
    b.set_xticks(range(space.max_heads), [f"head {j}" for j in range(space.max_heads)])
    b.set_title("prefix masks M (Eq. 9): p' = M p", fontsize=8)
    return fig


def plot_architectures(space: ViTSpace, df: pd.DataFrame) -> plt.Figure:
    """Fig. 10 (ours): the generator's subnets per bin, heads and MLP width per layer."""
    fig, axes = plt.subplots(1, len(df), figsize=(2 * len(df), 3), sharey=True)
    for ax, (_, r) in zip(np.atleast_1d(axes), df.iterrows()):
        c = r["config"]
        layers = np.arange(c["depth"])
        ax.barh(layers, [h * space.head_dim for h in c["num_heads"]], color="tab:blue", label="qkv width")
        ax.barh(layers, [-int(m * c["embed_dim"]) for m in c["mlp_ratio"]], color="tab:green", label="MLP hidden")
        ax.set_title(f"{r['flops_g']:.2f} G\nembed {c['embed_dim']}", fontsize=7)
        ax.axvline(0, color="k", lw=0.5)
        ax.set_xlabel("<- MLP | qkv ->", fontsize=7)
    np.atleast_1d(axes)[0].set_ylabel("layer")
    np.atleast_1d(axes)[0].legend(fontsize=6)
    return fig
