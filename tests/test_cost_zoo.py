"""The model zoo against known numbers, its op splits, and the ``python -m repro cost`` CLI."""
from __future__ import annotations

import json
import uuid

import pytest
from torch import nn

from repro import registry
from repro.cost import cli, zoo

REQUIRED = ("transformer-base", "transformer-big", "resnet18", "resnet50", "resnet101", "deit-tiny", "deit-small",
            "vit-base-16", "addernet-resnet50", "deepshift-resnet50", "shiftaddnas-t0", "shiftaddnas-t1",
            "autoformer-tiny", "autoformer-small", "autoformer-base", "shiftnas-imagenet")


def test_zoo_lists_every_required_model():
    assert set(REQUIRED) <= set(zoo.names())


def test_models_are_registered_at_their_definition_and_listed_by_pattern():
    assert zoo.names("resnet*") == ["resnet101", "resnet18", "resnet50"]
    assert zoo.names("*-resnet50") == ["addernet-resnet50", "deepshift-resnet50"]
    assert registry.list_names("zoo") == zoo.names()
    e = registry.get("zoo", "resnet50")
    assert e is zoo.entry("resnet50") and e.builder is zoo.resnet50 and e.input_shape == (1, 3, 224, 224)


def test_register_model_decorator():
    name = f"test-linear-{uuid.uuid4().hex[:8]}"                # fresh, so the test can run again in one process

    @zoo.register_model(name, (1, 8), zoo.Conventions(note="a test model"))
    def tiny(resolution):
        return nn.Linear(8, 4)

    assert name in zoo.names("test-linear-*")
    c = zoo.cost(name)
    assert (c["params"], c["macs"], c["conventions"]) == (8 * 4 + 4, 8 * 4, "a test model")
    with pytest.raises(ValueError, match="already registered"):
        zoo.register_model(name, (1, 8))(lambda r: nn.Linear(8, 2))


def test_transformer_big_under_hat_conventions():
    c = zoo.counts("transformer-big")
    assert c.params == pytest.approx(176e6, rel=0.005)   # ShiftAddNAS Table 3 / HAT: 176M
    assert c.flops == pytest.approx(10.6e9, rel=0.01)    # 10.6 GFLOPs, 30 + 30 tokens


def test_resnet50_and_deit_known_numbers():
    assert zoo.counts("resnet50").params == 25_557_032    # torchvision's ResNet-50: 25.6M
    assert zoo.counts("resnet50").macs == pytest.approx(4.09e9, rel=0.01)
    assert zoo.counts("deit-tiny").params == pytest.approx(5.7e6, rel=0.01)


def test_multiplication_free_resnets_keep_only_stem_and_classifier_as_mult():
    mult = zoo.counts("resnet50").layers
    kept = int(mult.macs.iloc[0] + mult.macs.iloc[-1])    # 7x7 stem and the classifier
    adder, shift = zoo.counts("addernet-resnet50"), zoo.counts("deepshift-resnet50")
    assert adder.mult == kept and adder.shift == 0 and adder.add == kept + 2 * (adder.macs - kept)
    assert shift.mult == kept and shift.shift == shift.macs - kept and shift.add == shift.macs


def test_shiftaddnas_t1_drops_the_last_downsampling():
    t0, t1 = zoo.counts("shiftaddnas-t0"), zoo.counts("shiftaddnas-t1")
    assert t0.params == t1.params and t1.macs > t0.macs
    assert t0.mult and t0.shift and t0.add > t0.mult + t0.shift   # all four block types present


def test_cost_keys_bits_and_resolution():
    c32, c8 = zoo.cost("resnet18"), zoo.cost("resnet18", bits=8)
    assert {"params", "macs", "flops", "mult", "add", "shift", "energy_mj", "latency_ms"} <= set(c32)
    assert c8["energy_mj"] < c32["energy_mj"] and c8["effective_flops"] == c32["flops"] / 16
    assert zoo.cost("resnet18", resolution=112)["macs"] < c32["macs"]
    with pytest.raises(ValueError, match="not an image"):
        zoo.cost("transformer-base", resolution=224)


def test_unknown_model_lists_the_known_ones():
    with pytest.raises(KeyError, match="unknown model 'resnet-9000'; known models: addernet-resnet50, .*resnet50"):
        zoo.build("resnet-9000")


def test_cli(capsys):
    assert cli.main(["--list"]) == 0
    assert "transformer-big" in capsys.readouterr().out.split()
    assert cli.main(["resnet18", "--bits", "8", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["bits"] == 8 and out["params"] == zoo.counts("resnet18").params
    assert cli.main(["nope"]) == 2
    assert "known models" in capsys.readouterr().err
