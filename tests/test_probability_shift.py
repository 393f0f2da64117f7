"""Probability shift: FLOPs bins, the straight-through Gumbel draw, Algorithm 2 on toy problems whose
answer is known, and Algorithm 1 end to end on a tiny supernet on the training engine (kill and
resume, --max-steps, the update and snapshot schedule by hand)."""
from __future__ import annotations

import json

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from repro.cache import Checkpoint
from repro.profiles import ConfigError
from repro.search.generator import ArchitectureGenerator
from repro.search.probability_shift import (FlopsBins, SamplingDistribution, TrainConfig, TrainResult,
                                           bin_gradient_score, total_variation, train_supernet,
                                           update_distribution)
from repro.spaces.autoformer import get_space
from repro.supernets.vit import ViTSupernet
from repro.train import engine
from repro.train.basic import loader


def test_bins_edges_centres_and_index():
    bins = FlopsBins(1.3, 2.0, 0.1)                    # the paper's ViT-T split
    assert bins.count == 7
    assert bins.centers[0] == pytest.approx(1.35) and bins.edges[-1] == pytest.approx(2.0)
    assert [bins.index(f) for f in (1.29, 1.3, 1.45, 1.99, 2.0)] == [-1, 0, 1, 6, -1]
    with pytest.raises(ValueError):
        FlopsBins(2.0, 1.0, 0.1)


def test_draw_is_one_hot_with_the_bin_centre_as_target_and_a_gradient_for_every_logit():
    dist = SamplingDistribution(FlopsBins(0.0, 4.0, 1.0))
    onehot, target = dist.sample()
    assert onehot.sum().item() == pytest.approx(1.0) and sorted(onehot.tolist())[-1] == pytest.approx(1.0)
    assert target.item() == pytest.approx(dist.bins.centers[int(onehot.argmax())])
    target.backward()
    assert (dist.logits.grad != 0).all()


def run_toy(improvement, direction: str = "paper", steps: int = 400) -> torch.Tensor:
    """Algorithm 2 when the loss at w_{t-1} is 0 and at w_t is -improvement(target)."""
    torch.manual_seed(0)
    dist = SamplingDistribution(FlopsBins(0.0, 5.0, 1.0))
    opt = torch.optim.Adam(dist.parameters(), lr=0.05, maximize=True)
    for _ in range(steps):
        update_distribution(dist, opt, lambda c: (0.0 * c, -improvement(c)), direction=direction)
    return dist.probs()


def test_paper_direction_moves_probability_to_the_bin_whose_loss_falls_least():
    # Eq. 5-8 ascend L(w_t) - L(w_{t-1}): where the loss fell least (the least trained bin) gains
    probs = run_toy(lambda c: c)                       # larger subnets improve more: the bottom bin wins
    assert probs.argmax() == 0 and probs[0] > 0.8
    probs = run_toy(lambda c: (c - 2.5) ** 2)          # the middle bin (centre 2.5) improves least
    assert probs.argmax() == 2 and probs[2] > 0.5


def test_reversed_direction_mirrors_it():
    probs = run_toy(lambda c: c, direction="reversed")
    assert probs.argmax() == 4 and probs[4] > 0.8


@pytest.mark.parametrize("direction, sign", [("paper", 1.0), ("reversed", -1.0)])
def test_one_update_by_hand(direction, sign):
    dist = SamplingDistribution(FlopsBins(0.0, 3.0, 1.0))
    start = torch.tensor([0.3, -0.2, 0.1])
    dist.logits.data = start.clone()
    opt = torch.optim.SGD(dist.parameters(), lr=0.5, maximize=True)
    torch.manual_seed(5)
    grad, decrease = update_distribution(dist, opt, lambda c: (3 * c, c), direction=direction)
    torch.manual_seed(5)                               # the same Gumbel draw, by hand
    g = -torch.log(-torch.log(torch.rand(3)))
    s = (start + g).softmax(0)
    centres = torch.tensor([0.5, 1.5, 2.5])
    # grad_B = grad_B [L(w_t) - L(w_{t-1})] = grad_B (c - 3c) = -2 s_k (centre_k - s . centres)
    expected = -2 * s * (centres - s @ centres)
    torch.testing.assert_close(grad, expected)
    assert decrease == pytest.approx(2 * centres[int(s.argmax())].item())
    # B <- B + eta grad_B (paper), B <- B - eta grad_B (reversed)
    torch.testing.assert_close(dist.logits.detach(), start + sign * 0.5 * expected)


