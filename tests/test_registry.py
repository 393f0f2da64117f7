"""The name registry: register at the definition, look up by name, list by pattern."""
from __future__ import annotations

import re
import uuid

import pytest

from repro import registry


def _kind() -> str:
    """A fresh kind per call, so the tests can run again in one process."""
    return f"test-{uuid.uuid4().hex[:8]}"


def test_register_get_and_list_by_pattern():
    kind = _kind()

    @registry.register(kind)
    class Alpha:
        pass

    @registry.register(kind, "beta-1")
    def beta():
        return 1

    assert registry.get(kind, "Alpha") is Alpha
    assert registry.get(kind, "beta-1") is beta
    assert registry.list_names(kind) == ["Alpha", "beta-1"]
    assert registry.list_names(kind, "beta*") == ["beta-1"]
    assert registry.list_names(kind, "gamma*") == []
    assert registry.list_names("no-such-kind") == []
    assert kind in registry.kinds()


def test_unknown_names_and_kinds_name_the_valid_ones():
    kind = _kind()
    registry.register(kind, "only")(object)
    with pytest.raises(KeyError, match=f"unknown {kind} 'other'; valid names: only"):
        registry.get(kind, "other")
    with pytest.raises(KeyError, match=f"unknown kind 'no-such-kind'; valid kinds: .*{re.escape(kind)}"):
        registry.get("no-such-kind", "x")


def test_a_taken_name_is_an_error_unless_the_same_object():
    def f():
        pass

    kind = _kind()
    registry.register(kind, "f")(f)
    registry.register(kind, "f")(f)          # the same object again: fine
    with pytest.raises(ValueError, match="already registered"):
        registry.register(kind, "f")(lambda: None)
    with pytest.raises(ValueError, match="give a name"):
        registry.register(kind)(3)

