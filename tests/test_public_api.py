"""The packages' public names: operators, spaces, supernets and cost models import from their package."""
from __future__ import annotations

import importlib
import inspect

import pytest


def test_operators_are_public_names_of_repro_ops():
    from repro.ops import (Adder2d, AdderLinear, ElasticConv2d, ElasticLayerNorm, ElasticLinear,  # noqa: F401
                           SharedConv2d, ShiftConv2d, ShiftLinear)
    from repro.ops.adder import Adder2d as defined
    from repro.ops.elastic import ElasticLinear as elastic

    assert Adder2d is defined and ElasticLinear is elastic


@pytest.mark.parametrize("package", ["repro.ops", "repro.spaces", "repro.supernets", "repro.cost"])
def test_every_exported_name_exists_and_is_defined_below_the_package(package):
    module = importlib.import_module(package)
    assert module.__all__
    for name in module.__all__:
        obj = getattr(module, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert obj.__module__.startswith(package + "."), (name, obj.__module__)


def test_space_supernet_and_cost_classes():
    from repro.cost import HardwareConfig, OpCounts, count  # noqa: F401
    from repro.spaces import SearchSpace, ShiftAddNASCVSpace, ShiftAddNASNLPSpace, ViTSpace  # noqa: F401
    from repro.supernets import CNNSupernet, CVSupernet, ShiftAddNASTransformer, Supernet, ViTSupernet  # noqa: F401

    assert issubclass(ShiftAddNASNLPSpace, SearchSpace) and issubclass(CVSupernet, Supernet)


def test_spaces_are_registered_at_their_definition():
    from repro import registry
    from repro.spaces import CNNSpace, ShiftAddNASCVSpace, ShiftAddNASNLPSpace, ViTSpace

    assert registry.list_names("space") == ["autoformer", "bignas-cnn", "shiftaddnas-cv", "shiftaddnas-nlp"]
    assert registry.get("space", "shiftaddnas-nlp") is ShiftAddNASNLPSpace
    assert registry.get("space", "shiftaddnas-cv") is ShiftAddNASCVSpace
    assert registry.get("space", "autoformer") is ViTSpace and registry.get("space", "bignas-cnn") is CNNSpace
    assert registry.list_names("space", "shiftaddnas-*") == ["shiftaddnas-cv", "shiftaddnas-nlp"]
