"""Retention: delete what is older than ``retention.*_days``, by event time.

Events live in one index per event day (``duskwatch-events-<source>-YYYY.MM.DD``, the basis of
exactly-once ingest), so an expired day is deleted whole, by exact name, judged by the day in
its name — a backfill of last year's logs is expired by its dates, not by when it was loaded.
Findings expire ``findings_days`` after their last update (GuardDuty keeps them 90 days) and
dead letters ``deadletter_days`` after they were written. 0 keeps forever.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from opensearchpy import OpenSearch

from exporter.config import RetentionSettings
from exporter.findings.store import FINDINGS_INDEX
from exporter.ingest.pipeline import DEADLETTER_INDEX
from exporter.normalize.ecs import iso_timestamp
from exporter.store.indices import EVENT_INDICES, NAMES_PER_REQUEST

DAY_SUFFIX = re.compile(r"^duskwatch-events-.+-(\d{4})\.(\d{2})\.(\d{2})$")


@dataclass
class RetentionResult:
    """What a retention pass deleted (or, in a dry run, would delete)."""

    event_indices: list[str] = field(default_factory=list)
    findings: int = 0
    dead_letters: int = 0
    dry_run: bool = False


def index_day(name: str) -> date | None:
    """The event day of a per-day events index name, or None for any other name."""
    found = DAY_SUFFIX.match(name)
    if not found:
        return None
    try:
        return date(*(int(part) for part in found.groups()))
    except ValueError:
        return None


def expired_indices(names: Iterable[str], today: date, keep_days: int) -> list[str]:
    """The per-day events indices whose whole day is older than ``keep_days`` before ``today``."""
    if keep_days <= 0:
        return []
    oldest_kept = today - timedelta(days=keep_days)
    return sorted(n for n in names if (day := index_day(n)) is not None and day < oldest_kept)


def apply(
    client: OpenSearch,
    settings: RetentionSettings,
    *,
    now: datetime | None = None,
    dry_run: bool = False,
) -> RetentionResult:
    """Delete expired event days, findings and dead letters (only count them when ``dry_run``)."""
    now = now or datetime.now(UTC)
    result = RetentionResult(dry_run=dry_run)
    names = client.indices.get(index=EVENT_INDICES, allow_no_indices=True)
    result.event_indices = expired_indices(names, now.date(), settings.events_days)
    if not dry_run:
        for start in range(0, len(result.event_indices), NAMES_PER_REQUEST):
            chunk = result.event_indices[start : start + NAMES_PER_REQUEST]
            client.indices.delete(index=",".join(chunk))
    result.findings = _expire(
        client, FINDINGS_INDEX, "updatedAt", settings.findings_days, now, dry_run
    )
    result.dead_letters = _expire(
        client, DEADLETTER_INDEX, "@timestamp", settings.deadletter_days, now, dry_run
    )
    return result


def _expire(
    client: OpenSearch, index: str, field_name: str, days: int, now: datetime, dry_run: bool
) -> int:
    if days <= 0 or not client.indices.exists(index=index):
        return 0
    query = {"range": {field_name: {"lt": iso_timestamp(now - timedelta(days=days))}}}
    if dry_run:
        return int(client.count(index=index, body={"query": query})["count"])
    found = client.delete_by_query(
        index=index, body={"query": query}, refresh=True, conflicts="proceed"
    )
    return int(found.get("deleted", 0))
