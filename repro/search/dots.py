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

On the library's training engine (:mod:`repro.train.engine`), each stage is one ``engine.run``
over its steps (:func:`run_stages`): the engine takes the weights' RAdam step (loss: cross-entropy plus
Eq. 15, gradient norm clipped at 5, fp32) and one hook per stage does the rest: the learning rate of
the step, the temperature of its epoch (``epoch = step // steps_per_epoch``), the architecture step
(bi-level: before the weights' step, on the validation batch of the step, a pure function of the
step; one-level: after it, on the same batch's gradients) and, per epoch, the test accuracy. The
search has one checkpoint (the caller's ``ckpt``): the number of stages done, the architecture
side (alpha, balance, beta, their optimiser, the kept ops, the history) and the engine's state of the
running stage (weights, their optimiser, step), rewritten every epoch and at each stage's end, so a
run killed anywhere resumes exactly. ``stop_at`` counts steps over all stages (``--max-steps``); ``metrics``
names the engine's JSON-lines log, one file per stage (``<stem>-<stage><suffix>``).

Remaining deviations from the paper / DOTS:

* the balance weight's temperature is a fixed ``balance_t`` (1.0), not annealed: neither paper
  states its schedule;
* during the retraining stage the balance weight learns one-level with ``w`` (DOTS's text does not
  say whether it is frozen there);
* the learning-rate schedule counts one position per operation-search batch; a one-level epoch (twice
  the batches) advances it by the same amount, so the curve over epochs is the one of :func:`lr_curve`;
* the lengths of the stages are the profile's (smoke / default: a few epochs, not 70);
* the shift weights themselves (:mod:`repro.ops.shift`: the range of ``P``, the gradient of ``S``,
  quantisation per call) are that module's and its docstring names their deviations.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import ConcatDataset, Dataset

from repro.cache import Checkpoint
from repro.spaces.darts import CONV_GROUP, PRIMITIVES, STEPS, TOPOLOGY_GROUP, Genotype, check_domain, edges, node_pairs
from repro.supernets.darts import SearchNetwork, use_fixed_point
from repro.train import distributed, engine
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


def lr_at(cfg: SearchConfig, step: int, steps_per_epoch: int) -> float:
    """The learning rate of the network weights at schedule position ``step`` (``steps_per_epoch``
    positions per epoch): :func:`lr_factor` of ``cfg.lr``, reset or not by ``cfg.lrr`` at the
    re-initialisation (the first retraining epoch)."""
    total = cfg.epochs * steps_per_epoch
    reset_at = cfg.reset_epoch * steps_per_epoch if cfg.lrr and cfg.retrain_epochs + cfg.topo_epochs else None
    return cfg.lr * lr_factor(step, total, reset_at)


def lr_curve(cfg: SearchConfig, steps_per_epoch: int) -> list[float]:
    """The learning rate of every schedule position, from the function the search's steps use (bs-fig2)."""
    return [lr_at(cfg, s, steps_per_epoch) for s in range(cfg.epochs * steps_per_epoch)]


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
        kept = torch.tensor(self.keep[kind], device=alpha.device)
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
    incidence = torch.zeros(len(pairs), node, dtype=beta.dtype, device=beta.device)
    for c, pair in enumerate(pairs):
        incidence[c, list(pair)] = 1.0 / len(pair)
    return F.softmax(beta / temp, dim=-1) @ incidence


# ---------------------------------------------------------------- the search on the engine

ONE_LEVEL = (RETRAIN, TOPOLOGY)  # the stages on the whole training set, w and the architecture together


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


def _arch_step(arch: nn.Module, a_opt: torch.optim.Optimizer, learns: list[nn.Parameter]) -> None:
    """Step only the architecture weights of the current stage (the others' gradients are dropped)."""
    ids = {id(p) for p in learns}
    for p in arch.parameters():
        if id(p) not in ids:
            p.grad = None
    a_opt.step()


def steps_per_epoch(data: SearchData, cfg: SearchConfig, phase: str) -> int:
    """Batches per epoch: the one-level stages walk the union of the halves, the others both halves in parallel."""
    if phase in ONE_LEVEL:
        return (len(data.train) + len(data.val)) // cfg.batch_size
    return min(len(data.train), len(data.val)) // cfg.batch_size


def stage_temperature(cfg: SearchConfig, phase: str, epoch: int) -> float | None:
    """The edge temperature of ``epoch`` (of the whole search) in stage ``phase``: none before pruning,
    ``T0`` while retraining (beta fixed), annealed per topology epoch from ``t0`` to ``t_end`` (Eq. 12)."""
    if phase == RETRAIN:
        return cfg.t0
    if phase == TOPOLOGY:
        return temperature(epoch - cfg.reset_epoch - cfg.retrain_epochs, cfg.topo_epochs, cfg.t0, cfg.t_end)
    return None


def reinitialise(net: SearchNetwork, w_opt: torch.optim.Optimizer, cfg: SearchConfig) -> None:
    """Stage 3 starts from fresh network weights (a new draw) and a fresh optimiser state."""
    torch.manual_seed(cfg.seed + 1)
    net.load_state_dict(cfg.network().state_dict())
    w_opt.state.clear()


def _run_config(phase: Phase, steps: int, per_epoch: int, device: torch.device, stop_at: int | None,
                seed: int) -> engine.RunConfig:
    """One stage's engine run: the weights' gradient norm clipped at 5 (DARTS, DOTS), a checkpoint
    per epoch, fp32 (the 16.16 fixed-point inputs of Sec. 5 need more than bf16's 8-bit mantissa)."""
    return engine.RunConfig(steps=steps, device=str(device), precision="fp32", grad_clip=GRAD_CLIP,
                            ckpt_every=per_epoch, seed=seed, desc=phase.name, stop_at=stop_at)


@dataclass
class _Search:
    """The objects one search's stages share, and what a stage boundary or a checkpoint holds."""
    cfg: SearchConfig
    data: SearchData
    arch: nn.Module
    a_opt: torch.optim.Optimizer
    net: SearchNetwork
    w_opt: torch.optim.Optimizer
    device: torch.device
    alpha0: nn.ParameterDict
    history: list[dict] = field(default_factory=list)
    seconds: float = 0.0

    def record(self) -> dict:
        """The architecture side: its weights, optimiser and kept ops; the history and the search time."""
        return {"arch": self.arch.state_dict(), "keep": {k: [list(e) for e in v] for k, v in self.arch.keep.items()},
                "topology": self.arch.topology, "a_opt": self.a_opt.state_dict(), "history": list(self.history),
                "seconds": self.seconds}

    def load_record(self, state: dict) -> None:
        self.arch.load_state_dict(state["arch"])
        self.arch.keep = {k: [list(e) for e in v] for k, v in state["keep"].items()}
        self.arch.topology = state["topology"]
        self.net.restrict(self.arch.keep)
        self.a_opt.load_state_dict(state["a_opt"])
        self.history, self.seconds = list(state["history"]), state["seconds"]

    def state(self, stages: int, running: dict | None) -> dict:
        """``stages`` stages done, the record, and either ``running``, the engine's state of stage
        ``stages`` (it holds the weights and their optimiser), or, between stages, those two."""
        if running is not None:
            return {"stages": stages, **self.record(), "running": running}
        return {"stages": stages, **self.record(), "running": None, "net": self.net.state_dict(),
                "w_opt": self.w_opt.state_dict()}

    def restore(self, state: dict) -> None:
        self.load_record(state)
        if state["running"] is None:
            self.net.load_state_dict(state["net"])
            self.w_opt.load_state_dict(state["w_opt"])


class _StageCheckpoint:
    """What :func:`repro.train.engine.run` asks of a checkpoint, for stage ``index``: its saves go into
    the search's one checkpoint (``outer``, or memory only) with the record of the search."""

    def __init__(self, search: _Search, index: int, outer: Checkpoint | None, running: dict | None):
        self.search, self.index, self.outer, self.running = search, index, outer, running

    def load(self) -> dict | None:
        return self.running

    def save(self, state: dict) -> None:
        self.running = state
        if self.outer is not None:
            self.outer.save(self.search.state(self.index, state))


class _StageHook(engine.Hook):
    """One stage's strategy on the engine (module docstring).

    ``before_step``: the edge temperature of the step's epoch; in a bi-level stage that learns, the
    architecture step on the validation batch of the step (Eq. 5, first order: the current ``w``);
    ``lr``: the weights' rate at the step's schedule position; ``after_step``: in a one-level stage the
    architecture step on the gradients of the weights' own batch, then at an epoch's end the test
    accuracy and a history row. Its state is :meth:`_Search.record`, so a resumed stage is exact.
    """

    def __init__(self, search: _Search, model: FixedWeights, phase: Phase, first_epoch: int):
        self.s, self.model, self.phase, self.first_epoch = search, model, phase, first_epoch
        self.per_epoch = steps_per_epoch(search.data, search.cfg, phase.name)
        self.unit = steps_per_epoch(search.data, search.cfg, OPERATION)  # schedule positions per epoch
        self.learns = search.arch.stage_parameters(phase.name)
        self.one_level = phase.name in ONE_LEVEL
        self.test = loader(search.data.test, 256, shuffle=False)
        self._val, self._next_val, self._tic = iter(()), -1, 0.0

    def _val_batch(self, step: int):
        """The validation batch of ``step``: batch ``step % per_epoch`` of its epoch's shuffle."""
        epoch, b = divmod(step, self.per_epoch)
        if step != self._next_val or b == 0:
            cfg = self.s.cfg
            val = loader(self.s.data.val, cfg.batch_size, shuffle=True,
                         seed=cfg.seed + 10_000 + self.first_epoch + epoch, drop_last=True)
            self._val = islice(val, b, None)
        self._next_val = step + 1
        return engine.to_device(next(self._val), self.s.device)

    def before_step(self, step: int) -> None:
        self._tic = time.perf_counter()
        s = self.s
        self.model.temp = stage_temperature(s.cfg, self.phase.name, self.first_epoch + step // self.per_epoch)
        s.a_opt.zero_grad(set_to_none=True)
        if self.learns and not self.one_level:
            xv, yv = self._val_batch(step)
            F.cross_entropy(self.model(xv), yv).backward()
            _arch_step(s.arch, s.a_opt, self.learns)  # the engine clears w's gradients before its step

    def lr(self, step: int) -> float:
        epoch, b = divmod(step, self.per_epoch)
        return lr_at(self.s.cfg, (self.first_epoch + epoch) * self.unit + b * self.unit // self.per_epoch, self.unit)

    def after_step(self, step: int, loss: float) -> None:
        s = self.s
        if self.learns and self.one_level:
            _arch_step(s.arch, s.a_opt, self.learns)
        s.seconds += time.perf_counter() - self._tic
        if (step + 1) % self.per_epoch:
            return
        epoch, temp = self.first_epoch + step // self.per_epoch, self.model.temp
        s.history.append({"epoch": epoch + 1, "phase": self.phase.name,
                          "lr": lr_at(s.cfg, epoch * self.unit, self.unit), "temperature": temp,
                          "test_acc": search_accuracy(s.net, s.arch, self.test, temp),
                          "alpha_moved": alpha_moved(s.arch, s.alpha0)})

    def state_dict(self) -> dict:
        return self.s.record()

    def load_state_dict(self, state: dict) -> None:
        self.s.load_record(state)


def _stage_batches(cfg: SearchConfig, data: SearchData, phase: Phase, first_epoch: int, per_epoch: int):
    """The weights' batches of a stage, epoch by epoch: one half, or the whole set in a one-level stage."""
    source = ConcatDataset([data.train, data.val]) if phase.name in ONE_LEVEL else data.train

    def batches():
        for epoch in range(first_epoch, first_epoch + phase.epochs):
            yield from islice(loader(source, cfg.batch_size, shuffle=True, seed=cfg.seed + epoch, drop_last=True),
                              per_epoch)
    return batches


def _stage_path(path: Path | None, phase: Phase) -> Path | None:
    """The metrics log of one stage: ``<stem>-<stage>.<suffix>`` beside ``path``."""
    return None if path is None else path.with_name(f"{path.stem}-{phase.name.replace(' ', '-')}{path.suffix}")


def run_stages(cfg: SearchConfig, data: SearchData, arch: nn.Module, a_opt: torch.optim.Optimizer,
               stages: Sequence[Phase], *, until: str | None = None, start: dict | None = None,
               ckpt: Checkpoint | None = None, device: str = "auto", stop_at: int | None = None,
               metrics: Path | None = None) -> dict:
    """Run ``stages`` (each one :func:`repro.train.engine.run`) from ``start`` up to and including ``until``.

    ``arch`` needs ``weights(temp)``, ``stage_parameters(name)``, ``keep`` and ``topology``; ``a_opt`` is
    its optimiser. Returns the state (:meth:`_Search.state`): ``stages`` done, ``arch``, ``keep``,
    ``topology``, ``a_opt``, ``history``, ``seconds``, and the weights ``net`` and ``w_opt``, or,
    when ``stop_at`` (steps over all stages) cut stage ``stages`` short, ``running``: the engine's
    state of that stage. ``ckpt`` holds such a state, with ``running``, rewritten every epoch and at
    each stage's end; a rerun resumes from it exactly (a finished stage's engine run returns at once).
    Before the first one-level stage the supernet is pruned (Eq. 11) and its weights re-initialised.
    """
    if distributed.is_distributed():
        raise RuntimeError("the DOTS search runs in one process, as the paper's does (Sec. 5.1: about 5.5 h on "
                           "one RTX 3090); its bilevel steps pair each weight batch with a validation batch: "
                           "run it without torchrun (bitshift-eval trains under torchrun)")
    if steps_per_epoch(data, cfg, OPERATION) < 1:
        raise ValueError(f"batch_size {cfg.batch_size} exceeds the halves of the training set "
                         f"({len(data.train)} / {len(data.val)} images)")
    if stop_at is not None and not (isinstance(stop_at, int) and stop_at >= 1):
        raise ValueError(f"stop_at must be an integer >= 1 or None, got {stop_at!r}")
    dev = engine.resolve_device(device)
    torch.manual_seed(cfg.seed)
    net = cfg.network()
    net.restrict(arch.keep)
    net.to(dev)
    arch.to(dev)
    alpha0 = init_alpha(torch.Generator().manual_seed(cfg.seed)).to(dev)  # the initial draw (alpha is drawn first)
    s = _Search(cfg, data, arch, a_opt, net, weight_optimizer(net, cfg.lr, cfg.weight_decay, cfg.l2r), dev, alpha0)
    state = (ckpt.load() if ckpt is not None else None) or start
    done, running = 0, None
    if state is not None:
        s.restore(state)
        done, running = state["stages"], state["running"]
    running_stage = done
    model = FixedWeights(net, arch, None)
    extra = regulariser(net, cfg.weight_decay, cfg.l2r)

    def loss_fn(m: nn.Module, batch) -> torch.Tensor:
        x, y = batch
        loss = F.cross_entropy(m(x), y)
        return loss if extra is None else loss + extra()

    offset = first_epoch = 0
    for i, phase in enumerate(stages):
        per_epoch = steps_per_epoch(data, cfg, phase.name)
        steps = phase.epochs * per_epoch
        if i >= done and steps:
            if stop_at is not None and stop_at <= offset:
                break
            if phase.name in ONE_LEVEL and not arch.topology:
                net.restrict(arch.keep_best())
                reinitialise(net, s.w_opt, cfg)
            stage_ckpt = _StageCheckpoint(s, i, ckpt, running if i == running_stage else None)
            run_cfg = _run_config(phase, steps, per_epoch, dev, None if stop_at is None else stop_at - offset, cfg.seed)
            res = engine.run(model, s.w_opt, _stage_batches(cfg, data, phase, first_epoch, per_epoch), loss_fn,
                             run_cfg, hooks=[_StageHook(s, model, phase, first_epoch)], ckpt=stage_ckpt,
                             metrics=_stage_path(metrics, phase))
            if res.steps < steps:
                return s.state(i, stage_ckpt.running)
            done = i + 1  # the checkpoint's last state is this stage's end: a rerun finds it finished
        offset += steps
        first_epoch += phase.epochs
        if phase.name == until:
            break
    # nothing ran since the restore: the restored engine state (if any) is still the weights' state
    return s.state(done, running if done == running_stage else None)


def run_phases(cfg: SearchConfig, data: SearchData, arch: DotsArchitecture, until: str | None = None,
               start: dict | None = None, ckpt: Checkpoint | None = None, *, device: str = "auto",
               stop_at: int | None = None, metrics: Path | None = None) -> dict:
    """The stages of :func:`phases` on the engine (:func:`run_stages`), alpha, balance and beta by Adam."""
    return run_stages(cfg, data, arch, _arch_optimizer(arch, cfg), phases(cfg), until=until, start=start,
                      ckpt=ckpt, device=device, stop_at=stop_at, metrics=metrics)


@torch.no_grad()
def alpha_moved(arch: nn.Module, alpha0: nn.ParameterDict) -> float:
    """The largest change of any operation weight ``alpha`` from its initialisation (did the search learn?)."""
    return max(float((arch.alpha[k] - alpha0[k]).abs().max()) for k in KINDS)


class FixedWeights(nn.Module):
    """The search network under the current architecture weights, as a plain classifier. The
    architecture is no submodule: the weights' optimiser, gradient clip and checkpoint do not see it."""

    def __init__(self, net: SearchNetwork, arch: nn.Module, temp: float | None):
        super().__init__()
        self.net, self.arch_weights, self.temp = net, arch.weights, temp

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x, self.arch_weights(self.temp))


def search_accuracy(net: SearchNetwork, arch: nn.Module, test, temp: float | None) -> float:
    return evaluate(FixedWeights(net, arch, temp), test)["acc"]


def search(cfg: SearchConfig, data: SearchData, ckpt: Checkpoint | None = None, *, device: str = "auto",
           stop_at: int | None = None, metrics: Path | None = None) -> SearchResult:
    """The whole ShiftNAS search (all four stages) in one call; see :func:`run_phases`. With ``stop_at``
    the result is the search's so far; a rerun with the same ``ckpt`` continues it."""
    arch = DotsArchitecture(cfg.seed, cfg.balance_t)
    state = run_phases(cfg, data, arch, ckpt=ckpt, device=device, stop_at=stop_at, metrics=metrics)
    return SearchResult(arch.genotype(), state["history"], state["seconds"])
