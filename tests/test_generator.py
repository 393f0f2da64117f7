"""The architecture generator: Eq. 9's prefix masks, Eq. 10's resource-loss gradient, its hit rate on
the scaled ViT space, and the rejection-sampling baseline."""
from __future__ import annotations

import random

import pytest
import torch

from repro.search.generator import (ArchitectureGenerator, configs, hit_rate, rejection_sample,
                                    resource_loss, train_on_resource_loss)
from repro.search.probability_shift import FlopsBins
from repro.spaces.autoformer import get_space
from repro.spaces.bignas_cnn import get_space as cnn_space
from repro.spaces.masks import depth_masks, prefix_masks
from repro.supernets.cnn import CNNSupernet, kernel_masks
from repro.supernets.vit import ViTSupernet



SPACE = get_space("T-fashion")
LO, HI = SPACE.flops(SPACE.smallest()), SPACE.flops(SPACE.largest())


def test_prefix_masks_are_the_papers_example():
    m = prefix_masks([1, 2, 3], 3)
    assert m.tolist() == [[1, 0, 0], [1, 1, 0], [1, 1, 1]]            # Sec. 3.3, heads in (1, 2, 3)
    assert (torch.tensor([0.0, 1.0, 0.0]) @ m).tolist() == [1, 1, 0]  # p' = M p: the 2-head mask
    assert (torch.tensor([0.5, 0.0, 0.5]) @ m).tolist() == [1, 0.5, 0.5]
    with pytest.raises(ValueError, match="0..3"):
        prefix_masks([4], 3)


def test_depth_masks_gate_the_first_layers():
    assert depth_masks([2, 3]).tolist() == [[1, 1, 0], [1, 1, 1]]


def test_supernet_masks_map_one_hot_policies_to_prefixes():
    net = ViTSupernet(SPACE)
    pol = {name: torch.eye(len(ch))[-1] for name, _, ch in SPACE.decisions()}   # the largest choice everywhere
    pol["embed_dim"] = torch.tensor([0.0, 1.0, 0.0])                             # embed 54
    pol["depth"] = torch.tensor([1.0, 0.0, 0.0])                                 # depth 3
    m = net.masks(pol)
    assert m["embed"].sum() == 54 and m["embed"][:54].all()
    assert m["depth"].tolist() == [1, 1, 1, 0, 0]
    assert m["heads.0"].tolist() == [1, 1, 1, 1]
    assert m["hidden.0"].sum() == int(4.0 * 54) and m["hidden.0"][:216].all()


def test_resource_loss_gradient_matches_finite_differences():
    torch.manual_seed(0)
    pol = {name: torch.rand(len(ch), dtype=torch.double).softmax(0).requires_grad_()
           for name, _, ch in SPACE.decisions()}
    target, scale = torch.tensor(0.5 * (LO + HI), dtype=torch.double), 1e5
    loss = resource_loss(SPACE.flops_from_policies(pol), target, scale)
    grads = torch.autograd.grad(loss, list(pol.values()))
    eps = 1e-6
    for (name, p), g in zip(pol.items(), grads):
        for j in range(len(p)):
            def at(delta: float) -> float:
                moved = {k: (v.detach() + delta * torch.eye(len(v), dtype=v.dtype)[j] if k == name else v.detach())
                         for k, v in pol.items()}
                return resource_loss(SPACE.flops_from_policies(moved), target, scale).item()
            assert g[j].item() == pytest.approx((at(eps) - at(-eps)) / (2 * eps), rel=1e-4, abs=1e-6)
    # below the target, moving probability to a wider embedding lowers the loss
    small = {k: torch.eye(len(v), dtype=torch.double)[0].requires_grad_() for k, v in pol.items()}
    g_embed = torch.autograd.grad(resource_loss(SPACE.flops_from_policies(small), target, scale), small["embed_dim"])[0]
    assert g_embed[2] < g_embed[0]


def test_trained_generator_hits_its_target_bin_at_least_90_percent():
    bins = FlopsBins(LO + 0.15 * (HI - LO), LO + 0.75 * (HI - LO), 0.1 * (HI - LO))
    torch.manual_seed(0)
    gen = ArchitectureGenerator(SPACE.decisions(), (bins.lo, bins.hi))
    train_on_resource_loss(gen, SPACE, bins, 150, batch=12, lr=5e-3)
    rates = hit_rate(gen, SPACE, bins, per_bin=20)
    assert sum(rates) / len(rates) >= 0.9, rates
    greedy = configs(SPACE, gen(torch.tensor(bins.centers), greedy=True))
    assert sum(bins.index(SPACE.flops(c)) == k for k, c in enumerate(greedy)) >= 0.9 * bins.count