def test_total_variation_from_uniform():
    assert total_variation([0.25] * 4) == pytest.approx(0.0)
    assert total_variation([1.0, 0.0, 0.0, 0.0]) == pytest.approx(0.75)


def test_config_rejects_unknown_modes():
    with pytest.raises(ConfigError, match="uniform"):
        TrainConfig(mode="greedy")
    with pytest.raises(ConfigError, match="reversed"):
        TrainConfig(direction="down")
    with pytest.raises(ConfigError, match="needs a generator"):
        train_supernet(None, None, None, [], [], TrainConfig(mode="shift"))


def test_algorithm_1_runs_shifts_the_distribution_and_resumes(tmp_path):
    space = get_space("T-fashion")
    lo, hi = space.flops(space.smallest()), space.flops(space.largest())
    bins = FlopsBins(lo + 0.2 * (hi - lo), lo + 0.8 * (hi - lo), 0.2 * (hi - lo))
    g = torch.Generator().manual_seed(0)
    data = TensorDataset(torch.randn(32, 1, 28, 28, generator=g), torch.randint(0, 10, (32,), generator=g))
    train, val = DataLoader(data, batch_size=16), DataLoader(data, batch_size=16)
    cfg = TrainConfig(mode="shift", epochs=2, warmup_epochs=0, update_every=1, snapshot_epochs=(1,))

    def run(config: TrainConfig, ckpt: Checkpoint | None = None):
        torch.manual_seed(0)
        net, gen = ViTSupernet(space), ArchitectureGenerator(space.decisions(), (bins.lo, bins.hi))
        return train_supernet(net, space, bins, train, val, config, gen, ckpt, device="cpu")
    full = run(cfg)
    assert len(full.losses) == 4 and 1 in full.snapshots
    assert len(full.probs) == 1 + 4 + 2 and full.probs[-1][1] != full.probs[0][1]
    ckpt = Checkpoint(tmp_path / "run.ckpt")
    run(TrainConfig(**{**cfg.__dict__, "epochs": 1}), ckpt)      # interrupted after one epoch
    resumed = run(cfg, ckpt)
    assert resumed.losses == pytest.approx(full.losses)
    assert resumed.probs[-1][1] == pytest.approx(full.probs[-1][1])


def test_no_distribution_update_during_warm_up():
    space = get_space("T-fashion")
    lo, hi = space.flops(space.smallest()), space.flops(space.largest())
    bins = FlopsBins(lo, hi, (hi - lo) / 3)
    g = torch.Generator().manual_seed(1)
    data = DataLoader(TensorDataset(torch.randn(16, 1, 28, 28, generator=g), torch.randint(0, 10, (16,), generator=g)),
                      batch_size=8)
    torch.manual_seed(0)
    net, gen = ViTSupernet(space), ArchitectureGenerator(space.decisions(), (bins.lo, bins.hi))
    out = train_supernet(net, space, bins, data, data, TrainConfig(epochs=1, warmup_epochs=1, update_every=1), gen,
                         device="cpu")
    assert all(p == pytest.approx([1 / 3] * 3) for _, p in out.probs)
    score, pol = bin_gradient_score(net, gen, bins, 2, {k: v.detach() for k, v in net.named_parameters()},
                                    *next(iter(data)))
    assert score == pytest.approx(0.0, abs=1e-6)       # w_{t-1} = w_t: the finite difference vanishes
    assert set(pol) == {name for name, _, _ in space.decisions()}


