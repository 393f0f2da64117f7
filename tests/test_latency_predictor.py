"""The latency predictor: an MLP on the architecture encoding reaches a small error on a toy latency."""
from __future__ import annotations

import random

import numpy as np
import pytest

from repro.experiments.shiftaddnas_cv.run import one_thread
from repro.search.latency_predictor import LatencyPredictor, PredictorSettings, sample_latencies
from repro.spaces.shiftaddnas_cv import ShiftAddNASCVSpace

# a toy "hardware": per-block latency by type (Attn, Conv, Add, Shift) times the stage's cost factor
_UNIT = (3.0, 2.0, 2.5, 1.0)
_STAGE = (4.0, 2.0, 1.0, 0.5)


@pytest.fixture(autouse=True)
def _single_thread():
    """Tiny layers: one intra-op thread is faster on a shared machine (see repro.experiments.shiftaddnas_cv.run)."""
    with one_thread():
        yield


def _toy_latency(cfg):
    return 1.0 + sum(_STAGE[s] * _UNIT[t] for s, layers in enumerate(cfg["stages"]) for t in layers)


def test_predictor_reaches_under_5_percent_mape_on_held_out_subnets():
    space = ShiftAddNASCVSpace("paper")
    configs, lat = sample_latencies(space, _toy_latency, 400, seed=0)
    assert len({repr(c) for c in configs}) == 400
    assert lat[0] == pytest.approx(_toy_latency(configs[0]))
    pred = LatencyPredictor(space, PredictorSettings(hidden=64, epochs=200, batch_size=300, lr=5e-3), seed=0)
    losses = pred.fit(configs[:300], lat[:300])
    assert losses[-1] < losses[0]
    err = pred.mape(configs[300:], lat[300:])
    naive = float(np.mean(np.abs(np.mean(lat[:300]) - np.array(lat[300:])) / np.array(lat[300:])) * 100)
    assert err < 5.0 < naive  # predicting the mean would miss by far more


def test_mismatched_inputs_and_bad_settings_are_rejected():
    space = ShiftAddNASCVSpace("tiny")
    with pytest.raises(ValueError, match="as many latencies"):
        LatencyPredictor(space).fit([space.sample(random.Random(0))], [])
    with pytest.raises(ValueError, match="hidden"):
        PredictorSettings(hidden=0)


def test_block_cost_table_equals_the_cost_model_of_built_subnets():
    """The predictor's training target: per-block costs summed equal the dataflow model of the whole subnet."""
    from repro.experiments.shiftaddnas_cv.run import block_costs, subnet_cost

    costs = block_costs("tiny")
    space = ShiftAddNASCVSpace("tiny")
    for cfg in (space.sample(random.Random(3)), {"stages": [[0, 2], [3], [1, 0], [2, 2, 3]]}):
        direct = subnet_cost("tiny", cfg)
        assert costs(cfg) == pytest.approx((direct["energy_mj"], direct["latency_ms"]), rel=1e-9)
