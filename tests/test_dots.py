"""The ShiftNAS search strategy (repro.search.dots) and the DARTS baseline against hand computations."""
from __future__ import annotations

import math

import pytest
import torch

from repro.ops.shift import ShiftConv2d
from repro.search import darts, dots
from repro.search.darts_space import PRIMITIVES, edges


def test_temperature_anneals_geometrically_from_t0_to_t_end():
    temps = [dots.temperature(s, 5, 10.0, 0.02) for s in range(5)]
    assert temps[0] == pytest.approx(10.0)
    assert temps[-1] == pytest.approx(0.02)
    ratios = [b / a for a, b in zip(temps, temps[1:])]
    assert ratios == pytest.approx([(0.02 / 10.0) ** 0.25] * 4)  # T(t) = T0 * theta^t
    assert dots.temperature(0, 1) == 10.0
    with pytest.raises(ValueError, match="step must lie"):
        dots.temperature(5, 5)


def test_edge_importance_matches_hand_computation():
    # node 3 has inputs 0, 1, 2 and pairs (0,1), (0,2), (1,2); softmax(beta / T) = (1, 2, 3) / 6
    beta = 2.0 * torch.log(torch.tensor([1.0, 2.0, 3.0]))
    gamma = dots.edge_importance(beta, 3, temp=2.0)
    # Eq. 13: gamma_i = sum over pairs containing i of beta_c / N(c), N(c) = 2
    expected = [(1 / 6 + 2 / 6) / 2, (1 / 6 + 3 / 6) / 2, (2 / 6 + 3 / 6) / 2]
    assert gamma.tolist() == pytest.approx(expected)
    assert float(gamma.sum()) == pytest.approx(1.0)
    assert dots.edge_importance(torch.zeros(1), 2, 1.0).tolist() == pytest.approx([0.5, 0.5])
    with pytest.raises(ValueError, match="input pairs"):
        dots.edge_importance(torch.zeros(2), 3, 1.0)


def test_low_temperature_concentrates_on_the_best_pair():
    beta = torch.tensor([0.0, 0.1, 0.3, 0.2, 0.0, 0.0])  # node 4: inputs 0..3; best pair (0, 3)
    gamma = dots.edge_importance(beta, 4, temp=0.001)
    assert gamma.tolist() == pytest.approx([0.5, 0.0, 0.0, 0.5], abs=1e-6)


def test_operation_search_uses_one_softmax_per_group_then_keeps_the_best_of_each():
    arch = dots.DotsArchitecture(seed=0)
    w = arch.op_weights("normal")
    assert w[:, dots.CONV_IDX].sum(1).tolist() == pytest.approx([1.0] * 14)
    assert w[:, dots.TOPO_IDX].sum(1).tolist() == pytest.approx([1.0] * 14)
    assert w[:, PRIMITIVES.index("none")].abs().sum() == 0
    with torch.no_grad():
        arch.alpha["normal"][0, PRIMITIVES.index("dil_conv_5x5")] = 3.0
        arch.alpha["normal"][0, PRIMITIVES.index("avg_pool_3x3")] = 2.0
    keep = arch.keep_best()
    assert keep["normal"][0] == [PRIMITIVES.index("dil_conv_5x5"), PRIMITIVES.index("avg_pool_3x3")]
    w = arch.op_weights("normal").detach()
    assert (w[0] > 0).sum() == 2 and float(w[0].sum()) == pytest.approx(1.0)
    e = math.exp(3.0) / (math.exp(3.0) + math.exp(2.0))  # one softmax over the two kept ops
    assert float(w[0, PRIMITIVES.index("dil_conv_5x5")]) == pytest.approx(e)


def test_genotype_derivation_on_fixed_weights():
    arch = dots.DotsArchitecture(seed=0)
    es = edges()
    sep3, skip, maxp, dil5 = (PRIMITIVES.index(o) for o in ("sep_conv_3x3", "skip_connect", "max_pool_3x3",
                                                             "dil_conv_5x5"))
    with torch.no_grad():
        for k in dots.KINDS:
            arch.alpha[k].zero_()
            arch.alpha[k][:, sep3] = 1.0   # best conv everywhere: sep_conv_3x3
            arch.alpha[k][:, maxp] = 0.5   # best topology op everywhere: max_pool_3x3
            for j in range(2, 6):
                arch.beta[f"{k}_{j}"].zero_()
        a = arch.alpha["normal"]
        a[es.index((1, 2)), skip] = 5.0   # edge (1,2): skip is the best of O_t and beats sep_conv_3x3
        a[es.index((2, 4)), dil5] = 2.0   # edge (2,4): dil_conv_5x5 is the best conv
        arch.beta["normal_3"][2] = 1.0    # node 3: pairs (0,1), (0,2), (1,2) -> (1, 2)
        arch.beta["normal_4"][1] = 1.0    # node 4: pairs (0,1), (0,2), ... -> (0, 2)
        arch.beta["normal_5"][3] = 1.0    # node 5: pairs (0,1), (0,2), (0,3), (0,4), ... -> (0, 4)
    arch.keep_best()
    g = arch.genotype()
    assert g.normal == (("sep_conv_3x3", 0), ("skip_connect", 1),   # node 2: the only pair (0, 1)
                        ("sep_conv_3x3", 1), ("sep_conv_3x3", 2),
                        ("sep_conv_3x3", 0), ("dil_conv_5x5", 2),
                        ("sep_conv_3x3", 0), ("sep_conv_3x3", 4))
    assert g.reduce == (("sep_conv_3x3", 0), ("sep_conv_3x3", 1)) * 4  # ties: the first pair


