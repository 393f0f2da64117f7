"""ShiftNAS's search strategy (bit-shift paper, Sec. 4.2-4.3, Appendix A), after DOTS (Gu et al., 2021).

Four stages, listed by :func:`phases` (the overview diagram bs-fig1 draws the same objects the
search runs), in DOTS's proportions 15 : 15 : 20 : 20 of its 70 epochs (ShiftNAS Sec. 5.4: "the
model gets pruned and retrained"); the profile scales their lengths:

1. **Weights only** (``warmup_epochs``, paper 15): ``w`` learns on one half of the training set,
   ``alpha`` stays at its initialisation.
2. **Operation search** (``op_epochs``, 15; bi-level, first-order, Eq. 5): on every edge one softmax
   over the convolution group ``O_c`` and a separate one over the topology group ``O_t`` (Eq. 3 per
   group); ``w`` on one half, ``alpha`` on the other. At its end the best operation of each group is
   kept per edge (Eq. 11): the supernet is pruned.
3. **Retraining of the pruned network** (``retrain_epochs``, 20; one-level, the whole training set):
   the network weights are re-initialised (and their optimiser state cleared); ``w`` and the
   per-edge *balance weight* learn, ``beta`` does not (the edges keep their uniform importance at
   ``T0``). The balance weight (two logits per edge, initialised to 0, temperature ``balance_t``)
   decides between the edge's two kept operations: the group winners' raw ``alpha`` came from two
   separate softmaxes and are not comparable.
4. **Topology search** (``topo_epochs``, 20; one-level): per node a softmax over the pairs of its
   input edges with temperature ``T = T0 * theta^e`` annealed per epoch from 10 to 0.02 (Eq. 12);
   edge importance ``gamma(i,j) = sum_{c containing (i,j)} beta_c / N(c)`` (Eq. 13) scales every
   edge (Eq. 14); ``w``, the balance weight and ``beta`` learn together.

Regularisation and stabilisation (Sec. 4.3): the modified L2 term ``lambda/2 * sum (2^P * S)^2``
(Eq. 15, :func:`modified_l2`) replaces the conventional decay of ``P`` and ``S``; the learning rate
is reset to its initial value at the re-initialisation (:func:`lr_factor`, Fig. 2). Both switchable
(``SearchConfig.l2r`` / ``.lrr``) for the ablation of Table 4. ``w``: RAdam, lr 0.01, weight decay
3e-4, cosine, gradient norm clipped at 5 (as DARTS / DOTS); ``alpha``, balance, ``beta``: Adam, lr
3e-4, betas (0.9, 0.999) (DOTS), weight decay 1e-3 (Appendix A).

Without the reset the last two stages continue the cosine of the whole search (one schedule over
all epochs); with it the same curve restarts at the initial rate at the re-initialisation and
anneals to 0 at the end. The first two stages are therefore identical in both arms.

Remaining deviations from the paper / DOTS:

* the balance weight's temperature is a fixed ``balance_t`` (1.0), not annealed: neither paper
  states its schedule;
* during the retraining stage the balance weight learns one-level with ``w`` (DOTS's text does not
  say whether it is frozen there);
* the learning-rate scheduler counts one step per operation-search batch; a one-level epoch (twice
  the batches) advances it by the same amount, so the curve over epochs is the one of :func:`lr_curve`;
* the lengths of the stages are the profile's (smoke / default: a few epochs, not 70);
* the shift weights themselves (:mod:`repro.ops.shift`: the range of ``P``, the gradient of ``S``,
  quantisation per call) are that module's and its docstring names their deviations.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import ConcatDataset, Dataset
from tqdm.auto import tqdm

from repro.cache import Checkpoint
from repro.spaces.darts import CONV_GROUP, PRIMITIVES, STEPS, TOPOLOGY_GROUP, Genotype, check_domain, edges, node_pairs
from repro.supernets.darts import SearchNetwork, use_fixed_point
from repro.train.basic import evaluate, loader

KINDS = ("normal", "reduce")
CONV_IDX = [PRIMITIVES.index(o) for o in CONV_GROUP]
TOPO_IDX = [PRIMITIVES.index(o) for o in TOPOLOGY_GROUP]
WARMUP, OPERATION, RETRAIN, TOPOLOGY = "weights only", "operation search", "retraining", "topology search"
STAGES = (WARMUP, OPERATION, RETRAIN, TOPOLOGY)
ARCH_BETAS = (0.9, 0.999)  # DOTS's Adam betas for alpha, balance and beta
GRAD_CLIP = 5.0            # gradient-norm clip of the network weights (DARTS, DOTS)


@dataclass(frozen=True)
class SearchConfig:
    """One search: the supernet, the four stages' lengths and the optimisers (Appendix A defaults)."""
    c: int = 16
    layers: int = 8
    in_channels: int = 3
    num_classes: int = 10
    domain: str = "shift"
    warmup_epochs: int = 15
    op_epochs: int = 15
    retrain_epochs: int = 20
    topo_epochs: int = 20
    batch_size: int = 128
    lr: float = 0.01
    weight_decay: float = 3e-4
    arch_lr: float = 3e-4
    arch_weight_decay: float = 1e-3
    t0: float = 10.0
    t_end: float = 0.02
    balance_t: float = 1.0
    l2r: bool = True
    lrr: bool = True
    fixed_point: bool = False  # 16.16 fixed-point inputs and biases of the shift convolutions (Sec. 5)
    seed: int = 0

    def __post_init__(self) -> None:
        check_domain(self.domain)
        for name in ("c", "layers", "in_channels", "num_classes", "op_epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"SearchConfig.{name} must be >= 1, got {getattr(self, name)}")
        for name in ("warmup_epochs", "retrain_epochs", "topo_epochs"):
            if getattr(self, name) < 0:
                raise ValueError(f"SearchConfig.{name} must be >= 0, got {getattr(self, name)}")
        if not 0 < self.t_end <= self.t0:
            raise ValueError(f"need 0 < t_end <= t0, got t0={self.t0}, t_end={self.t_end}")
        if self.balance_t <= 0:
            raise ValueError(f"SearchConfig.balance_t must be > 0, got {self.balance_t}")

    def network(self) -> SearchNetwork:
        net = SearchNetwork(self.c, self.num_classes, self.layers, self.in_channels, self.domain)
        return use_fixed_point(net) if self.fixed_point and self.domain == "shift" else net

    @property
    def epochs(self) -> int:
        return self.warmup_epochs + self.op_epochs + self.retrain_epochs + self.topo_epochs

    @property
    def reset_epoch(self) -> int:
        """The first epoch of the retraining stage: re-initialisation and (with LRR) the lr reset."""
        return self.warmup_epochs + self.op_epochs


@dataclass(frozen=True)
class Phase:
    """One stage of the search, as the search runs it and as bs-fig1 draws it."""
    name: str
    epochs: int
    optimisation: str
    learns: str
    data: str
    outcome: str


def phases(cfg: SearchConfig) -> tuple[Phase, ...]:
    """The four stages of the DOTS schedule (module docstring; Sec. 4.2, Appendix A)."""
    return (
        Phase(WARMUP, cfg.warmup_epochs, "weights only", "w (RAdam)", "train half", "trained supernet weights"),
        Phase(OPERATION, cfg.op_epochs, "bi-level",
              "w (RAdam), alpha per group O_c / O_t (Adam)", "w: train half; alpha: validation half",
              "best op of O_c and of O_t per edge (Eq. 11): pruned"),
        Phase(RETRAIN, cfg.retrain_epochs, "one-level",
              "re-initialised w, balance per edge; beta fixed" + ("; lr reset" if cfg.lrr else ""),
              "whole training set", "trained pruned network"),
        Phase(TOPOLOGY, cfg.topo_epochs, "one-level",
              f"w, balance, beta; T {cfg.t0:g} -> {cfg.t_end:g} per epoch",
              "whole training set", "best input pair per node, best op per edge"),
    )


# ---------------------------------------------------------------- schedules

def temperature(step: int, total: int, t0: float = 10.0, t_end: float = 0.02) -> float:
    """``T(t) = t0 * theta^t`` with ``theta`` chosen so that the last of ``total`` steps has ``t_end`` (Eq. 12)."""
    if total < 1 or not 0 <= step < total:
        raise ValueError(f"step must lie in [0, total) with total >= 1, got step={step}, total={total}")
    return t0 if total == 1 else t0 * (t_end / t0) ** (step / (total - 1))


def _cosine(progress: float) -> float:
    return 0.5 * (1.0 + math.cos(math.pi * min(max(progress, 0.0), 1.0)))


def lr_factor(step: int, total: int, reset_at: int | None) -> float:
    """The multiplier of the initial learning rate at ``step``: one cosine over the search, or,
    with ``reset_at`` (the first retraining step), a second cosine restarted at 1 there (Fig. 2)."""
    if reset_at is None or step < reset_at:
        return _cosine(step / total)
    return _cosine((step - reset_at) / max(total - reset_at, 1))


def lr_scheduler(optimizer: torch.optim.Optimizer, cfg: SearchConfig,
                 steps_per_epoch: int) -> torch.optim.lr_scheduler.LambdaLR:
    """The per-step scheduler of the network weights' learning rate, reset or not by ``cfg.lrr``
    at the re-initialisation (the first retraining step)."""
    total = cfg.epochs * steps_per_epoch
    reset_at = cfg.reset_epoch * steps_per_epoch if cfg.lrr and cfg.retrain_epochs + cfg.topo_epochs else None
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_factor(s, total, reset_at))


