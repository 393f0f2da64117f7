"""The name registry: register at the definition, look up by name, list by pattern."""
from __future__ import annotations

import pytest

from repro import registry


def test_register_get_and_list_by_pattern():
    @registry.register("test-kind")
    class Alpha:
        pass

    @registry.register("test-kind", "beta-1")
    def beta():
        return 1

    assert registry.get("test-kind", "Alpha") is Alpha
    assert registry.get("test-kind", "beta-1") is beta
    assert registry.list_names("test-kind") == ["Alpha", "beta-1"]
    assert registry.list_names("test-kind", "beta*") == ["beta-1"]
    assert registry.list_names("test-kind", "gamma*") == []
    assert registry.list_names("no-such-kind") == []
    assert "test-kind" in registry.kinds()


def test_unknown_names_and_kinds_name_the_valid_ones():
    registry.register("test-lookup", "only")(object)
    with pytest.raises(KeyError, match="unknown test-lookup 'other'; valid names: only"):
        registry.get("test-lookup", "other")
    with pytest.raises(KeyError, match="unknown kind 'no-such-kind'; valid kinds: .*test-lookup"):
        registry.get("no-such-kind", "x")


def test_a_taken_name_is_an_error_unless_the_same_object():
    def f():
        pass

    registry.register("test-dup", "f")(f)
    registry.register("test-dup", "f")(f)          # the same object again: fine
    with pytest.raises(ValueError, match="already registered"):
        registry.register("test-dup", "f")(lambda: None)
    with pytest.raises(ValueError, match="give a name"):
        registry.register("test-dup")(3)