def test_darts_genotype_ranks_edges_by_their_best_op_other_than_none():
    arch = darts.DartsArchitecture(seed=0)
    es = edges()
    none, sep3, skip, maxp = (PRIMITIVES.index(o) for o in ("none", "sep_conv_3x3", "skip_connect", "max_pool_3x3"))
    with torch.no_grad():
        a = arch.alpha["normal"]
        a.zero_()
        a[:, skip] = 1.0
        a[es.index((0, 3)), none] = 10.0  # strongest entry of node 3, but "none" never counts
        a[es.index((1, 3)), sep3] = 4.0
        a[es.index((2, 3)), maxp] = 3.0
    g = arch.genotype()
    assert g.normal[2:4] == (("sep_conv_3x3", 1), ("max_pool_3x3", 2))
    assert g.count("skip_connect") == 6


def test_modified_l2_on_a_tiny_layer():
    layer = ShiftConv2d(1, 1, 2, mode="ps", weight_bits=5)
    with torch.no_grad():
        layer.shift.copy_(torch.tensor([-1.2, -3.0, -0.4, -2.4]).view(1, 1, 2, 2))
        layer.sign.copy_(torch.tensor([0.9, -0.7, 0.2, -1.0]).view(1, 1, 2, 2))
    # rounded: P = (-1, -3, 0, -2), S = (1, -1, 0, -1) -> W^2 = 1/4, 1/64, 0, 1/16
    lam = 0.1
    value = dots.modified_l2(layer, lam)
    assert value.item() == pytest.approx(lam / 2 * (1 / 4 + 1 / 64 + 0 + 1 / 16))
    value.backward()
    # Eq. 9: dW/dP = W ln 2, so d(lam/2 W^2)/dP = lam W^2 ln 2
    w2 = torch.tensor([1 / 4, 1 / 64, 0.0, 1 / 16])
    assert layer.shift.grad.flatten().tolist() == pytest.approx((lam * w2 * math.log(2)).tolist())


def test_l2r_moves_the_decay_of_p_and_s_into_eq15():
    layer = torch.nn.Sequential(ShiftConv2d(2, 2, 1, mode="ps"), torch.nn.BatchNorm2d(2))
    with_l2r = dots.weight_optimizer(layer, 0.01, 3e-4, l2r=True)
    decays = {id(p): g["weight_decay"] for g in with_l2r.param_groups for p in g["params"]}
    assert decays[id(layer[0].shift)] == decays[id(layer[0].sign)] == 0.0
    assert decays[id(layer[1].weight)] == 3e-4
    assert dots.regulariser(layer, 3e-4, l2r=True) is not None
    without = dots.weight_optimizer(layer, 0.01, 3e-4, l2r=False)
    assert {g["weight_decay"] for g in without.param_groups} == {3e-4}
    assert dots.regulariser(layer, 3e-4, l2r=False) is None


def test_learning_rate_resets_at_the_topology_search():
    cfg = dots.SearchConfig(op_epochs=3, topo_epochs=5, lr=0.01)
    steps = 4
    reset = dots.lr_curve(cfg, steps)
    plain = dots.lr_curve(dots.SearchConfig(op_epochs=3, topo_epochs=5, lr=0.01, lrr=False), steps)
    start = cfg.op_epochs * steps
    total = cfg.epochs * steps
    assert len(reset) == len(plain) == total
    assert reset[:start] == pytest.approx(plain[:start])  # identical operation search
    assert reset[start] == pytest.approx(0.01) and reset[start - 1] < 0.01
    assert plain[start] == pytest.approx(0.01 * 0.5 * (1 + math.cos(math.pi * start / total)))
    assert all(b <= a for a, b in zip(plain, plain[1:]))
    assert all(b <= a for a, b in zip(reset[start:], reset[start + 1:]))
    assert reset[-1] == pytest.approx(0.01 * 0.5 * (1 + math.cos(math.pi * (steps * 5 - 1) / (steps * 5))))


def test_restored_state_follows_the_new_configs_schedule():
    """The shared operation phase continues with or without the reset: the lr is re-derived on load."""
    from torch.utils.data import TensorDataset

    g = torch.Generator().manual_seed(0)
    ds = lambda n: TensorDataset(torch.randn(n, 1, 8, 8, generator=g), torch.randint(0, 10, (n,), generator=g))  # noqa: E731
    data = dots.SearchData(ds(8), ds(8), ds(8))
    cfg = dots.SearchConfig(c=2, layers=3, in_channels=1, op_epochs=1, topo_epochs=2, batch_size=8)
    state = dots.run_phases(cfg, data, dots.DotsArchitecture(0), until="operation search")
    for lrr, lr in ((True, 0.01), (False, 0.01 * 0.5 * (1 + math.cos(math.pi / 3)))):
        c = dots.SearchConfig(**{**cfg.__dict__, "lrr": lrr})
        arch = dots.DotsArchitecture(0)
        net, w_opt, a_opt, sched = dots.setup_search(c, data, arch)
        dots.restore_state(state, net, arch, w_opt, a_opt, sched)
        assert w_opt.param_groups[0]["lr"] == pytest.approx(lr)


def test_phases_are_what_the_search_runs():
    cfg = dots.SearchConfig(op_epochs=30, topo_epochs=40)
    ops, topo = dots.phases(cfg)
    assert (ops.name, ops.epochs, ops.optimisation) == ("operation search", 30, "bi-level")
    assert (topo.name, topo.epochs, topo.optimisation) == ("topology search", 40, "one-level")
    with pytest.raises(ValueError, match="domain"):
        dots.SearchConfig(domain="float")
