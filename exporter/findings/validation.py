"""Check findings against ``schema.json`` (GuardDuty's finding JSON, schemaVersion 2.0)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from exporter.errors import DuskwatchError


class InvalidFinding(DuskwatchError):
    """A finding does not match the finding schema; the message lists every problem."""


def schema() -> dict[str, Any]:
    """The finding JSON Schema."""
    text = resources.files(__package__).joinpath("schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(schema(), format_checker=FormatChecker())


def problems(finding: Mapping[str, Any]) -> list[str]:
    """Every schema violation of ``finding`` as ``path: message`` (empty when valid)."""
    found = sorted(_validator().iter_errors(finding), key=lambda e: list(map(str, e.path)))
    return [f"{'.'.join(map(str, e.path)) or '<root>'}: {e.message}" for e in found]


def validate(finding: Mapping[str, Any]) -> None:
    """Raise :class:`InvalidFinding` unless ``finding`` matches the schema."""
    errors = problems(finding)
    if errors:
        identifier = finding.get("id", "?")
        raise InvalidFinding(f"finding {identifier} is invalid: " + "; ".join(errors[:10]))
