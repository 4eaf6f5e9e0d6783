"""Configured destinations: ``export.destinations`` validated against each type's schema.

Every block names a registered ``type``; ``frequency`` (default ``SIX_HOURS``, GuardDuty's)
and ``enabled`` (default true) are common to all types, every other key is an option of the
type, validated by its JSON Schema. Every problem of every block is reported at once, each
naming ``export.destinations.<name>.<field>`` and what was expected.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jsonschema
from opensearchpy import OpenSearch

from exporter.config import ExportSettings, Settings
from exporter.errors import ConfigError
from exporter.export.destination import DESTINATION_TYPES, Destination, DestinationType
from exporter.export.destinations import load_destination_types
from exporter.export.outbox import DEFAULT_FREQUENCY, OUTBOX_INDEX, ExportOutbox, Frequency, Route

COMMON: dict[str, dict[str, Any]] = {
    "type": {"type": "string", "description": "the destination type"},
    "frequency": {
        "enum": [f.value for f in Frequency],
        "description": "how often updates are published: " + ", ".join(f.value for f in Frequency),
    },
    "enabled": {"type": "boolean", "description": "true or false"},
}
"""Keys every destination block may have besides its type's options."""


@dataclass(frozen=True)
class Block:
    """One validated ``export.destinations`` entry."""

    name: str
    kind: DestinationType
    route: Route
    enabled: bool
    options: dict[str, Any]


@dataclass(frozen=True)
class Configured:
    """A built, enabled destination with its outbox route."""

    name: str
    type: str
    route: Route
    destination: Destination


def blocks(export: ExportSettings) -> list[Block]:
    """Every configured destination block, validated; ConfigError lists every problem."""
    load_destination_types()
    problems: list[str] = []
    found: list[Block] = []
    for name, block in export.destinations.items():
        where = f"export.destinations.{name}"
        kind_name = block.get("type")
        if kind_name not in DESTINATION_TYPES:
            known = ", ".join(sorted(DESTINATION_TYPES.names()))
            problems.append(
                f"{where}.type: unknown destination type {kind_name!r} (known: {known})"
            )
            continue
        kind = DESTINATION_TYPES.get(str(kind_name))
        errors = validation_errors(where, block, kind.options_schema)
        problems += errors
        if not errors:
            options = {k: v for k, v in block.items() if k not in COMMON}
            frequency = Frequency(block.get("frequency", DEFAULT_FREQUENCY))
            enabled = bool(block.get("enabled", True))
            found.append(Block(name, kind, Route(name, frequency), enabled, options))
    if problems:
        raise ConfigError("\n".join(problems), hint="fix export.destinations in duskwatch.yaml")
    return found


def validation_errors(
    where: str, block: Mapping[str, Any], options: Mapping[str, Any]
) -> list[str]:
    """Problems of one block against its type's options schema plus the common keys."""
    spec = {
        **options,
        "type": "object",
        "properties": {**options.get("properties", {}), **COMMON},
        "additionalProperties": False,
    }
    validator = jsonschema.Draft202012Validator(spec)
    errors = sorted(validator.iter_errors(block), key=lambda e: list(e.absolute_path))
    return [_describe(where, error, spec) for error in errors]


def _describe(where: str, error: jsonschema.ValidationError, spec: Mapping[str, Any]) -> str:
    path = ".".join(str(p) for p in error.absolute_path)
    here = f"{where}.{path}" if path else where
    properties: Mapping[str, Any] = spec["properties"]
    given: Mapping[str, Any] = error.instance if isinstance(error.instance, Mapping) else {}
    if error.validator == "additionalProperties" and not path:
        extra = sorted(set(given) - set(properties))
        allowed = ", ".join(sorted(properties))
        return f"{where}.{', '.join(extra)}: unknown key (expected one of: {allowed})"
    if error.validator == "required" and not path:
        required: list[str] = list(error.validator_value)  # type: ignore[arg-type]
        missing = [k for k in required if k not in given]
        return "\n".join(
            f"{where}.{key}: required (expected {_expected(properties.get(key, {}))})"
            for key in missing
        )
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    return f"{here}: {error.message} (expected {_expected(schema)})"


def _expected(prop: Mapping[str, Any]) -> str:
    if "description" in prop:
        return str(prop["description"])
    if "enum" in prop:
        return "one of " + ", ".join(map(str, prop["enum"]))
    if "pattern" in prop:
        return f"a string matching {prop['pattern']}"
    return str(prop.get("type", "a value"))


def routes(export: ExportSettings) -> list[Route]:
    """The outbox routes of the enabled destinations."""
    return [block.route for block in blocks(export) if block.enabled]


def build_destinations(export: ExportSettings, names: Sequence[str] = ()) -> list[Configured]:
    """The enabled destinations (only ``names`` when given), built; ConfigError for a name
    that is not configured or is disabled."""
    enabled = {block.name: block for block in blocks(export) if block.enabled}
    unknown = [name for name in names if name not in enabled]
    if unknown:
        known = ", ".join(sorted(enabled)) or "none"
        raise ConfigError(
            f"no enabled export destination {', '.join(unknown)} (enabled: {known})",
            hint="see export.destinations in duskwatch.yaml",
        )
    chosen = [enabled[name] for name in names] if names else list(enabled.values())
    return [
        Configured(b.name, b.kind.name, b.route, b.kind.build(b.name, b.options)) for b in chosen
    ]


def outbox_for(
    client: OpenSearch, settings: Settings, index: str = OUTBOX_INDEX
) -> ExportOutbox | None:
    """The outbox to give :class:`~exporter.findings.writer.FindingWriter`: one route per
    enabled destination; None when no destination is enabled."""
    enabled = routes(settings.export)
    return ExportOutbox(client, enabled, index) if enabled else None
