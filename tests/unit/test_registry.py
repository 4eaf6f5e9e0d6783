from __future__ import annotations

import pytest

from exporter.registry import Registry


def test_register_get_and_order() -> None:
    registry: Registry[int] = Registry("number")
    registry.add("one", 1)
    registry.register("two")(2)
    assert registry.get("two") == 2
    assert registry.names() == ["one", "two"]
    assert "one" in registry
    assert len(registry) == 2


def test_duplicates_and_unknown_names_are_errors() -> None:
    registry: Registry[int] = Registry("number")
    registry.add("one", 1)
    with pytest.raises(ValueError, match="twice"):
        registry.add("one", 1)
    with pytest.raises(KeyError, match="known: one"):
        registry.get("three")
