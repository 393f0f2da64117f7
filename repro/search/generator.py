"""The architecture generator (AG) of ShiftNAS-PS (Sec. 3.3, Fig. 3) and the rejection-sampling baseline.

An LSTM cell (64 hidden units) reads a target FLOPs ``C`` and emits one decision per searchable
dimension of the space, one step at a time; a fully connected head per kind of decision (embed,
depth, heads, MLP ratio for the ViT space: the paper's 4 FC layers) turns its state into logits,
and Gumbel-softmax turns the logits into a one-hot policy that is fed back as the next input.
Prefix-mask matrices (Eq. 9, :mod:`repro.spaces.masks`) map a one-hot policy onto the entangled weights so the task loss
reaches the generator, and the resource loss of Eq. 10, ``lambda * (FLOPs(p) - C)^2``, teaches it
to hit its target. A space exposes ``decisions()``, ``config_from_indices()`` and
``flops_from_policies()``; a supernet exposes ``masks(policies)`` and ``forward(x, masks)``.
"""
from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from repro.spaces.base import Config
from repro.spaces.masks import Policies
from repro.train import engine

if TYPE_CHECKING:
    from repro.search.probability_shift import FlopsBins

class ArchitectureGenerator(nn.Module):
    """LSTM generator of one-hot policies given a target FLOPs (normalised by ``flops_range``)."""

    def __init__(self, decisions: Sequence[tuple[str, str, tuple]], flops_range: tuple[float, float],
                 hidden: int = 64):
        super().__init__()
        self.decisions = list(decisions)
        self.lo, self.hi = map(float, flops_range)
        if self.hi <= self.lo:
            raise ValueError(f"flops_range must be increasing, got {flops_range}")
        kinds: dict[str, int] = {}
        for name, kind, choices in self.decisions:
            if kinds.setdefault(kind, len(choices)) != len(choices):
                raise ValueError(f"decision {name!r} of kind {kind!r} has {len(choices)} choices, "
                                 f"other {kind!r} decisions have {kinds[kind]}")
        self.target = nn.Linear(1, hidden)
        self.cell = nn.LSTMCell(hidden, hidden)
        self.heads = nn.ModuleDict({k: nn.Linear(hidden, n) for k, n in kinds.items()})
        self.feedback = nn.ModuleDict({k: nn.Linear(n, hidden, bias=False) for k, n in kinds.items()})

    def forward(self, target: Tensor, *, tau: float = 1.0, greedy: bool = False) -> Policies:
        """Policies ``{name: (batch, choices)}`` for targets of shape ``(batch,)``.

        ``greedy``: the most probable choice at every step (how the paper picks its final subnets);
        otherwise straight-through hard Gumbel-softmax samples (one-hot forward, soft gradient).
        """
        t = self.target(((target - self.lo) / (self.hi - self.lo))[:, None])
        inp, state, out = t, None, {}
        for name, kind, choices in self.decisions:
            state = self.cell(inp, state)
            logits = self.heads[kind](state[0])
            if greedy:
                p = F.one_hot(logits.argmax(-1), len(choices)).to(logits.dtype)
            else:
                p = F.gumbel_softmax(logits, tau=tau, hard=True)
            out[name] = p
            inp = t + self.feedback[kind](p)
        return out


def row(policies: Policies, i: int = 0) -> Policies:
    """The policies of one batch row (one subnet)."""
    return {k: v[i] for k, v in policies.items()}


def configs(space: Any, policies: Policies) -> list[Config]:
    """The configs the one-hot policies pick, one per batch row."""
    index = {k: v.argmax(-1).tolist() for k, v in policies.items()}
    n = len(next(iter(index.values())))
    return [space.config_from_indices({k: v[i] for k, v in index.items()}) for i in range(n)]


def resource_loss(flops: Tensor, target: Tensor, scale: float) -> Tensor:
    """Eq. 10's ``L_RC = (sum_ij b_ij p_ij - C)^2``, in units of ``scale`` (e.g. the bin width)."""
    return (((flops - target) / scale) ** 2).mean()


def train_on_resource_loss(gen: ArchitectureGenerator, space: Any, bins: "FlopsBins", steps: int, *,
                           batch: int = 32, lr: float = 3e-3, seed: int = 0) -> list[float]:
    """Fit the generator to Eq. 10's resource term alone (every bin centre equally often in a batch).

    Used to start the generator before joint training and, on the paper-scale space (where no
    supernet is trained here), to time it in Fig. 9. Returns the loss per step.
    """
    torch.manual_seed(seed)
    opt = torch.optim.Adam(gen.parameters(), lr=lr)
    centers = torch.tensor(bins.centers)

    def targets():  # drawn from the global stream seeded above, before each step's Gumbel noise
        while True:
            yield centers[torch.randperm(batch) % len(centers)]

    res = engine.run(gen, opt, targets(),
                     lambda g, target: resource_loss(space.flops_from_policies(g(target)), target, bins.width),
                     engine.RunConfig(steps=steps, device="cpu", seed=None, ckpt_every=steps,
                                      desc="generator (resource loss)"))
    return res.losses


@torch.no_grad()
def hit_rate(gen: ArchitectureGenerator, space: Any, bins: "FlopsBins", per_bin: int, *,
             greedy: bool = False) -> list[float]:
    """Per bin, the fraction of generated subnets whose exact FLOPs fall in the target bin."""
    rates = []
    for k, c in enumerate(bins.centers):
        cfgs = configs(space, gen(torch.full((1 if greedy else per_bin,), c), greedy=greedy))
        rates.append(sum(bins.index(space.flops(cfg)) == k for cfg in cfgs) / len(cfgs))
    return rates


def rejection_sample(space: Any, lo: float, hi: float, rng: random.Random,
                     max_tries: int = 10 ** 6) -> tuple[Config | None, int]:
    """The baseline: uniform random subnets until one has ``lo <= FLOPs < hi``; (config, tries).

    ``None`` when ``max_tries`` draws all missed.
    """
    for tries in range(1, max_tries + 1):
        cfg = space.sample(rng)
        if lo <= space.flops(cfg) < hi:
            return cfg, tries
    return None, max_tries
