"""``file``: append findings as JSON Lines to a local file (for the demo and for debugging).

Each line is one GuardDuty finding wrapped with its event id
(``{"eventId": "<id>:<updatedAt>", "finding": {...}}``); a batch is appended and fsynced
before it counts as delivered.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from exporter.export.destination import DESTINATION_TYPES, Delivery, DeliveryError, DestinationType
from exporter.export.formats import envelope

SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["path"],
    "properties": {
        "path": {"type": "string", "minLength": 1, "description": "the JSON Lines file"},
        "fsync": {"type": "boolean", "default": True, "description": "true or false"},
        "max_batch": {"type": "integer", "minimum": 1, "maximum": 100000, "default": 500,
                      "description": "an integer from 1 to 100000"},
    },
}  # fmt: skip
DEFAULTS = {k: p["default"] for k, p in SCHEMA["properties"].items() if "default" in p}


def lines(batch: Sequence[Delivery]) -> bytes:
    """The JSON Lines of a batch."""
    return b"".join(orjson.dumps(envelope(d)) + b"\n" for d in batch)


class FileDestination:
    """Appends batches to ``path``."""

    def __init__(self, name: str, path: str, *, fsync: bool = True, max_batch: int = 500) -> None:
        self.name = name
        self.path = Path(path)
        self.fsync = fsync
        self.max_batch = max_batch

    def deliver(self, batch: Sequence[Delivery]) -> None:
        """Append the batch (and fsync it)."""
        data = lines(batch)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("ab") as out:
                out.write(data)
                out.flush()
                if self.fsync:
                    os.fsync(out.fileno())
        except OSError as exc:
            raise DeliveryError(f"{self.path}: {exc}") from exc


def build(name: str, options: Mapping[str, Any]) -> FileDestination:
    """A file destination from its options."""
    opts = {**DEFAULTS, **options}
    return FileDestination(name, opts["path"], fsync=opts["fsync"], max_batch=opts["max_batch"])


DESTINATION_TYPES.add(
    "file", DestinationType("file", "JSON Lines appended to a local file", SCHEMA, build)
)