def lr_curve(cfg: SearchConfig, steps_per_epoch: int) -> list[float]:
    """The learning rate of every step, read from the scheduler itself (bs-fig2)."""
    opt = torch.optim.RAdam([nn.Parameter(torch.zeros(1))], lr=cfg.lr)
    sched = lr_scheduler(opt, cfg, steps_per_epoch)
    curve = []
    for _ in range(cfg.epochs * steps_per_epoch):
        curve.append(sched.get_last_lr()[0])
        opt.step()
        sched.step()
    return curve


# ---------------------------------------------------------------- regularisation

def shift_layers(model: nn.Module) -> list[nn.Module]:
    """Every layer of ``model`` with PS shift parameters (``.shift`` = P, ``.sign`` = S)."""
    return [m for m in model.modules() if hasattr(m, "shift") and hasattr(m, "sign")]


def modified_l2(model: nn.Module, lam: float) -> torch.Tensor:
    """Eq. 15: ``lambda/2 * sum (2^P * S)^2`` over the weights of every shift layer (rounded, STE)."""
    from repro.ops.shift import effective_weight

    terms = [effective_weight(m).pow(2).sum() for m in shift_layers(model)]
    return 0.5 * lam * torch.stack(terms).sum() if terms else torch.zeros(())


def weight_optimizer(model: nn.Module, lr: float, weight_decay: float, l2r: bool) -> torch.optim.RAdam:
    """RAdam over the network weights. With ``l2r`` the shift parameters P, S get no conventional
    decay (Eq. 15 regularises them instead); without it every parameter decays (``sum P^2 + S^2``)."""
    shift_ids = {id(p) for m in shift_layers(model) for p in (m.shift, m.sign)} if l2r else set()
    shift = [p for p in model.parameters() if id(p) in shift_ids]
    rest = [p for p in model.parameters() if id(p) not in shift_ids]
    groups = [{"params": rest, "weight_decay": weight_decay}]
    if shift:
        groups.append({"params": shift, "weight_decay": 0.0})
    return torch.optim.RAdam(groups, lr=lr)


