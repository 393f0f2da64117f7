"""The shift-oriented DARTS space (repro.spaces.darts) and its networks (repro.supernets.darts)."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from repro.ops.shift import ShiftConv2d
from repro.spaces import darts as space
from repro.supernets import darts as nets


@pytest.mark.parametrize("domain", space.DOMAINS)
def test_every_operation_keeps_or_halves_the_shape(domain):
    x = torch.randn(2, 4, 8, 8)
    for name in space.PRIMITIVES:
        assert nets.operation(name, 4, 1, domain)(x).shape == (2, 4, 8, 8), name
        assert nets.operation(name, 4, 2, domain)(x).shape == (2, 4, 4, 4), name


def test_the_domain_switches_every_convolution():
    net = nets.NetworkCIFAR(c=4, num_classes=10, layers=3, in_channels=1, domain="shift")
    kinds = {type(m) for m in net.modules()}
    assert ShiftConv2d in kinds and nn.Conv2d not in kinds and nn.Linear not in kinds
    assert all(m.mode == "ps" and m.weight_bits == 5 for m in net.modules() if isinstance(m, ShiftConv2d))
    real = nets.NetworkCIFAR(c=4, num_classes=10, layers=3, in_channels=1, domain="real")
    assert ShiftConv2d not in {type(m) for m in real.modules()}
    with pytest.raises(ValueError, match="valid domains: shift, real"):
        nets.SearchNetwork(domain="float")
    with pytest.raises(ValueError, match="valid operations"):
        nets.operation("conv_7x7", 4, 1, "real")


def test_cell_graph():
    assert len(space.edges()) == 14
    assert space.edges()[:5] == [(0, 2), (1, 2), (0, 3), (1, 3), (2, 3)]
    assert space.node_pairs(2) == [(0, 1)]
    assert len(space.node_pairs(5)) == 10  # C(5, 2)


def test_paper_genotypes_are_tables_5_and_6():
    c10, c100 = space.PAPER_GENOTYPES["cifar10"], space.PAPER_GENOTYPES["cifar100"]
    assert c10.normal[6:] == (("sep_conv_3x3", 0), ("dil_conv_5x5", 4))
    assert c10.count("skip_connect") == 2 and c10.count("skip_connect", "reduce") == 3
    assert c100.normal[:2] == (("sep_conv_3x3", 0), ("skip_connect", 1))
    assert c100.reduce[4:6] == (("max_pool_3x3", 0), ("dil_conv_5x5", 3))
    rows = c10.rows()
    assert rows[3] == {"cell": "normal", "node": 4, "genotype": "('sep_conv_3x3', 0), ('dil_conv_5x5', 4)"}


def test_genotype_rejects_bad_cells():
    ok = (("skip_connect", 0), ("skip_connect", 1)) * 4
    with pytest.raises(ValueError, match="valid"):
        space.Genotype(normal=(("conv_7x7", 0),) + ok[1:], reduce=ok)
    with pytest.raises(ValueError, match="not in 0..1"):
        space.Genotype(normal=(("skip_connect", 2),) + ok[1:], reduce=ok)
    with pytest.raises(ValueError, match="needs 8"):
        space.Genotype(normal=ok[:6], reduce=ok)


def test_search_network_mixes_only_the_kept_operations():
    torch.manual_seed(0)
    net = nets.SearchNetwork(c=2, num_classes=3, layers=3, in_channels=1, domain="real").eval()
    x = torch.randn(2, 1, 8, 8)
    w = torch.zeros(14, 8)
    w[:, space.PRIMITIVES.index("skip_connect")] = 1.0
    w[:, space.PRIMITIVES.index("sep_conv_3x3")] = 1.0
    weights = {"normal": (w, None), "reduce": (w, None)}
    full = net(x, weights)
    net.restrict({k: [[3, 4]] * 14 for k in ("normal", "reduce")})  # skip_connect, sep_conv_3x3
    assert torch.allclose(net(x, weights), full, atol=1e-6)
    assert full.shape == (2, 3)


def test_evaluation_networks_run():
    g = space.PAPER_GENOTYPES["cifar100"]
    net = nets.NetworkCIFAR(c=4, num_classes=10, layers=5, genotype=g, in_channels=1, domain="shift")
    net.drop_path_prob = 0.2
    assert net(torch.randn(2, 1, 16, 16)).shape == (2, 10)
    imagenet = nets.NetworkImageNet(c=8, num_classes=5, layers=3, domain="real").eval()
    assert imagenet(torch.randn(1, 3, 64, 64)).shape == (1, 5)


def test_fixed_point_rounds_the_inputs_of_shift_convolutions():
    net = nn.Sequential(nets.conv(1, 1, 1, domain="shift"))
    with torch.no_grad():
        net[0].shift.fill_(0.0)  # weight 2^0 * (+1) = 1
        net[0].sign.fill_(1.0)
    x = torch.tensor([2.0 ** -18, 3 * 2.0 ** -18]).view(1, 1, 1, 2)
    assert net(x).flatten().tolist() == pytest.approx([2.0 ** -18, 3 * 2.0 ** -18])
    nets.use_fixed_point(net, (16, 16))
    assert net(x).flatten().tolist() == [0.0, 2.0 ** -16]  # rounded to the 2^-16 grid
    with pytest.raises(ValueError, match="fixed_point"):
        nets.use_fixed_point(net, (16,))


def test_search_cells_batch_normalise_after_pooling():
    mixed = nets.MixedOp(4, 1, "shift")
    for name, op in zip(space.PRIMITIVES, mixed.ops):
        if "pool" in name:
            assert isinstance(op[-1], nn.BatchNorm2d) and not op[-1].affine  # DARTS / DOTS search cells
    ev = nets.operation("max_pool_3x3", 4, 1, "shift")
    assert isinstance(ev, nn.MaxPool2d)  # evaluation cells: the plain pooling
