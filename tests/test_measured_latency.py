"""Measured latency (repro.cost.measured) and the CV latency predictor fitted on it (Sec. 4.1), used as a
search constraint: checked against a module whose forward time is known, and end to end at smoke size."""
import time

import pytest
import torch
from torch import nn

from repro.cost import measured


class _Sleeps(nn.Module):
    """A forward pass that takes at least ``ms`` milliseconds and counts its calls."""

    def __init__(self, ms: float):
        super().__init__()
        self.ms, self.calls, self.w = ms, 0, nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        time.sleep(self.ms / 1e3)
        return x + self.w


def test_latency_is_the_minimum_of_the_timed_calls_after_the_warmup():
    model = _Sleeps(3.0)
    ms = measured.latency_ms(model, (1, 4), repeats=4, warmup=2)
    assert model.calls == 6 and ms >= 3.0 and not model.training
    with pytest.raises(ValueError, match="repeats"):
        measured.latency_ms(model, (1, 4), repeats=0)
    info = measured.machine()
    assert info["torch_threads"] >= 1 and "CPUs" in info["machine"]


def test_the_measured_predictor_and_the_latency_constrained_search_at_smoke_size(tmp_path, monkeypatch):
    monkeypatch.setenv("REPRO_CACHE", str(tmp_path))
    from repro.experiments.shiftaddnas_cv import run
    from repro.profiles import get_profile

    exp = run.CVExperiment.from_profile(get_profile("smoke"))
    data = run.measured_latencies(exp)
    assert len(data["configs"]) == len(data["latency_ms"]) == exp.predictor_samples
    assert len(data["latency_ms_repeat"]) == round(0.2 * exp.predictor_samples) and min(data["latency_ms"]) > 0
    check = run.measured_predictor_check(exp)
    assert check["train"] + check["held_out"] == exp.predictor_samples
    assert check["mape_pct"] >= 0 and check["repeat_mape_pct"] >= 0
    assert -1 <= check["spearman_cost_model_vs_measured"] <= 1
    found = run.latency_search(exp)
    exp.space.validate(found["best"])
    assert found["predicted_ms"] <= found["budget_ms"]                # the constraint the search obeyed
    assert found["meets_budget"] == (found["measured_ms"] <= found["budget_ms"])
    pred, _ = run._fit_measured(exp, data, 0.2)                      # the same fit the search used
    assert float(pred.predict([found["best"]])[0]) == pytest.approx(found["predicted_ms"])
    assert run.measured_latencies(exp)["latency_ms"] == data["latency_ms"]  # cached: timed once