def regulariser(model: nn.Module, weight_decay: float, l2r: bool) -> Callable[[], torch.Tensor] | None:
    """The extra loss term of the network weights: Eq. 15 when ``l2r`` and the model has shift layers."""
    if not (l2r and shift_layers(model)):
        return None
    return lambda: modified_l2(model, weight_decay)


# ---------------------------------------------------------------- architecture weights

def init_alpha(gen: torch.Generator) -> nn.ParameterDict:
    """Operation weights ``alpha`` (edges x 8 per cell kind), small random values as in DARTS."""
    n_edges = len(edges())
    return nn.ParameterDict({k: nn.Parameter(1e-3 * torch.randn(n_edges, len(PRIMITIVES), generator=gen))
                             for k in KINDS})


class DotsArchitecture(nn.Module):
    """The architecture weights of one search: ``alpha`` (edges x 8 per cell kind), the balance
    weight (edges x 2 per cell kind, initialised to 0) and ``beta`` (one vector over input pairs per
    node and cell kind), plus the ops kept per edge."""

    def __init__(self, seed: int = 0, balance_t: float = 1.0):
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.alpha = init_alpha(gen)
        self.balance = nn.ParameterDict({k: nn.Parameter(torch.zeros(len(edges()), 2)) for k in KINDS})
        self.beta = nn.ParameterDict({f"{k}_{j}": nn.Parameter(1e-3 * torch.randn(len(node_pairs(j)), generator=gen))
                                      for k in KINDS for j in range(2, STEPS + 2)})
        self.balance_t = balance_t
        every = [CONV_IDX + TOPO_IDX for _ in range(len(edges()))]  # "none" is in neither group
        self.keep: dict[str, list[list[int]]] = {k: [list(e) for e in every] for k in KINDS}
        self.topology = False  # pruned: the stages after the operation search

    def op_weights(self, kind: str) -> torch.Tensor:
        """Operation search: a softmax per group (each sums to 1). After pruning: the balance
        weight's softmax (temperature ``balance_t``) over the edge's kept conv and topology op.
        Ops not kept get weight 0."""
        alpha = self.alpha[kind]
        w = torch.zeros_like(alpha)
        if not self.topology:
            w[:, CONV_IDX] = F.softmax(alpha[:, CONV_IDX], dim=-1)
            w[:, TOPO_IDX] = F.softmax(alpha[:, TOPO_IDX], dim=-1)
            return w
        kept = torch.tensor(self.keep[kind])
        return w.scatter(1, kept, F.softmax(self.balance[kind] / self.balance_t, dim=-1))

    def edge_weights(self, kind: str, temp: float) -> torch.Tensor:
        """Eq. 13 for every edge of the cell, in :func:`edges` order."""
        return torch.cat([edge_importance(self.beta[f"{kind}_{j}"], j, temp) for j in range(2, STEPS + 2)])

    def weights(self, temp: float | None = None) -> dict[str, tuple[torch.Tensor, torch.Tensor | None]]:
        """What :meth:`SearchNetwork.forward` takes; edge weights once pruned (``temp`` given)."""
        return {k: (self.op_weights(k), self.edge_weights(k, temp) if self.topology else None) for k in KINDS}

    def stage_parameters(self, stage: str) -> list[nn.Parameter]:
        """What the architecture optimiser updates in ``stage``: alpha in the operation search,
        the balance weight in the retraining, balance and beta in the topology search."""
        if stage == OPERATION:
            return list(self.alpha.parameters())
        if stage == RETRAIN:
            return list(self.balance.parameters())
        if stage == TOPOLOGY:
            return list(self.balance.parameters()) + list(self.beta.parameters())
        return []

    @torch.no_grad()
    def keep_best(self) -> dict[str, list[list[int]]]:
        """Eq. 11: keep the best op of ``O_c`` and of ``O_t`` per edge ([conv, topology]); prune."""
        for k in KINDS:
            a = self.alpha[k]
            self.keep[k] = [[CONV_IDX[int(a[e, CONV_IDX].argmax())], TOPO_IDX[int(a[e, TOPO_IDX].argmax())]]
                            for e in range(a.shape[0])]
        self.topology = True
        return self.keep

    @torch.no_grad()
    def genotype(self) -> Genotype:
        """The best input pair per node (argmax beta), then on each of its edges the kept op the
        balance weight prefers (ties: the convolution)."""
        index = {edge: e for e, edge in enumerate(edges())}
        cells = {}
        for k in KINDS:
            cell = []
            for j in range(2, STEPS + 2):
                pair = node_pairs(j)[int(self.beta[f"{k}_{j}"].argmax())]
                for i in pair:
                    e = index[(i, j)]
                    cell.append((PRIMITIVES[self.keep[k][e][int(self.balance[k][e].argmax())]], i))
            cells[k] = tuple(cell)
        return Genotype(normal=cells["normal"], reduce=cells["reduce"])


