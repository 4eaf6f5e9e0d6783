"""Periodic upkeep that ``duskwatch worker`` runs between detector rounds.

A chore is a name, a period and a function returning a one-line summary. The worker runs
each chore on its first round and then whenever its period has passed; a period of 0 turns
it off. A chore that fails (a Duskwatch or OpenSearch error) is reported and tried again on
the next period; it never stops the worker.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from opensearchpy import OpenSearch
from opensearchpy.exceptions import OpenSearchException

from exporter.config import Settings
from exporter.detections.threatintel import store as lists
from exporter.detections.threatintel.model import LIST_KINDS, configured_limits
from exporter.detections.threatintel.queries import THREATINTEL_INDEX
from exporter.errors import DuskwatchError
from exporter.store import retention

log = logging.getLogger(__name__)
Clock = Callable[[], float]

HOUR = 3600.0


@dataclass(frozen=True)
class Chore:
    """One periodic job: ``run`` returns what it did, in one line."""

    name: str
    every_seconds: float
    run: Callable[[], str]


class Chores:
    """Runs the chores that are due (``clock``: monotonic seconds)."""

    def __init__(self, chores: Sequence[Chore], clock: Clock = time.monotonic) -> None:
        self.chores = [chore for chore in chores if chore.every_seconds > 0]
        self.clock = clock
        self.last_run: dict[str, float] = {}

    def run_due(self) -> list[tuple[str, str]]:
        """Run every due chore; (name, summary or error) for each one that ran."""
        done = []
        for chore in self.chores:
            last = self.last_run.get(chore.name)
            if last is not None and self.clock() - last < chore.every_seconds:
                continue
            self.last_run[chore.name] = self.clock()
            try:
                done.append((chore.name, chore.run()))
            except (DuskwatchError, OpenSearchException) as exc:
                log.warning("chore failed", extra={"chore": chore.name, "error": str(exc)})
                done.append((chore.name, f"failed: {exc}"))
        return done


def worker_chores(client: OpenSearch, settings: Settings) -> list[Chore]:
    """The worker's chores: retention once a day, and re-reading every threat and trusted
    list (feeds included) from its location every ``intel.refresh_hours``."""
    return [
        Chore("retention", 24 * HOUR, lambda: expire(client, settings)),
        Chore(
            "list refresh",
            settings.intel.refresh_hours * HOUR,
            lambda: refresh_lists(client, settings),
        ),
    ]


def expire(client: OpenSearch, settings: Settings) -> str:
    """Apply the retention settings."""
    expired = retention.apply(client, settings.retention)
    return (
        f"{len(expired.event_indices)} event days, {expired.findings} findings, "
        f"{expired.dead_letters} dead letters deleted"
    )


def refresh_lists(client: OpenSearch, settings: Settings, index: str = THREATINTEL_INDEX) -> str:
    """Re-read every threat and trusted list; unchanged lists are left alone."""
    limits = configured_limits(settings.intel)
    outcomes = [
        outcome
        for kind in LIST_KINDS
        for outcome in lists.refresh(client, kind, index=index, limits=limits)
    ]
    updated = [o.name for o in outcomes if o.result is not None and not o.result.unchanged]
    failed = [f"{o.name} ({o.error})" for o in outcomes if o.error]
    summary = f"{len(outcomes)} lists, {len(updated)} updated"
    if updated:
        summary += ": " + ", ".join(updated)
    if failed:
        summary += f"; {len(failed)} failed: " + "; ".join(failed)
    return summary
