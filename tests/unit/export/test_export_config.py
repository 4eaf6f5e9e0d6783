"""Validation of ``export.destinations``: errors name the field and what was expected."""

from __future__ import annotations

from typing import Any

import pytest

from exporter.config import ExportSettings
from exporter.errors import ConfigError
from exporter.export.config import blocks, build_destinations, routes
from exporter.export.outbox import Frequency, Route


def export(destinations: dict[str, dict[str, Any]]) -> ExportSettings:
    return ExportSettings(destinations, 8, 2.0, 600.0, 5.0)


def problems(destinations: dict[str, dict[str, Any]]) -> str:
    with pytest.raises(ConfigError) as caught:
        blocks(export(destinations))
    return caught.value.message


def test_unknown_type_lists_the_known_ones() -> None:
    message = problems({"x": {"type": "carrier-pigeon"}})
    assert "export.destinations.x.type: unknown destination type 'carrier-pigeon'" in message
    assert "file" in message
    assert "splunk-hec" in message
    assert "webhook" in message


def test_missing_and_bad_fields_name_the_path_and_expectation() -> None:
    message = problems({
        "hook": {"type": "webhook", "timeout": "soon", "colour": "red"},
        "hec": {"type": "splunk-hec", "url": "ftp://splunk", "token": "t", "frequency": "DAILY"},
    })  # fmt: skip
    lines = message.splitlines()
    assert "export.destinations.hook.url: required (expected an http(s) URL)" in lines
    assert any(
        ln.startswith("export.destinations.hook.timeout: 'soon' is not of type") for ln in lines
    )
    assert any(ln.startswith("export.destinations.hook.colour: unknown key") for ln in lines)
    assert any(
        ln.startswith("export.destinations.hec.url: 'ftp://splunk' does not match") for ln in lines
    )
    assert any(
        ln.startswith("export.destinations.hec.frequency:") and "FIFTEEN_MINUTES" in ln
        for ln in lines
    )


def test_frequency_defaults_to_six_hours_and_disabled_ones_are_left_out(tmp_path: Any) -> None:
    settings = export({
        "jsonl": {"type": "file", "path": str(tmp_path / "f.jsonl")},
        "hook": {"type": "webhook", "url": "http://127.0.0.1:9/x", "frequency": "IMMEDIATE"},
        "off": {"type": "file", "path": "x", "enabled": False},
    })  # fmt: skip
    assert routes(settings) == [
        Route("jsonl", Frequency.SIX_HOURS),
        Route("hook", Frequency.IMMEDIATE),
    ]
    built = build_destinations(settings)
    assert [(c.name, c.type, c.destination.max_batch) for c in built] == [
        ("jsonl", "file", 500), ("hook", "webhook", 100)
    ]  # fmt: skip
    with pytest.raises(ConfigError, match="no enabled export destination off"):
        build_destinations(settings, ["off"])