def edge_importance(beta: torch.Tensor, node: int, temp: float) -> torch.Tensor:
    """Eqs. 12-13: ``gamma_i = sum_{pairs c containing i} softmax(beta / T)_c / N(c)``, N(c) = 2,
    for the ``node`` input edges of intermediate node ``node`` (2..)."""
    pairs = node_pairs(node)
    if beta.shape != (len(pairs),):
        raise ValueError(f"node {node} has {len(pairs)} input pairs, got beta of shape {tuple(beta.shape)}")
    incidence = torch.zeros(len(pairs), node, dtype=beta.dtype)
    for c, pair in enumerate(pairs):
        incidence[c, list(pair)] = 1.0 / len(pair)
    return F.softmax(beta / temp, dim=-1) @ incidence


# ---------------------------------------------------------------- the search loop

@dataclass
class SearchData:
    """The training set split in halves (w / alpha in the bi-level stages) and a held-out test set."""
    train: Dataset
    val: Dataset
    test: Dataset


@dataclass
class SearchResult:
    genotype: Genotype
    history: list[dict] = field(default_factory=list)  # per epoch: stage, lr, temperature, test acc, alpha moved
    seconds: float = 0.0


def _arch_optimizer(arch: nn.Module, cfg: SearchConfig) -> torch.optim.Adam:
    return torch.optim.Adam(arch.parameters(), lr=cfg.arch_lr, betas=ARCH_BETAS, weight_decay=cfg.arch_weight_decay)


