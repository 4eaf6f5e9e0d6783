"""Counters of an ingest run, per log type."""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class SourceStats:
    """One log type's counters."""

    files: int = 0
    read: int = 0
    indexed: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    bytes: int = 0
    seconds: float = 0.0


@dataclass
class IngestSummary:
    """Everything an ingest run reports; safe to update from bulk threads."""

    sources: dict[str, SourceStats] = field(default_factory=dict)
    unrecognized: list[str] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, source: str, **counts: float) -> None:
        """Add to ``source``'s counters."""
        with self._lock:
            stats = self.sources.setdefault(source, SourceStats())
            for name, value in counts.items():
                setattr(stats, name, getattr(stats, name) + value)

    @property
    def seconds(self) -> float:
        """Wall time of the run so far (or in total once finished)."""
        return (self.finished or time.monotonic()) - self.started

    def totals(self) -> SourceStats:
        """The sum over every log type."""
        total = SourceStats()
        for stats in self.sources.values():
            for name, value in asdict(stats).items():
                setattr(total, name, getattr(total, name) + value)
        return total

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``duskwatch ingest --json``."""
        return {
            "sources": {
                name: {**asdict(stats), "seconds": round(stats.seconds, 3)}
                for name, stats in sorted(self.sources.items())
            },
            "total": {**asdict(self.totals()), "seconds": round(self.seconds, 3)},
            "unrecognized_files": self.unrecognized,
            "empty_files": self.empty,
            "seconds": round(self.seconds, 3),
        }