SPACE = get_space("T-fashion")
_LO, _HI = SPACE.flops(SPACE.smallest()), SPACE.flops(SPACE.largest())
BINS = FlopsBins(_LO, _HI, (_HI - _LO) / 3)
_G = torch.Generator().manual_seed(2)
DATA = TensorDataset(torch.randn(16, 1, 28, 28, generator=_G), torch.randint(0, 10, (16,), generator=_G))


class _Kill(engine.Hook):
    """Records the supernet weights after every step and raises KeyboardInterrupt after step ``at``."""

    def __init__(self, net: ViTSupernet, at: int | None = None):
        self.net, self.at, self.weights = net, at, {}

    def after_step(self, step, loss):
        self.weights[step + 1] = {k: v.detach().clone() for k, v in self.net.named_parameters()}
        if step == self.at:
            raise KeyboardInterrupt("killed")


def _train(cfg: TrainConfig, ckpt: Checkpoint | None = None, kill_at: int | None = None, **kw
           ) -> tuple[TrainResult, _Kill]:
    """A fresh run as a new process would start it: new modules, new seeded loaders (4 steps an epoch)."""
    torch.manual_seed(0)
    net = ViTSupernet(SPACE)
    gen = None if cfg.mode == "uniform" else ArchitectureGenerator(SPACE.decisions(), (BINS.lo, BINS.hi))
    kill = _Kill(net, kill_at)
    out = train_supernet(net, SPACE, BINS, loader(DATA, 4, shuffle=True, seed=0), loader(DATA, 4, shuffle=True),
                         cfg, gen, ckpt, device="cpu", hooks=[kill], **kw)
    return out, kill


def _assert_same(a: TrainResult, b: TrainResult) -> None:
    assert a.losses == b.losses and a.probs == b.probs
    for s, t in ((a.supernet_state, b.supernet_state), (a.generator_state or {}, b.generator_state or {})):
        assert s.keys() == t.keys() and all(torch.equal(s[k], t[k]) for k in s)
    assert a.snapshots.keys() == b.snapshots.keys()
    for e in a.snapshots:
        for s, t in zip(a.snapshots[e], b.snapshots[e]):
            assert all(torch.equal(s[k], t[k]) for k in s)


SHIFT = TrainConfig(mode="shift", epochs=2, warmup_epochs=0, update_every=2, distribution_lr=0.5,
                    snapshot_epochs=(1, 2))


def test_update_and_snapshot_schedule_by_hand():
    out, rec = _train(TrainConfig(**{**SHIFT.__dict__, "epochs": 3, "warmup_epochs": 1, "update_every": 3,
                                     "snapshot_epochs": (1, 2, 3)}))
    # 12 steps; q = 3 windows end after steps 3, 6, 9 and 12, all but the first after the 1-epoch
    # warm-up; B is recorded at the start, at those updates and at the three epoch ends
    assert [s for s, _ in out.probs] == [0, 4, 6, 8, 9, 12, 12] and len(out.losses) == 12
    assert out.probs[1][1] == out.probs[0][1] and out.probs[2][1] != out.probs[1][1]
    for epoch, (w_prev, w_curr) in {1: (3, 4), 2: (6, 8), 3: (9, 12)}.items():  # (w at the last window's start, w)
        snap = out.snapshots[epoch]
        assert all(torch.equal(snap[0][k], rec.weights[w_prev][k]) for k in snap[0])
        assert all(torch.equal(snap[1][k], rec.weights[w_curr][k]) for k in snap[1])


def test_kill_and_resume_equals_an_uninterrupted_run(tmp_path):
    whole, _ = _train(SHIFT)
    ckpt = Checkpoint(tmp_path / "run.ckpt")
    with pytest.raises(KeyboardInterrupt):
        _train(SHIFT, ckpt, kill_at=5, ckpt_every=3)     # last checkpoint after 3 steps (one B update): redo 4-6
    resumed, _ = _train(SHIFT, ckpt, ckpt_every=3)
    _assert_same(resumed, whole)                        # weights, generator, B history, snapshots, losses
    assert total_variation(resumed.probs[-1][1]) > 0