def _loss(net: SearchNetwork, weights: dict, x: torch.Tensor, y: torch.Tensor,
          extra: Callable[[], torch.Tensor] | None) -> torch.Tensor:
    loss = F.cross_entropy(net(x, weights), y)
    return loss if extra is None else loss + extra()


def _arch_step(arch: nn.Module, a_opt: torch.optim.Optimizer, learns: list[nn.Parameter]) -> None:
    """Step only the architecture weights of the current stage (the others' gradients are dropped)."""
    ids = {id(p) for p in learns}
    for p in arch.parameters():
        if id(p) not in ids:
            p.grad = None
    a_opt.step()


def _w_step(net: nn.Module, w_opt: torch.optim.Optimizer) -> None:
    nn.utils.clip_grad_norm_(net.parameters(), GRAD_CLIP)
    w_opt.step()


def bilevel_epoch(net: SearchNetwork, arch: nn.Module, data: SearchData, cfg: SearchConfig, epoch: int,
                  w_opt: torch.optim.Optimizer, a_opt: torch.optim.Optimizer, sched, desc: str,
                  learns: list[nn.Parameter]) -> None:
    """One epoch on the two halves (Eq. 5, first order): per step an architecture step on a
    validation batch (skipped when ``learns`` is empty: weights only), then a ``w`` step on a training batch."""
    extra = regulariser(net, cfg.weight_decay, cfg.l2r)
    train = loader(data.train, cfg.batch_size, shuffle=True, seed=cfg.seed + epoch, drop_last=True)
    val = loader(data.val, cfg.batch_size, shuffle=True, seed=cfg.seed + 10_000 + epoch, drop_last=True)
    for (xt, yt), (xv, yv) in tqdm(zip(train, val), total=min(len(train), len(val)), desc=desc, leave=False):
        if learns:
            a_opt.zero_grad(set_to_none=True)
            F.cross_entropy(net(xv, arch.weights()), yv).backward()
            _arch_step(arch, a_opt, learns)
        w_opt.zero_grad(set_to_none=True)
        _loss(net, arch.weights(), xt, yt, extra).backward()
        _w_step(net, w_opt)
        sched.step()


