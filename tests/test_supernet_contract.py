"""The supernet contract (repro.supernets.base): sample_active_subnet draws from the space, and
export(config) is a standalone network whose output equals the supernet's with config active."""
from __future__ import annotations

import random

import pytest
import torch

from repro.spaces.shiftaddnas_cv import CVSpaceDims, Stage
from repro.spaces.shiftaddnas_nlp import NlpSpaceDims
from repro.supernets.base import Supernet
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


@pytest.mark.parametrize("build", [_cv, _nlp], ids=["shiftaddnas-cv", "shiftaddnas-nlp"])
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
