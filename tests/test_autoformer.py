"""AutoFormer ViT spaces: FLOPs / params against hand computations and known models, and the
weight-entangled supernet's sliced forward against its mask-based forward."""
from __future__ import annotations

import itertools
import random

import pytest
import torch
import torch.nn.functional as F

from repro.spaces.autoformer import PAPER_SPACES, ViTSpace, get_space
from repro.spaces.base import InvalidConfig
from repro.supernets.vit import ViTSupernet



SPACE = get_space("T-fashion")  # embed (48, 54, 60), depth (3, 4, 5), ratio (3.5, 4), heads (3, 4), head 16


def one_hot_policies(space: ViTSpace, config: dict) -> dict[str, torch.Tensor]:
    index = {"embed_dim": space.embed_dims.index(config["embed_dim"]), "depth": space.depths.index(config["depth"])}
    for i in range(space.max_depth):
        index[f"num_heads.{i}"] = space.num_heads.index(config["num_heads"][i]) if i < config["depth"] else 0
        index[f"mlp_ratio.{i}"] = space.mlp_ratios.index(config["mlp_ratio"][i]) if i < config["depth"] else 0
    return {name: F.one_hot(torch.tensor(index[name]), len(ch)).double() for name, _, ch in space.decisions()}


def test_flops_of_a_subnet_match_a_hand_computation():
    cfg = {"embed_dim": 48, "depth": 3, "num_heads": [3, 4, 3], "mlp_ratio": [3.5, 4.0, 4.0]}
    n = 17                                    # 4 x 4 patches of 7 x 7 + the class token
    patch = 16 * 49 * 48                      # 37,632
    head = 48 * 10                            # 480
    # layer: qkv N*e*3q + attention 2*N*N*q + projection N*q*e + MLP 2*N*e*hidden
    layer1 = n * 48 * 3 * 48 + 2 * n * n * 48 + n * 48 * 48 + 2 * n * 48 * 168   # 3 heads, hidden int(3.5*48)
    layer2 = n * 48 * 3 * 64 + 2 * n * n * 64 + n * 64 * 48 + 2 * n * 48 * 192   # 4 heads, hidden 192
    layer3 = n * 48 * 3 * 48 + 2 * n * n * 48 + n * 48 * 48 + 2 * n * 48 * 192
    assert patch + head + layer1 + layer2 + layer3 == 1_553_696
    assert SPACE.flops(cfg) == 1_553_696


def test_deit_tiny_matches_its_published_params_and_flops():
    deit = ViTSpace("DeiT-tiny", (192,), (12,), (4.0,), (3,))
    assert deit.params(deit.largest()) == 5_717_416          # timm's deit_tiny_patch16_224
    assert deit.flops(deit.largest()) / 1e9 == pytest.approx(1.2537, abs=1e-4)  # paper Table 1: 1.2 G


def test_params_match_the_supernet_parameter_count():
    net = ViTSupernet(SPACE)
    assert SPACE.params(SPACE.largest()) == sum(p.numel() for p in net.parameters())


def test_flops_match_the_cost_model_counter_on_the_built_subnet():
    counting = pytest.importorskip("repro.cost.counting")
    net = ViTSupernet(SPACE)
    for seed in range(2):
        cfg = SPACE.sample(random.Random(seed))
        net.set_active_subnet(cfg)
        assert counting.count(net, torch.zeros(1, 1, 28, 28)).macs == SPACE.flops(cfg)


def test_policy_flops_on_one_hot_policies_equal_exact_flops():
    rng = random.Random(0)
    for _ in range(5):
        cfg = SPACE.sample(rng)
        assert SPACE.flops_from_policies(one_hot_policies(SPACE, cfg)).item() == pytest.approx(SPACE.flops(cfg))


def test_size_counts_every_config():
    tiny = ViTSpace("tiny", (8, 16), (1, 2), (1.0, 2.0), (1, 2), head_dim=4, img_size=8, patch_size=4,
                    in_chans=1, num_classes=2)
    configs = set()
    for e, d in itertools.product(tiny.embed_dims, tiny.depths):
        for layers in itertools.product(itertools.product(tiny.num_heads, tiny.mlp_ratios), repeat=d):
            configs.add((e, d, layers))
    assert tiny.size() == len(configs) == 2 * (4 + 16)


def test_sample_mutate_crossover_stay_valid_and_bad_configs_name_the_choices():
    rng = random.Random(1)
    a, b = SPACE.sample(rng), SPACE.sample(rng)
    for cfg in (SPACE.mutate(a, 0.5, rng), SPACE.crossover(a, b, rng)):
        SPACE.validate(cfg)
    assert len(SPACE.encode(a)) == 2 + 2 * SPACE.max_depth
    with pytest.raises(InvalidConfig, match=r"\(48, 54, 60\)"):
        SPACE.validate({**a, "embed_dim": 50})
    with pytest.raises(KeyError, match="T-fashion"):
        get_space("X")


def test_paper_spaces_cover_the_reported_flops_ranges():
    t = PAPER_SPACES["T"]
    assert t.flops(t.smallest()) < 1.3e9 and t.flops(t.largest()) > 2.0e9   # the paper's 1.3-2.0 G bins


def test_masked_forward_with_one_hot_policies_equals_the_sliced_subnet():
    torch.manual_seed(0)
    net = ViTSupernet(SPACE).double()
    x = torch.randn(2, 1, 28, 28, dtype=torch.double)
    rng = random.Random(2)
    for _ in range(2):
        cfg = SPACE.sample(rng)
        net.set_active_subnet(cfg)
        torch.testing.assert_close(net(x, net.masks(one_hot_policies(SPACE, cfg))), net(x))