@pytest.mark.parametrize("mode", ["uniform", "shift"])
def test_stop_at_stops_and_a_rerun_continues_to_the_same_end(tmp_path, mode):
    cfg = TrainConfig(**{**SHIFT.__dict__, "mode": mode})
    whole, _ = _train(cfg)
    ckpt, log = Checkpoint(tmp_path / "run.ckpt"), tmp_path / "metrics.jsonl"
    stopped, _ = _train(cfg, ckpt, stop_at=5, metrics=log)
    assert stopped.losses == whole.losses[:5] and 2 not in stopped.snapshots
    rest, rec = _train(cfg, ckpt, metrics=log)
    assert sorted(rec.weights) == [6, 7, 8]             # only the remaining steps ran
    _assert_same(rest, whole)
    assert [json.loads(line)["step"] for line in log.read_text().splitlines()] == list(range(8))


@pytest.mark.parametrize("mode", ["generator", "shift"])
def test_distribution_moves_with_probability_shift_and_stays_uniform_without(mode):
    out, _ = _train(TrainConfig(**{**SHIFT.__dict__, "mode": mode, "update_every": 1}))
    if mode == "shift":                                 # 8 updates (q = 1, no warm-up) and 2 epoch ends
        assert len(out.probs) == 1 + 8 + 2 and total_variation(out.probs[-1][1]) > 0.01
    else:                                               # B frozen uniform: recorded at start and epoch ends only
        assert len(out.probs) == 1 + 2 and all(p == pytest.approx([1 / 3] * 3, abs=1e-7) for _, p in out.probs)


def test_exact_bin_probabilities_of_uniform_sampling_match_monte_carlo():
    import random

    import numpy as np

    from repro.experiments.probability_shift.run import fig9_bins, uniform_bin_probabilities

    space = get_space("T-fashion")
    bins = fig9_bins(space, (space.flops(space.largest()) - space.flops(space.smallest())) / 5)
    exact = uniform_bin_probabilities(space, bins)
    rng = random.Random(0)
    draws = np.array([bins.index(space.flops(space.sample(rng))) for _ in range(20000)])
    assert (draws >= 0).all() and exact.sum() == pytest.approx(1.0)   # the bins reach both tails
    np.testing.assert_allclose(exact, np.bincount(draws, minlength=bins.count) / 20000, atol=0.015)


def test_seed_stratified_correlation_decides_a_clear_ranking_and_not_noise():
    import numpy as np

    from repro.experiments.probability_shift.claims import seed_stratified_correlation

    rng = np.random.default_rng(0)
    x = [rng.normal(size=10) for _ in range(3)]
    clear = seed_stratified_correlation([(a, a + 0.1 * rng.normal(size=10) + 5 * s) for s, a in enumerate(x)],
                                        resamples=300)
    assert clear.verdict == "holds" and clear.effect > 0.7 and clear.n == 30
    noise = seed_stratified_correlation([(a, rng.normal(size=10)) for a in x], resamples=300)
    assert noise.ci[0] < 0.0 < noise.ci[1] and noise.verdict == "inconclusive"


def test_accumulation_takes_several_batches_per_step_and_keeps_the_epoch_schedule():
    """4 batches an epoch, 2 accumulated per step: 2 steps an epoch, B recorded at the epoch ends."""
    out, rec = _train(TrainConfig(**{**SHIFT.__dict__, "update_every": 1}), accumulate=2)
    assert len(out.losses) == 4 and sorted(rec.weights) == [1, 2, 3, 4]
    assert [s for s, _ in out.probs] == [0, 1, 2, 2, 3, 4, 4]   # start, every update (q = 1), epoch ends
    with pytest.raises(ConfigError, match="shorter than one step"):
        _train(SHIFT, accumulate=5)


