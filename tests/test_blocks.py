"""Attention and the multi-branch blocks against explicit formulas."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from repro.ops.adder import Adder2d, AdderLinear
from repro.ops.attention import Attention2d, MultiHeadSelfAttention
from repro.ops.blocks import BLOCK_TYPES, LocalBranch, MultiBranchBlock, make_block, time_windows
from repro.ops.shift import ShiftConv2d, ShiftLinear


def _naive_attention(x, attn: MultiHeadSelfAttention, causal=False):
    b, t, d = x.shape
    h = attn.heads
    q, k, v = F.linear(x, attn.qkv.weight, attn.qkv.bias).split(d, dim=-1)
    out = torch.zeros(b, t, d)
    dh = d // h
    for i in range(b):
        for j in range(h):
            sl = slice(j * dh, (j + 1) * dh)
            scores = q[i, :, sl] @ k[i, :, sl].T / math.sqrt(dh)
            if causal:
                scores = scores.masked_fill(torch.triu(torch.ones(t, t, dtype=torch.bool), 1), float("-inf"))
            out[i, :, sl] = scores.softmax(-1) @ v[i, :, sl]
    return attn.proj(out)


@pytest.mark.parametrize("causal", [False, True])
def test_attention_matches_per_head_loops(causal):
    torch.manual_seed(0)
    attn = MultiHeadSelfAttention(8, 2)
    x = torch.randn(2, 5, 8)
    assert torch.allclose(attn(x, is_causal=causal), _naive_attention(x, attn, causal), atol=1e-5)


def test_attention2d_uses_depthwise_position_conv():
    torch.manual_seed(1)
    layer = Attention2d(4, 2)
    x = torch.randn(2, 4, 3, 3)
    tokens = (x + F.conv2d(x, layer.position.weight, layer.position.bias, padding=1, groups=4))
    expected = _naive_attention(tokens.flatten(2).transpose(1, 2), layer.attn).transpose(1, 2).reshape(2, 4, 3, 3)
    assert torch.allclose(layer(x), expected, atol=1e-5)


def test_time_windows_hand_values():
    x = torch.arange(1.0, 4.0).view(1, 3, 1)  # tokens 1, 2, 3 with one channel
    assert time_windows(x, 3).view(3, 3).tolist() == [[0, 1, 2], [1, 2, 3], [2, 3, 0]]
    assert time_windows(x, 3, causal=True).view(3, 3).tolist() == [[0, 0, 1], [0, 1, 2], [1, 2, 3]]


def test_causal_local_branch_ignores_the_future():
    torch.manual_seed(2)
    branch = LocalBranch("add", 4, dims=1, causal=True).eval()
    x = torch.randn(1, 6, 4)
    y = x.clone()
    y[:, 4:] += 5.0
    assert torch.allclose(branch(x)[:, :4], branch(y)[:, :4])


@pytest.mark.parametrize("op,dims,cls", [("conv", 2, torch.nn.Conv2d), ("shift", 2, ShiftConv2d),
                                         ("add", 2, Adder2d), ("conv", 1, torch.nn.Linear),
                                         ("shift", 1, ShiftLinear), ("add", 1, AdderLinear)])
def test_local_branch_operator_and_norm(op, dims, cls):
    branch = LocalBranch(op, 4, dims=dims)
    assert isinstance(branch.layer, cls)
    assert isinstance(branch.norm, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d))


@pytest.mark.parametrize("dims", [1, 2])
def test_multi_branch_is_concat_of_branches(dims):
    torch.manual_seed(3)
    block = MultiBranchBlock("shift", 8, heads=2, dims=dims).eval()
    x = torch.randn(2, 5, 8) if dims == 1 else torch.randn(2, 8, 4, 4)
    axis = -1 if dims == 1 else 1
    a, b = x.split([4, 4], dim=axis)
    assert torch.allclose(block(x), torch.cat([block.attn(a), block.local(b)], dim=axis), atol=1e-6)


@pytest.mark.parametrize("block_type", BLOCK_TYPES)
@pytest.mark.parametrize("dims", [1, 2])
def test_every_block_type_keeps_shape(block_type, dims):
    torch.manual_seed(4)
    block = make_block(block_type, 8, heads=2, dims=dims)
    x = torch.randn(2, 6, 8) if dims == 1 else torch.randn(2, 8, 4, 4)
    y = block(x)
    assert y.shape == x.shape
    y.sum().backward()
    assert all(p.grad is not None for p in block.parameters() if p.requires_grad)


def test_bad_arguments():
    with pytest.raises(ValueError, match="valid choices: 'Attn'"):
        make_block("Attn+Pool", 8, 2)
    with pytest.raises(ValueError, match="divisible"):
        MultiHeadSelfAttention(6, 4)
    with pytest.raises(ValueError, match="dims"):
        LocalBranch("conv", 4, dims=3)
    with pytest.raises(ValueError, match="causal"):
        LocalBranch("conv", 4, dims=2, causal=True)
    with pytest.raises(ValueError, match="channels"):
        make_block("Attn+Add", 8, 2)(torch.randn(1, 6, 4, 4))