def one_level_epoch(net: SearchNetwork, arch: DotsArchitecture, whole: Dataset, cfg: SearchConfig, epoch: int,
                    w_opt, a_opt, sched, unit: int, desc: str, temp: float, learns: list[nn.Parameter]) -> None:
    """One epoch on the whole training set: ``w`` and ``learns`` together, edge temperature ``temp``."""
    extra = regulariser(net, cfg.weight_decay, cfg.l2r)
    batches = loader(whole, cfg.batch_size, shuffle=True, seed=cfg.seed + epoch, drop_last=True)
    per_epoch = len(batches)
    for b, (x, y) in enumerate(tqdm(batches, desc=desc, leave=False)):
        w_opt.zero_grad(set_to_none=True)
        a_opt.zero_grad(set_to_none=True)
        _loss(net, arch.weights(temp), x, y, extra).backward()
        _w_step(net, w_opt)
        _arch_step(arch, a_opt, learns)
        # advance the scheduler by ``unit`` steps per epoch, spread over the batches
        for _ in range((b + 1) * unit // per_epoch - b * unit // per_epoch):
            sched.step()


def steps_per_epoch(data: SearchData, cfg: SearchConfig, phase: str) -> int:
    """Batches per epoch: the bi-level stages walk both halves in parallel, the one-level ones the union."""
    if phase in (WARMUP, OPERATION):
        return min(len(data.train), len(data.val)) // cfg.batch_size
    return (len(data.train) + len(data.val)) // cfg.batch_size


def stage_temperature(cfg: SearchConfig, epoch: int) -> float | None:
    """The edge temperature of ``epoch``: none before pruning, ``T0`` while retraining (beta fixed),
    then annealed per topology epoch from ``t0`` to ``t_end`` (Eq. 12)."""
    first_topo = cfg.reset_epoch + cfg.retrain_epochs
    if epoch < cfg.reset_epoch:
        return None
    if epoch < first_topo:
        return cfg.t0
    return temperature(epoch - first_topo, cfg.topo_epochs, cfg.t0, cfg.t_end)


def reinitialise(net: SearchNetwork, w_opt: torch.optim.Optimizer, cfg: SearchConfig) -> None:
    """Stage 3 starts from fresh network weights (a new draw) and a fresh optimiser state."""
    torch.manual_seed(cfg.seed + 1)
    net.load_state_dict(cfg.network().state_dict())
    w_opt.state.clear()


def search_state(net, arch, w_opt, a_opt, sched, epoch, history, seconds) -> dict:
    return {"net": net.state_dict(), "arch": arch.state_dict(), "keep": arch.keep, "topology": arch.topology,
            "w_opt": w_opt.state_dict(), "a_opt": a_opt.state_dict(), "sched": sched.state_dict(),
            "epoch": epoch, "history": list(history), "seconds": seconds}


def restore_state(state: dict, net, arch, w_opt, a_opt, sched) -> None:
    net.load_state_dict(state["net"])
    arch.load_state_dict(state["arch"])
    arch.keep, arch.topology = state["keep"], state["topology"]
    net.restrict(arch.keep)
    w_opt.load_state_dict(state["w_opt"])
    a_opt.load_state_dict(state["a_opt"])
    sched.load_state_dict(state["sched"])
    for group, lam, base in zip(w_opt.param_groups, sched.lr_lambdas, sched.base_lrs):
        group["lr"] = base * lam(sched.last_epoch)  # this config's schedule (the reset may differ)


def setup_search(cfg: SearchConfig, data: SearchData, arch: nn.Module):
    if steps_per_epoch(data, cfg, OPERATION) < 1:
        raise ValueError(f"batch_size {cfg.batch_size} exceeds the halves of the training set "
                         f"({len(data.train)} / {len(data.val)} images)")
    torch.manual_seed(cfg.seed)
    net = cfg.network()
    net.restrict(arch.keep)
    w_opt = weight_optimizer(net, cfg.lr, cfg.weight_decay, cfg.l2r)
    # one step unit for every stage: the scheduler counts bi-level steps, see run_phases
    sched = lr_scheduler(w_opt, cfg, steps_per_epoch(data, cfg, OPERATION))
    return net, w_opt, _arch_optimizer(arch, cfg), sched


def run_phases(cfg: SearchConfig, data: SearchData, arch: DotsArchitecture, until: str | None = None,
               start: dict | None = None, ckpt: Checkpoint | None = None) -> dict:
    """Run the stages of :func:`phases` from ``start`` (a saved state) up to and including ``until``;
    returns the final state. Saves a checkpoint every epoch and resumes from it. At the first epoch
    after the operation search the supernet is pruned (Eq. 11) and its weights re-initialised."""
    net, w_opt, a_opt, sched = setup_search(cfg, data, arch)
    saved = (ckpt.load() if ckpt else None) or start
    history, seconds, first = [], 0.0, 0
    if saved is not None:
        restore_state(saved, net, arch, w_opt, a_opt, sched)
        history, seconds, first = list(saved["history"]), saved["seconds"], saved["epoch"]
    test = loader(data.test, 256, shuffle=False)
    whole = ConcatDataset([data.train, data.val])
    unit = steps_per_epoch(data, cfg, OPERATION)
    alpha0 = init_alpha(torch.Generator().manual_seed(cfg.seed))  # the initial draw (alpha is drawn first)
    epoch = 0
    for phase in phases(cfg):
        for _ in range(phase.epochs):
            if epoch >= first:
                tic = time.perf_counter()
                if phase.name in (RETRAIN, TOPOLOGY) and not arch.topology:
                    net.restrict(arch.keep_best())
                    reinitialise(net, w_opt, cfg)
                lr = w_opt.param_groups[0]["lr"]
                desc = f"{phase.name} {epoch + 1}/{cfg.epochs}"
                temp = stage_temperature(cfg, epoch)
                learns = arch.stage_parameters(phase.name)
                if phase.name in (WARMUP, OPERATION):
                    bilevel_epoch(net, arch, data, cfg, epoch, w_opt, a_opt, sched, desc, learns)
                else:
                    one_level_epoch(net, arch, whole, cfg, epoch, w_opt, a_opt, sched, unit, desc, temp, learns)
                seconds += time.perf_counter() - tic
                acc = search_accuracy(net, arch, test, temp)
                history.append({"epoch": epoch + 1, "phase": phase.name, "lr": lr, "temperature": temp,
                                "test_acc": acc, "alpha_moved": alpha_moved(arch, alpha0)})
                if ckpt is not None:
                    ckpt.save(search_state(net, arch, w_opt, a_opt, sched, epoch + 1, history, seconds))
            epoch += 1
        if phase.name == until:
            break
    return search_state(net, arch, w_opt, a_opt, sched, epoch, history, seconds)


@torch.no_grad()
def alpha_moved(arch: nn.Module, alpha0: nn.ParameterDict) -> float:
    """The largest change of any operation weight ``alpha`` from its initialisation (did the search learn?)."""
    return max(float((arch.alpha[k] - alpha0[k]).abs().max()) for k in KINDS)


class FixedWeights(nn.Module):
    """The search network under the current architecture weights, as a plain classifier."""

    def __init__(self, net: SearchNetwork, arch: nn.Module, temp: float | None):
        super().__init__()
        self.net, self.arch, self.temp = net, arch, temp

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x, self.arch.weights(self.temp))


def search_accuracy(net: SearchNetwork, arch: nn.Module, test, temp: float | None) -> float:
    return evaluate(FixedWeights(net, arch, temp), test)["acc"]


def search(cfg: SearchConfig, data: SearchData, ckpt: Checkpoint | None = None) -> SearchResult:
    """The whole ShiftNAS search (all four stages) in one call; see :func:`run_phases`."""
    arch = DotsArchitecture(cfg.seed, cfg.balance_t)
    state = run_phases(cfg, data, arch, ckpt=ckpt)
    return SearchResult(arch.genotype(), state["history"], state["seconds"])
