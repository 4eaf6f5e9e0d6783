"""Usage figures: one row per account, data source and day, and their sums."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class UsageRow:
    """What one account's data source brought in one UTC day, and what GuardDuty would charge.

    ``bytes`` is None for sources GuardDuty bills by events; ``cost`` None when not priced.
    """

    account: str
    source: str
    day: str
    events: int = 0
    bytes: int | None = None
    findings: int = 0
    cost: float | None = None


GROUPINGS: dict[str, Callable[[UsageRow], str]] = {
    "account": lambda row: row.account,
    "source": lambda row: row.source,
    "day": lambda row: row.day,
}
"""``--by`` values → the key a row is summed under."""


def _add(a: int | float | None, b: int | float | None) -> Any:
    return a if b is None else b if a is None else a + b


def total(rows: Iterable[UsageRow], key: str = "total") -> dict[str, Any]:
    """The sum of ``rows``: events, bytes, findings and cost (None when nothing had one)."""
    sums: dict[str, Any] = {"key": key, "events": 0, "bytes": None, "findings": 0, "cost": None}
    for row in rows:
        for name in ("events", "bytes", "findings", "cost"):
            sums[name] = _add(sums[name], getattr(row, name))
    return sums


def summarize(rows: Iterable[UsageRow], by: str) -> list[dict[str, Any]]:
    """Sums per ``by`` (account, source or day), in key order."""
    grouping = GROUPINGS[by]
    groups: dict[str, list[UsageRow]] = {}
    for row in rows:
        groups.setdefault(grouping(row), []).append(row)
    return [total(members, key) for key, members in sorted(groups.items())]
