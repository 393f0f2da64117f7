"""The ShiftAddNAS NLP supernet: subnets against standalone networks, sharing modes, local ops, counts."""
from __future__ import annotations

import random

import pytest
import torch
import torch.nn.functional as F

from repro.cost.counting import count
from repro.spaces.shiftaddnas_nlp import NlpSpaceDims, ShiftAddNASNLPSpace
from repro.supernets.shiftaddnas_nlp import (LocalMixer, ShiftAddNASTransformer, copy_subnet_weights,
                                             standalone)

DIMS = NlpSpaceDims(encoder_layers=3, decoder_layers=(1, 2, 3), embed=(16, 12, 8), heads=(4, 2), mlp=(24, 16))
VOCAB = 50
MODES = ("heterogeneous", "naive", "none")




def _tokens(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    src, tgt = torch.randint(4, VOCAB, (3, 9), generator=g), torch.randint(4, VOCAB, (3, 6), generator=g)
    src[0, 6:] = 0
    tgt[1, 4:] = 0
    return src, tgt


def _supernet(sharing: str) -> ShiftAddNASTransformer:
    torch.manual_seed(0)
    return ShiftAddNASTransformer(DIMS, VOCAB, sharing, dropout=0.0).eval()


@pytest.mark.parametrize("sharing", MODES)
def test_active_subnet_equals_standalone_network_with_copied_weights(sharing):
    space = ShiftAddNASNLPSpace(DIMS)
    net = _supernet(sharing)
    src, tgt = _tokens()
    rng = random.Random(0)
    configs = [space.sample(rng) for _ in range(6)] + [space.transformer()]
    for cfg in configs:
        net.set_active_subnet(cfg)
        sub = standalone(cfg, DIMS, VOCAB, dropout=0.0).eval()
        copy_subnet_weights(net, sub)
        torch.testing.assert_close(sub(src, tgt), net(src, tgt), rtol=1e-4, atol=1e-4)
        own = sum(p.numel() for n, p in sub.named_parameters() if not n.startswith("embed_tokens"))
        assert own == space.params(cfg)  # the standalone network holds exactly its config's weights


def test_sharing_modes_parameter_counts():
    """none keeps a Conv, a Shift and an Add weight per layer, naive one pool, heterogeneous one pool
    plus the d = 200 scales of the transformation kernel (Eq. 6)."""
    total = {m: sum(p.numel() for p in _supernet(m).parameters()) for m in MODES}
    k, enc_c, dec_c = DIMS.kernel, max(DIMS.embed), max(DIMS.embed) // 2  # decoder X branches are half wide
    per_op = DIMS.encoder_layers * (enc_c * enc_c * k + enc_c) + DIMS.max_decoder_layers * (dec_c * dec_c * k + dec_c)
    assert total["none"] - total["naive"] == 2 * per_op
    assert total["heterogeneous"] - total["naive"] == 200 * (DIMS.encoder_layers + DIMS.max_decoder_layers)


def test_regularization_loss_only_with_heterogeneous_sharing():
    assert _supernet("naive").regularization_loss().item() == 0.0
    assert _supernet("none").regularization_loss().item() == 0.0
    reg = _supernet("heterogeneous").regularization_loss()
    assert reg.item() > 0 and reg.requires_grad


def _reference_window(x: torch.Tensor, t: int, kernel: int, causal: bool) -> torch.Tensor:
    """The ``kernel`` input rows a token ``t`` sees, zeros outside the sequence (loop reference)."""
    left = kernel - 1 if causal else (kernel - 1) // 2
    rows = [x[:, s] if 0 <= s < x.shape[1] else torch.zeros_like(x[:, 0]) for s in range(t - left, t - left + kernel)]
    return torch.stack(rows, dim=-1)  # (B, C, kernel)


@pytest.mark.parametrize("causal", [False, True])
def test_local_ops_against_loop_references(causal):
    torch.manual_seed(1)
    mixer = LocalMixer(8, 3, ("Conv", "Shift", "Add"), "none", causal=causal)
    x = torch.randn(2, 5, 6)
    for op in ("Conv", "Shift", "Add"):
        w, b = mixer.pool.weights[op][:6, :6], mixer.pool.biases[op][:6]
        if op == "Shift":
            w = torch.sign(w) * 2.0 ** torch.log2(w.abs().clamp(2.0 ** -15, 1.0)).round().clamp(-14, 0)
        ref = []
        for t in range(5):
            win = _reference_window(x, t, 3, causal)  # (B, C_in, k)
            if op == "Add":
                ref.append(-(win[:, None] - w[None]).abs().sum((2, 3)) + b)
            else:
                ref.append((win[:, None] * w[None]).sum((2, 3)) + b)
        ref = F.layer_norm(torch.stack(ref, 1), (6,), mixer.norms[op].weight[:6], mixer.norms[op].bias[:6])
        torch.testing.assert_close(mixer(x, op, None), ref, rtol=1e-4, atol=1e-4)


def test_decoder_is_causal():
    space = ShiftAddNASNLPSpace(DIMS)
    net = _supernet("naive")
    src, tgt = _tokens(1)
    rng = random.Random(5)
    for _ in range(4):
        net.set_active_subnet(space.sample(rng))
        changed = tgt.clone()
        changed[:, 3] = (changed[:, 3] + 7) % VOCAB
        a, b = net(src, tgt), net(src, changed)
        torch.testing.assert_close(a[:, :3], b[:, :3])
        assert not torch.allclose(a[:, 3:], b[:, 3:])


def test_analytic_macs_match_the_cost_counter():
    space = ShiftAddNASNLPSpace(DIMS)
    net = _supernet("naive")
    src, tgt = torch.randint(4, VOCAB, (1, 30)), torch.randint(4, VOCAB, (1, 30))
    rng = random.Random(6)
    for _ in range(5):
        cfg = space.sample(rng)
        net.set_active_subnet(cfg)
        counted = count(net, (src, tgt), exclude=("embed_tokens", "output_projection"))
        by_op = counted.layers.groupby("op").macs.sum().to_dict()
        expected = space.macs(cfg)
        assert {op: by_op.get(op, 0) for op in expected} == expected
        assert counted.flops == space.flops(cfg)