def test_generator_policies_are_one_hot_and_differentiable_in_the_target():
    gen = ArchitectureGenerator(SPACE.decisions(), (LO, HI))
    target = torch.tensor([0.5 * (LO + HI)], requires_grad=True)
    pol = gen(target)
    assert all(torch.equal(p.sum(-1), torch.ones(1)) and set(p.flatten().tolist()) <= {0.0, 1.0} for p in pol.values())
    SPACE.flops_from_policies({k: v[0] for k, v in pol.items()}).backward()
    assert target.grad is not None


def test_rejection_sampling_returns_a_subnet_inside_the_bin():
    lo, hi = LO + 0.4 * (HI - LO), LO + 0.5 * (HI - LO)
    cfg, tries = rejection_sample(SPACE, lo, hi, random.Random(0))
    assert lo <= SPACE.flops(cfg) < hi and tries >= 1
    assert rejection_sample(SPACE, HI + 1, HI + 2, random.Random(0), max_tries=50) == (None, 50)


# The same machinery on the BigNAS-style CNN space: exact FLOPs, policies, and Eq. 9's masks.
CNN = cnn_space("cnn-fashion")   # stem 8; widths (4,6,8) (8,12,16) (16,24,32); depth (1,2,3); kernel (3,5)


def cnn_policies(config: dict) -> dict[str, torch.Tensor]:
    index = {}
    for s in range(CNN.stages):
        index[f"width.{s}"] = CNN.widths[s].index(config["width"][s])
        index[f"depth.{s}"] = CNN.depths.index(config["depth"][s])
        for b in range(CNN.max_depth):
            index[f"kernel.{s}.{b}"] = CNN.kernels.index(config["kernel"][s][b]) if b < config["depth"][s] else 0
    return {n: torch.nn.functional.one_hot(torch.tensor(index[n]), len(ch)).double() for n, _, ch in CNN.decisions()}


def test_cnn_flops_match_a_hand_computation_and_the_cost_model():
    cfg = {"width": [4, 12, 16], "depth": [1, 2, 1], "kernel": [[3], [5, 3], [5]]}
    hand = (28 * 28 * 9 * 1 * 8            # stem
            + 28 * 28 * 9 * 8 * 4          # stage 0, 3x3, 8 -> 4
            + 14 * 14 * 25 * 4 * 12        # stage 1 block 0, 5x5, stride 2
            + 14 * 14 * 9 * 12 * 12        # stage 1 block 1, 3x3 residual
            + 7 * 7 * 25 * 12 * 16         # stage 2, 5x5, stride 2
            + 16 * 10)                     # classifier
    assert CNN.flops(cfg) == hand
    assert CNN.flops_from_policies(cnn_policies(cfg)).item() == pytest.approx(hand)
    counting = pytest.importorskip("repro.cost.counting")
    net = CNNSupernet(CNN)
    net.set_active_subnet(cfg)
    assert counting.count(net, torch.zeros(1, 1, 28, 28)).macs == hand
    assert CNN.params(CNN.largest()) == sum(p.numel() for p in net.parameters())


def test_cnn_masked_forward_with_one_hot_policies_equals_the_sliced_subnet():
    torch.manual_seed(0)
    net = CNNSupernet(CNN).double()
    x = torch.randn(4, 1, 28, 28, dtype=torch.double)
    for seed in range(2):
        cfg = CNN.sample(random.Random(seed))
        net.set_active_subnet(cfg)
        torch.testing.assert_close(net(x, net.masks(cnn_policies(cfg))), net(x))
    assert kernel_masks((3, 5))[0].sum() == 9 and kernel_masks((3, 5))[0, 0].sum() == 0


def test_cnn_generator_emits_valid_configs():
    gen = ArchitectureGenerator(CNN.decisions(), (CNN.flops(CNN.smallest()), CNN.flops(CNN.largest())))
    for cfg in configs(CNN, gen(torch.full((3,), 2e6))):
        CNN.validate(cfg)