def test_cnn_panel_of_fig4_runs_at_smoke_size_and_its_outcome_has_evidence(tmp_path, monkeypatch):
    """Fig. 4's CNN panel: the three arms of every seed on the CNN supernet, per-bin curves of valid CNN
    subnets, and ps-fig4's evidence with the CNN panel's own gate beside the ViT one."""
    from dataclasses import replace

    from repro import evidence
    from repro.experiments.probability_shift import claims, run
    from repro.profiles import get_profile

    monkeypatch.setenv("REPRO_CACHE", str(tmp_path))
    cfg = replace(get_profile("smoke").probshift, train_subset=128, val_subset=64, test_subset=64,
                  generator_warm_steps=5)
    panel = run.cnn_panel(cfg, [0, 1])
    assert [p.seed for p in panel] == [0, 1] and all(set(p.runs) == set(run.FIG4_ARMS) for p in panel)
    space = run.space_of(cfg, "cnn")
    assert isinstance(run.load(cfg, panel[0].runs["shift"], family="cnn")[0], run.cnn.CNNSupernet)
    for df in panel[0].curves.values():
        assert list(df["bin"]) == list(range(run.bins_for(space, cfg.bin_width).count))
        for config in df["config"]:
            space.validate(config)
    out = claims.fig4(cfg, panel, panel)          # the CNN panel stands in for the ViT one (same contract)
    assert out.evidence.verdict in evidence.OUTCOMES and len(out.evidence.gates) == 2
    assert [g.name.split(" (")[0] for g in out.evidence.gates] == ["min highest-bin subnet",
                                                                   f"min highest-bin {cfg.cnn_space} subnet"]
    assert f"CNN ({cfg.cnn_space})" in out.evidence.reason and len(out.numbers["cnn_shift"]) == 2
    assert run.cnn_panel(cfg, [0])[0].curves["shift"].equals(panel[0].curves["shift"])  # cached


def _panel(shift: list[float], generator: list[float], top: float = 90.0):
    """Per-seed Fig. 4 curves: two bins, the highest at ``top`` percent in every arm."""
    import pandas as pd

    from repro.experiments.probability_shift.run import PanelRuns

    curve = lambda a: pd.DataFrame({"acc": [a, top]})  # noqa: E731
    return [PanelRuns(i, {}, {"shift": curve(s), "generator": curve(g), "uniform": curve(g)})
            for i, (s, g) in enumerate(zip(shift, generator))]


def test_fig4_holds_only_if_both_panels_hold_and_names_a_failed_cnn_gate():
    from repro import evidence
    from repro.experiments.probability_shift.claims import fig4
    from repro.profiles import ProbShiftConfig

    cfg, gain, loss = ProbShiftConfig(), _panel([80, 81, 82], [70, 71, 71.5]), _panel([70, 71, 71.5], [80, 81, 82])
    assert fig4(cfg, gain, gain).evidence.verdict == evidence.HOLDS
    assert fig4(cfg, gain, loss).evidence.verdict == evidence.DOES_NOT_HOLD
    untrained = fig4(cfg, gain, _panel([80, 81, 82], [70, 71, 71.5], top=60.0)).evidence
    assert untrained.verdict == evidence.NOT_TESTABLE
    assert f"CNN ({cfg.cnn_space}): {evidence.NOT_TESTABLE}" in untrained.reason
    assert untrained.reason.split("; gate failed: ")[1].startswith(f"min highest-bin {cfg.cnn_space} subnet")
    assert [g.passed for g in untrained.gates] == [True, False]


def test_fig4_figure_has_a_vit_and_a_cnn_panel():
    import pandas as pd

    from repro.experiments.probability_shift.figures import plot_tradeoff_panels

    df = pd.DataFrame({"flops_g": [1.35, 1.45], "flops_m": [2.1, 2.9], "acc": [60.0, 62.0]})
    fig = plot_tradeoff_panels([({"shift": df}, "ViT", "flops_g"), ({"shift": df}, "CNN", "flops_m")])
    assert len(fig.axes) == 2 and [a.get_xlabel() for a in fig.axes][1].startswith("subnet FLOPs (M")
