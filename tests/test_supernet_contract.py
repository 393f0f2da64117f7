"""The supernet contract (repro.supernets.base): sample_active_subnet draws from the space, and
export(config) is a standalone network whose output equals the supernet's with config active."""
from __future__ import annotations

import random

import pytest
import torch

from repro.spaces.autoformer import ViTSpace
from repro.spaces.bignas_cnn import CNNSpace
from repro.spaces.shiftaddnas_cv import CVSpaceDims, Stage
from repro.spaces.shiftaddnas_nlp import NlpSpaceDims
from repro.supernets.base import Supernet
from repro.supernets.cnn import CNNSupernet
from repro.supernets.vit import ViTSupernet
from repro.supernets.shiftaddnas_cv import CVSupernet
from repro.supernets.shiftaddnas_nlp import ShiftAddNASTransformer

CV_DIMS = CVSpaceDims(28, 1, 10, 2, tuple(Stage(r, 4, d) for r, d in zip((14, 7, 4, 2), ((1, 2),) * 3 + ((1, 2, 3),))),
                      heads=2)
NLP_DIMS = NlpSpaceDims(encoder_layers=3, decoder_layers=(1, 2), embed=(16, 8), heads=(4, 2), mlp=(24, 16))


def _cv():
    return CVSupernet(CV_DIMS, "heterogeneous"), (torch.randn(3, 1, 28, 28),)


def _nlp():
    g = torch.Generator().manual_seed(0)
    return (ShiftAddNASTransformer(NLP_DIMS, 40, "heterogeneous", dropout=0.0),
            (torch.randint(4, 40, (2, 7), generator=g), torch.randint(4, 40, (2, 5), generator=g)))


def _vit():
    space = ViTSpace("mini", (8, 12), (1, 2), (1.0, 2.0), (1, 2, 3), head_dim=4, img_size=8, patch_size=4,
                     in_chans=1, num_classes=3)
    net = ViTSupernet(space)
    with torch.no_grad():
        for p in net.parameters():  # LayerNorm and bias start at constants: randomise them so slicing errors show
            p.add_(torch.randn_like(p) * 0.1)
    return net, (torch.randn(2, 1, 8, 8),)


def _cnn():
    space = CNNSpace("mini", ((4, 6), (6, 8)), (1, 2), kernels=(3, 5), stem=4, img_size=8, in_chans=1, num_classes=3)
    net = CNNSupernet(space)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    return net, (torch.randn(2, 1, 8, 8),)


@pytest.mark.parametrize("build", [_cv, _nlp, _vit, _cnn],
                         ids=["shiftaddnas-cv", "shiftaddnas-nlp", "autoformer-vit", "bignas-cnn"])
def test_contract(build):
    torch.manual_seed(0)
    net, inputs = build()
    assert isinstance(net, Supernet)
    rng = random.Random(3)
    for _ in range(4):
        config = net.sample_active_subnet(rng)
        net.space.validate(config)
        net.eval()
        exported = net.export(config).eval()
        assert exported is not net and not any(p is q for p in exported.parameters() for q in net.parameters())
        with torch.no_grad():
            torch.testing.assert_close(exported(*inputs), net(*inputs), rtol=1e-4, atol=1e-4)
    assert torch.isfinite(net.regularization_loss())
    # the draws are the space's own: the same rng state gives the same config
    assert net.sample_active_subnet(random.Random(7)) == net.space.sample(random.Random(7))
