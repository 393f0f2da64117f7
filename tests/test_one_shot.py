"""One-shot training: the schedule, single-path sampling, the regulariser, resume after interruption."""
from __future__ import annotations

import math
import random

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from repro.cache import Checkpoint
from repro.spaces.base import Config, InvalidConfig, SearchSpace
from repro.train.one_shot import train_one_shot, train_steps, warmup_cosine




class WidthSpace(SearchSpace):
    """A one-decision space: the hidden width of an elastic two-layer MLP."""

    widths = (2, 4, 8)

    def sample(self, rng: random.Random) -> Config:
        return {"width": rng.choice(self.widths)}

    def mutate(self, config, prob, rng):
        return self.sample(rng) if rng.random() < prob else dict(config)

    def crossover(self, a, b, rng):
        return dict(rng.choice([a, b]))

    def encode(self, config):
        return [float(config["width"])]

    def validate(self, config):
        if config.get("width") not in self.widths:
            raise InvalidConfig(f"width must be one of {self.widths}")

    def size(self):
        return len(self.widths)


class ElasticMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(3, 8), nn.Linear(8, 1)
        self.width = 8
        self.seen: list[int] = []

    def set_active_subnet(self, config: Config) -> None:
        self.width = config["width"]
        self.seen.append(self.width)

    def forward(self, x):
        h = F.relu(F.linear(x, self.fc1.weight[: self.width], self.fc1.bias[: self.width]))
        return F.linear(h, self.fc2.weight[:, : self.width], self.fc2.bias)

    def regularization_loss(self):
        return 0.5 * self.fc1.weight.pow(2).sum()


def _batches():
    g = torch.Generator().manual_seed(1)
    while True:
        x = torch.randn(16, 3, generator=g)
        yield x, x.sum(1, keepdim=True)


def _loss(model, batch):
    x, y = batch
    return F.mse_loss(model(x), y)


def test_warmup_cosine_hand_values():
    assert warmup_cosine(0, 100, 10, 1e-3) == pytest.approx(1e-7)
    assert warmup_cosine(5, 100, 10, 1e-3) == pytest.approx(1e-7 + (1e-3 - 1e-7) / 2)
    assert warmup_cosine(10, 100, 10, 1e-3) == pytest.approx(1e-3)
    assert warmup_cosine(55, 100, 10, 1e-3) == pytest.approx(0.5e-3 * (1 + math.cos(math.pi / 2)))
    assert warmup_cosine(100, 100, 10, 1e-3) == pytest.approx(0.0, abs=1e-12)


def test_one_subnet_per_step_uniformly_and_regulariser_in_loss():
    torch.manual_seed(0)
    model, untrained = ElasticMLP(), ElasticMLP()
    untrained.load_state_dict(model.state_dict())
    res = train_one_shot(model, WidthSpace(), _batches, _loss, steps=60, lr=1e-2, warmup_steps=5)
    assert res.steps == 60 and len(res.losses) == 60 and len(model.seen) == 60
    assert set(model.seen) == set(WidthSpace.widths)
    untrained.set_active_subnet({"width": model.seen[0]})
    first_loss = _loss(untrained, next(_batches())).item() + untrained.regularization_loss().item()
    assert res.losses[0] == pytest.approx(first_loss, rel=1e-5)  # CE + KL-like term, before any update
    assert sum(res.losses[-10:]) / 10 < res.losses[0]


def test_resume_after_interruption_matches_uninterrupted(tmp_path):
    torch.manual_seed(0)
    reference = ElasticMLP()
    init = {k: v.clone() for k, v in reference.state_dict().items()}
    ref = train_one_shot(reference, WidthSpace(), _batches, _loss, steps=20, lr=1e-2, warmup_steps=3)

    calls = {"n": 0}

    def crashing_loss(model, batch):
        calls["n"] += 1
        if calls["n"] == 14:
            raise KeyboardInterrupt("simulated interruption")
        return _loss(model, batch)

    ckpt = Checkpoint(tmp_path / "run.ckpt")
    model = ElasticMLP()
    model.load_state_dict(init)
    with pytest.raises(KeyboardInterrupt):
        train_one_shot(model, WidthSpace(), _batches, crashing_loss, steps=20, lr=1e-2, warmup_steps=3,
                       ckpt=ckpt, ckpt_every=5)
    assert ckpt.load()["step"] == 10
    resumed_model = ElasticMLP()  # a fresh process: weights come only from the checkpoint
    res = train_one_shot(resumed_model, WidthSpace(), _batches, _loss, steps=20, lr=1e-2, warmup_steps=3,
                         ckpt=ckpt, ckpt_every=5)
    assert resumed_model.seen == reference.seen[10:]
    assert res.losses == pytest.approx(ref.losses, rel=1e-6)
    for k, v in reference.state_dict().items():
        torch.testing.assert_close(resumed_model.state_dict()[k], v)


def test_each_parameter_group_follows_its_own_peak():
    """A linear loss has a constant gradient, so each Adam step moves a parameter by its group's lr of that step."""
    a, b = nn.Parameter(torch.zeros(1)), nn.Parameter(torch.zeros(1))
    model = nn.Module()
    model.a, model.b = a, b
    steps, warmup, lr = 12, 3, 1e-2
    groups = [{"params": [a]}, {"params": [b], "lr": 10 * lr, "weight_decay": 0.0}]
    train_steps(model, [None] * steps, lambda m, _: m.a.sum() + m.b.sum(), steps=steps, lr=lr, warmup_steps=warmup,
                device="cpu", param_groups=groups)
    for p, peak in ((a, lr), (b, 10 * lr)):
        assert -p.item() == pytest.approx(sum(warmup_cosine(s, steps, warmup, peak) for s in range(steps)), rel=1e-4)


def test_groups_at_the_same_peak_train_as_one_group():
    runs = []
    for groups in (None, lambda m: [{"params": [m.fc1.weight, m.fc1.bias]}, {"params": list(m.fc2.parameters()),
                                                                            "lr": 1e-2}]):
        torch.manual_seed(0)
        model = ElasticMLP()
        res = train_one_shot(model, WidthSpace(), _batches, _loss, steps=15, lr=1e-2, warmup_steps=3,
                             param_groups=groups(model) if groups else None)
        runs.append((res.losses, model.state_dict()))
    assert runs[0][0] == runs[1][0]
    for k, v in runs[0][1].items():
        assert torch.equal(runs[1][1][k], v)
