"""Usage statistics and GuardDuty-equivalent cost (GuardDuty's GetUsageStatistics)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from opensearchpy import OpenSearch

from exporter.findings.store import FINDINGS_INDEX
from exporter.usage.collect import SOURCES, event_rows, finding_counts
from exporter.usage.model import GROUPINGS, UsageRow, summarize, total
from exporter.usage.pricing import estimate, load_pools, tiered_cost

__all__ = [
    "GROUPINGS",
    "SOURCES",
    "UsageRow",
    "estimate",
    "load_pools",
    "summarize",
    "tiered_cost",
    "total",
    "usage",
]


def merge(rows: list[UsageRow], findings: dict[tuple[str, str, str], int]) -> list[UsageRow]:
    """Event rows with their finding counts; findings of a key without events get a row."""
    keyed = {(r.account, r.source, r.day): r for r in rows}
    for key, count in findings.items():
        keyed[key] = replace(keyed.get(key, UsageRow(*key)), findings=count)
    return [keyed[key] for key in sorted(keyed)]


def usage(
    client: OpenSearch,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    findings_index: str = FINDINGS_INDEX,
) -> list[UsageRow]:
    """Usage per account, data source and day, with the GuardDuty-equivalent cost."""
    rows = merge(
        event_rows(client, since, until), finding_counts(client, since, until, findings_index)
    )
    return estimate(rows, load_pools())
