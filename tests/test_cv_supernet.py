"""The ShiftAddNAS CV supernet: subnets equal standalone networks, sharing modes' sizes, MACs, KL terms."""
from __future__ import annotations

import random

import pytest
import torch

from repro.cost.counting import count, count_params
from repro.experiments.shiftaddnas_cv.run import one_thread
from repro.ops.weight_sharing import shared_parameter_count
from repro.spaces.shiftaddnas_cv import PAPER_FIG8, CVSpaceDims, ShiftAddNASCVSpace, Stage, dims_for
from repro.supernets.shiftaddnas_cv import CVNet, CVSupernet

TINY = dims_for("tiny")
# narrower than tiny, for the tests that run forward and backward passes
MINI = CVSpaceDims(28, 1, 10, 2, tuple(Stage(r, 4, d) for r, d in zip((14, 7, 4, 2), ((1, 2), (1, 2), (1, 2), (1, 2, 3)))),
                   heads=2)
# the same in the paper's block style: ResNet stem (stride 4: 56 -> 14), bottlenecks, 1x1 transitions
MINI_BOTTLENECK = CVSpaceDims(56, 1, 10, 4, tuple(Stage(r, 8, d) for r, d in zip((14, 7, 4, 2),
                                                                                  ((1, 2), (1, 2), (1, 2), (1, 2, 3)))),
                              heads=1, block="bottleneck", resnet_stem=True)


@pytest.fixture(autouse=True)
def _single_thread():
    """Tiny layers: one intra-op thread is faster on a shared machine (see repro.experiments.shiftaddnas_cv.run)."""
    with one_thread():
        yield


def _slots(dims):
    """(channels, max depth) of every stage."""
    return [(st.channels, max(st.depths)) for st in dims.stages]


@pytest.mark.parametrize("dims", [MINI, MINI_BOTTLENECK], ids=["basic", "bottleneck"])
@pytest.mark.parametrize("sharing", ["heterogeneous", "naive", "none"])
def test_active_subnet_equals_standalone_network_with_copied_weights(sharing, dims):
    torch.manual_seed(0)
    net = CVSupernet(dims, sharing)
    x = torch.randn(4, 1, dims.input_size, dims.input_size)
    # configs using every block type at every depth; train a step on each so BN stats and kernels move
    configs = [{"stages": [[0, 1], [2, 3], [3, 2], [1, 2, 0]]}, {"stages": [[2], [0], [1], [3]]}]
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    for cfg in configs:
        net.train().set_active_subnet(cfg)
        loss = net(x).logsumexp(1).mean() + net.regularization_loss()
        opt.zero_grad()
        loss.backward()
        opt.step()
    for cfg in configs:
        net.eval().set_active_subnet(cfg)
        standalone = net.export(cfg).eval()
        assert type(standalone) is CVNet
        torch.testing.assert_close(standalone(x), net(x), rtol=1e-5, atol=1e-5)


def test_sharing_modes_parameter_counts():
    counts = {m: count_params(CVSupernet(TINY, m)) for m in ("heterogeneous", "naive", "none")}
    # independent reference: per layer slot two 3x3 CxC layers, counted by the ops' own formula
    pools = {m: sum(d * 2 * shared_parameter_count(c, c, 3, m) for c, d in _slots(TINY)) for m in counts}
    pool_naive = sum(d * 2 * 9 * c * c for c, d in _slots(TINY))
    assert pools["naive"] == pool_naive and pools["none"] == 3 * pool_naive
    assert pools["heterogeneous"] == pool_naive + sum(d * 2 * 200 for _, d in _slots(TINY))
    rest = counts["naive"] - pools["naive"]  # attention, norms, stem, transitions, head: the same in every mode
    assert counts["none"] - pools["none"] == rest == counts["heterogeneous"] - pools["heterogeneous"]


def test_paper_scale_supernet_builds_on_meta_and_heterogeneous_sharing_shrinks_it():
    dims = dims_for("paper")
    with torch.device("meta"):
        none, hws = (count_params(CVSupernet(dims, m)) for m in ("none", "heterogeneous"))
    # per layer slot a bottleneck: 1x1 (c -> c/4), 3x3 (c/4 -> c/4), 1x1 (c/4 -> c), one pool each
    pool = sum(d * (c * c // 4 + 9 * (c // 4) ** 2 + c * c // 4) for c, d in _slots(dims))
    assert none - hws == 2 * pool - sum(d * 3 * 200 for _, d in _slots(dims))


def test_analytic_macs_equal_the_counted_macs_of_built_subnets():
    space = ShiftAddNASCVSpace(TINY)
    rng = random.Random(0)
    paper = ShiftAddNASCVSpace("paper")
    cases = [(space, {"stages": [[0, 0], [0], [0, 1], [2, 3, 0]]})] + [(space, space.sample(rng)) for _ in range(3)]
    retrained = ShiftAddNASCVSpace(paper.dims.retrained())
    bottleneck = ShiftAddNASCVSpace(MINI_BOTTLENECK)
    cases += [(bottleneck, bottleneck.sample(rng)) for _ in range(3)] + [(bottleneck, {"stages": [[0, 1]] * 4})]
    for sp, cfg in cases + [(paper, PAPER_FIG8), (retrained, PAPER_FIG8)]:
        with torch.device("meta"):  # on meta the attention matmuls are decomposed, so they are counted
            net = CVNet(sp.dims, cfg)
        assert sp.macs(cfg) == count(net, (1, sp.dims.in_channels, sp.dims.input_size, sp.dims.input_size)).macs


def test_the_paper_subnet_retrained_is_table4s_t0_within_15_percent():
    """Fig. 8's subnet at the released retraining's widths against Table 4's ShiftAddNAS-T0 row (published:
    30M parameters, 3.7G MACs at 224x224), counted by the ops' own formulas."""
    dims = dims_for("paper").retrained()
    assert [st.channels for st in dims.stages] == [256, 512, 1024, 2048]
    with torch.device("meta"):
        net = CVNet(dims, PAPER_FIG8)
        params, macs = count_params(net), count(net, (1, 3, 224, 224)).macs
    assert abs(params / 30e6 - 1) < 0.15, params
    assert abs(macs / 3.7e9 - 1) < 0.15, macs
    assert [dims.attn_heads(st.channels) for st in dims.stages] == [1, 2, 4, 8]  # the released ResAtt heads


def test_regularization_is_zero_without_heterogeneous_sharing_and_positive_with_it():
    cfg = {"stages": [[1], [2], [3], [1]]}
    for mode in ("naive", "none"):
        net = CVSupernet(MINI, mode)
        net.set_active_subnet(cfg)
        assert float(net.regularization_loss()) == 0.0
    net = CVSupernet(MINI, "heterogeneous")
    net.set_active_subnet(cfg)
    reg = net.regularization_loss()
    assert reg.requires_grad and reg.item() != 0.0
    net.set_active_subnet({"stages": [[0], [0], [0], [0]]})  # attention only: no pool is used
    assert float(net.regularization_loss()) == 0.0


def test_bad_inputs_name_the_valid_choices():
    with pytest.raises(ValueError, match="valid modes: heterogeneous, naive, none"):
        CVSupernet(TINY, "shared")
    with pytest.raises(ValueError, match="valid depths"):
        CVSupernet(TINY).set_active_subnet({"stages": [[1, 1, 1], [1], [1], [1]]})
