"""The log types Duskwatch reads: one entry per GuardDuty data source.

A log type ties a parser (bytes -> records) to its ECS normalizer (record -> document), the
record identity used for deterministic document ids, and the index it lands in. To add a
source: write ``parsers/<name>.py`` and ``normalize/<name>.py`` and add one line below.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from exporter.parsers.base import LogParser, Record
from exporter.registry import Registry

EVENTS_INDEX_PREFIX = "duskwatch-events-"


@dataclass(frozen=True)
class LogType:
    """A data source: how to read it, how to normalize it, where it is stored."""

    name: str
    parser: LogParser
    normalize: Callable[[Record], dict[str, Any]]
    identity: Callable[[Record], str | None]

    @property
    def index(self) -> str:
        """The data stream / alias its documents are written to."""
        return EVENTS_INDEX_PREFIX + self.name


LOG_TYPES: Registry[LogType] = Registry("log type")
