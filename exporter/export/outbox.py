"""The export outbox: what each destination still has to receive, durable in OpenSearch.

One document per (destination, finding id) in ``duskwatch-outbox`` holds the latest version of
the finding to deliver (a GuardDuty finding snapshot, kept in ``_source`` only) and its
delivery state:

- ``status``: ``pending`` (to deliver when ``next_attempt_at`` has come), ``delivered``,
  ``parked`` (the export dead letter: retries exhausted or a permanent error, in ``last_error``;
  ``duskwatch export replay`` makes it pending again), or ``withheld`` (the finding was
  archived — suppressed, or by hand — after it was queued: never delivered);
- ``event_id`` = ``<finding id>:<updatedAt>``, stable per version, so a retry carries the same
  id and receivers deduplicate;
- ``due_at``: when this version was due (set when queued, not moved by retries; the lag of a
  destination is measured from it), ``next_attempt_at`` (moved by retries), ``attempts``,
  ``enqueued_at``, ``delivered_at`` (the last successful delivery).

When a version is due (GuardDuty's publishing frequency): a finding the destination has not
received yet (new, or never delivered) is due at once; an update of a delivered finding is
due at the next boundary of the destination's ``frequency`` (``FIFTEEN_MINUTES``, ``ONE_HOUR``,
``SIX_HOURS``, aligned to the epoch in UTC; ``IMMEDIATE``: at once). The default is
``SIX_HOURS``, GuardDuty's. A pending entry is *replaced* by a newer version (coalesced, never
duplicated) and keeps its due time and retry schedule; an older or already delivered version
is ignored.

Every write is optimistic: new entries are created with ``op_type=create`` and changed ones
written with ``if_seq_no``/``if_primary_term``, so marking an entry delivered never
overwrites a newer version that arrived during the send.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from opensearchpy import NotFoundError, OpenSearch

from exporter.errors import StoreError
from exporter.findings.build import to_guardduty
from exporter.findings.store import FINDINGS_INDEX
from exporter.normalize.ecs import iso_timestamp

OUTBOX_INDEX = "duskwatch-outbox"
WRITE_RETRIES = 5
PAGE = 500
Clock = Callable[[], datetime]
Doc = dict[str, Any]


class Frequency(StrEnum):
    """How often updates of aggregated findings are published (GuardDuty's values + immediate)."""

    IMMEDIATE = "IMMEDIATE"
    FIFTEEN_MINUTES = "FIFTEEN_MINUTES"
    ONE_HOUR = "ONE_HOUR"
    SIX_HOURS = "SIX_HOURS"

    @property
    def period(self) -> timedelta:
        """The publishing period (zero: immediate)."""
        return PERIODS[self]


PERIODS = {
    Frequency.IMMEDIATE: timedelta(0),
    Frequency.FIFTEEN_MINUTES: timedelta(minutes=15),
    Frequency.ONE_HOUR: timedelta(hours=1),
    Frequency.SIX_HOURS: timedelta(hours=6),
}
DEFAULT_FREQUENCY = Frequency.SIX_HOURS
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Status(StrEnum):
    """Delivery state of an outbox entry."""

    PENDING = "pending"
    DELIVERED = "delivered"
    PARKED = "parked"
    WITHHELD = "withheld"


@dataclass(frozen=True)
class Route:
    """A destination as the outbox sees it: its name and publishing frequency."""

    name: str
    frequency: Frequency = DEFAULT_FREQUENCY


@dataclass(frozen=True)
class Entry:
    """One stored outbox document with its concurrency token."""

    id: str
    doc: Doc
    seq_no: int
    primary_term: int
    sort: tuple[Any, ...] = ()


def utc_now() -> datetime:
    """The current time (the default clock)."""
    return datetime.now(UTC)


def entry_id(destination: str, finding_id: str) -> str:
    """The outbox document id of a finding for a destination."""
    return f"{destination}/{finding_id}"


def event_id(finding: Mapping[str, Any]) -> str:
    """The stable id of one version of a finding: ``<id>:<updatedAt>``."""
    return f"{finding['id']}:{finding['updatedAt']}"


def update_due(frequency: Frequency, now: datetime) -> datetime:
    """When an update queued at ``now`` is published: the next boundary of the period."""
    period = frequency.period
    if not period:
        return now
    slots = math.ceil((now - EPOCH) / period)
    return EPOCH + slots * period


def parse_time(value: str) -> datetime:
    """A stored timestamp as an aware datetime."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def queued(
    current: Mapping[str, Any] | None,
    finding: Mapping[str, Any],
    route: Route,
    *,
    created: bool,
    now: datetime,
) -> Doc | None:
    """The entry after ``finding`` (GuardDuty JSON) is queued for ``route``; None: unchanged.

    An older version, or the version already delivered, changes nothing.
    """
    version = event_id(finding)
    if current is not None:
        if finding["updatedAt"] < current["updated_at"]:
            return None
        if current["event_id"] == version and current["status"] == Status.DELIVERED:
            return None
    stamp = iso_timestamp(now)
    never_delivered = current is None or current.get("delivered_at") is None
    due = stamp if created or never_delivered else iso_timestamp(update_due(route.frequency, now))
    entry: Doc = {
        "destination": route.name,
        "finding_id": str(finding["id"]),
        "event_id": version,
        "updated_at": finding["updatedAt"],
        "finding": dict(finding),
        "status": Status.PENDING.value,
        "attempts": 0,
        "due_at": due,
        "next_attempt_at": due,
        "enqueued_at": stamp,
        "delivered_at": None if current is None else current.get("delivered_at"),
        "last_error": None if current is None else current.get("last_error"),
    }
    if current is not None and current["status"] == Status.PENDING:
        entry["enqueued_at"] = current["enqueued_at"]
        if current["attempts"]:
            keep = ("attempts", "due_at", "next_attempt_at")
            entry.update({k: current[k] for k in keep})
        else:
            entry["due_at"] = entry["next_attempt_at"] = min(current["due_at"], due)
    return entry


def delivered(current: Mapping[str, Any], now: datetime) -> Doc:
    """The entry once its version was delivered."""
    return {**current, "status": Status.DELIVERED.value, "delivered_at": iso_timestamp(now)}


def withheld(current: Mapping[str, Any], now: datetime) -> Doc:
    """The entry of a finding archived (suppressed) after it was queued: never delivered."""
    return {**current, "status": Status.WITHHELD.value, "delivered_at": iso_timestamp(now)}


def superseded(current: Mapping[str, Any], route: Route, now: datetime) -> Doc:
    """A newer pending version after an older one was delivered: recorded as delivered at
    ``now``, and an update not yet retried is published no earlier than the next boundary."""
    entry = {**current, "delivered_at": iso_timestamp(now)}
    if current["status"] == Status.PENDING and not current["attempts"]:
        due = max(current["due_at"], iso_timestamp(update_due(route.frequency, now)))
        entry["due_at"] = entry["next_attempt_at"] = due
    return entry


def failed(current: Mapping[str, Any], error: str, retry_at: datetime | None) -> Doc:
    """The entry after a failed attempt: retried at ``retry_at``, or parked when None."""
    entry = {**current, "attempts": current["attempts"] + 1, "last_error": error}
    if retry_at is None:
        entry["status"] = Status.PARKED.value
    else:
        entry["next_attempt_at"] = iso_timestamp(retry_at)
    return entry


def replayed(current: Mapping[str, Any], now: datetime) -> Doc:
    """A parked entry made pending again, due at once with its attempts reset."""
    stamp = iso_timestamp(now)
    return {**current, "status": Status.PENDING.value, "attempts": 0,
            "due_at": stamp, "next_attempt_at": stamp}  # fmt: skip


class ExportOutbox:
    """The :class:`~exporter.findings.writer.Outbox` of the configured destinations."""

    def __init__(
        self,
        client: OpenSearch,
        routes: Sequence[Route],
        index: str = OUTBOX_INDEX,
        *,
        clock: Clock = utc_now,
        findings_index: str = FINDINGS_INDEX,
    ) -> None:
        self.client = client
        self.routes = {route.name: route for route in routes}
        self.index = index
        self.clock = clock
        self.findings_index = findings_index

    def enqueue(self, findings: Sequence[Mapping[str, Any]], *, created: set[str]) -> None:
        """Queue the stored findings for every destination (``created``: new finding ids)."""
        shaped = {str(f["id"]): to_guardduty(f) for f in findings}
        wanted = {
            entry_id(route.name, fid): (route, finding)
            for route in self.routes.values()
            for fid, finding in shaped.items()
        }
        for _ in range(WRITE_RETRIES):
            now = self.clock()
            writes: dict[str, tuple[Doc, Entry | None]] = {}
            for current_id, current in self._get(list(wanted)).items():
                route, finding = wanted[current_id]
                doc = queued(
                    None if current is None else current.doc,
                    finding,
                    route,
                    created=str(finding["id"]) in created,
                    now=now,
                )
                if doc is not None:
                    writes[current_id] = (doc, current)
            conflicts = self._write(writes)
            if not conflicts:
                return
            wanted = {k: wanted[k] for k in conflicts}
        raise StoreError(f"outbox: {len(wanted)} entries kept changing while queued")

    def due(
        self, destination: str, now: datetime, *, size: int, after: Sequence[Any] = ()
    ) -> list[Entry]:
        """Pending entries of ``destination`` due at ``now``, oldest first (``after``: the
        ``sort`` of the last entry of the previous page)."""
        body: Doc = {
            "query": {"bool": {"filter": [
                {"term": {"destination": destination}},
                {"term": {"status": Status.PENDING.value}},
                {"range": {"next_attempt_at": {"lte": iso_timestamp(now)}}},
            ]}},
            "sort": [{"next_attempt_at": "asc"}, {"finding_id": "asc"}],
            "size": size,
            "seq_no_primary_term": True,
        }  # fmt: skip
        if after:
            body["search_after"] = list(after)
        self.client.indices.refresh(index=self.index)
        return [_entry(hit) for hit in self._search(body)["hits"]["hits"]]

    def mark_delivered(self, entries: Sequence[Entry], route: Route) -> None:
        """Record delivery of these entries; a newer version that arrived meanwhile stays
        pending (see :func:`superseded`)."""
        now = self.clock()
        conflicts = self._write({e.id: (delivered(e.doc, now), e) for e in entries})
        sent = {e.id: e.doc["event_id"] for e in entries}
        for current_id, current in self._get(conflicts).items():
            if current is None:
                continue
            same = current.doc["event_id"] == sent[current_id]
            doc = delivered(current.doc, now) if same else superseded(current.doc, route, now)
            self._write({current_id: (doc, current)})

    def mark_withheld(self, entries: Sequence[Entry]) -> None:
        """Record that these entries' findings were archived since they were queued (a newer
        version that arrived meanwhile stays pending and is judged when due)."""
        now = self.clock()
        self._write({e.id: (withheld(e.doc, now), e) for e in entries})

    def archived(self, finding_ids: Sequence[str]) -> set[str]:
        """The ids among ``finding_ids`` whose stored finding is archived now."""
        if not finding_ids:
            return set()
        found = self.client.mget(
            index=self.findings_index,
            body={"ids": list(finding_ids)},
            _source_includes=["service.archived"],
        )
        return {
            doc["_id"]
            for doc in found["docs"]
            if doc.get("found") and doc["_source"].get("service", {}).get("archived")
        }

    def mark_failed(
        self, entries: Sequence[Entry], error: str, retry_at: Callable[[int], datetime | None]
    ) -> None:
        """Record a failed attempt; ``retry_at(attempts)`` is the next try, None to park.
        Entries replaced by a newer version meanwhile are left to that version."""
        self._write({e.id: (failed(e.doc, error, retry_at(e.doc["attempts"] + 1)), e)
                     for e in entries})  # fmt: skip

    def replay(self, destination: str | None = None, event: str | None = None) -> int:
        """Make parked entries pending again (attempts reset); returns how many."""
        filters: list[Doc] = [{"term": {"status": Status.PARKED.value}}]
        if destination is not None:
            filters.append({"term": {"destination": destination}})
        if event is not None:
            filters.append({"term": {"event_id": event}})
        count = 0
        for page in self._pages({"bool": {"filter": filters}}):
            now = self.clock()
            count += len(page) - len(self._write({e.id: (replayed(e.doc, now), e) for e in page}))
        self.client.indices.refresh(index=self.index)
        return count

    def status(self) -> dict[str, dict[str, Any]]:
        """Per destination: pending, due, delivered, parked, and lag (seconds since the
        oldest due pending entry was due; 0 when none is due)."""
        now = self.clock()
        due_filter = {"bool": {"filter": [
            {"term": {"status": Status.PENDING.value}},
            {"range": {"due_at": {"lte": iso_timestamp(now)}}},
        ]}}  # fmt: skip
        aggs = {"destinations": {"terms": {"field": "destination", "size": 1000}, "aggs": {
            "status": {"terms": {"field": "status", "size": 10}},
            "due": {"filter": due_filter, "aggs": {"oldest": {"min": {"field": "due_at"}}}},
        }}}  # fmt: skip
        self.client.indices.refresh(index=self.index)
        response = self._search({"size": 0, "aggs": aggs})
        found = {
            b["key"]: _counts(b, now) for b in response["aggregations"]["destinations"]["buckets"]
        }
        empty = {"pending": 0, "due": 0, "delivered": 0, "parked": 0, "lag_seconds": 0.0}
        return {name: found.get(name, dict(empty)) for name in sorted({*self.routes, *found})}

    def _pages(self, query: Doc) -> Iterator[list[Entry]]:
        after: list[Any] | None = None
        self.client.indices.refresh(index=self.index)
        while True:
            body: Doc = {
                "query": query,
                "sort": [{"destination": "asc"}, {"finding_id": "asc"}],
                "size": PAGE,
                "seq_no_primary_term": True,
            }
            if after is not None:
                body["search_after"] = after
            hits = self._search(body)["hits"]["hits"]
            if not hits:
                return
            yield [_entry(hit) for hit in hits]
            after = hits[-1]["sort"]

    def _get(self, ids: Sequence[str]) -> dict[str, Entry | None]:
        if not ids:
            return {}
        try:
            response = self.client.mget(index=self.index, body={"ids": list(ids)})
        except NotFoundError as exc:
            raise _missing(self.index) from exc
        return {d["_id"]: _entry(d) if d.get("found") else None for d in response["docs"]}

    def _search(self, body: Doc) -> Any:
        try:
            return self.client.search(index=self.index, body=body)
        except NotFoundError as exc:
            raise _missing(self.index) from exc

    def _write(self, writes: Mapping[str, tuple[Doc, Entry | None]]) -> list[str]:
        """Write entries optimistically; returns the ids that changed meanwhile (409)."""
        if not writes:
            return []
        body: list[Doc] = []
        for current_id, (doc, current) in writes.items():
            action: Doc = {"_index": self.index, "_id": current_id}
            if current is None:
                body += [{"create": action}, doc]
            else:
                action.update(if_seq_no=current.seq_no, if_primary_term=current.primary_term)
                body += [{"index": action}, doc]
        response = self.client.bulk(body=body)
        conflicts: list[str] = []
        errors: list[str] = []
        for item in response["items"]:
            result = next(iter(item.values()))
            if result.get("status") == 409:
                conflicts.append(result["_id"])
            elif "error" in result:
                errors.append(f"{result['_id']}: {result['error'].get('reason', result['error'])}")
        if errors:
            raise StoreError(f"outbox: {len(errors)} writes failed: " + "; ".join(errors[:5]))
        return conflicts


def _entry(hit: Mapping[str, Any]) -> Entry:
    sort = tuple(hit.get("sort", ()))
    return Entry(hit["_id"], hit["_source"], hit["_seq_no"], hit["_primary_term"], sort)


def _counts(bucket: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    by_status = {b["key"]: b["doc_count"] for b in bucket["status"]["buckets"]}
    oldest = bucket["due"]["oldest"].get("value_as_string")
    lag = (now - parse_time(oldest)).total_seconds() if oldest else 0.0
    return {
        "pending": by_status.get(Status.PENDING.value, 0),
        "due": bucket["due"]["doc_count"],
        "delivered": by_status.get(Status.DELIVERED.value, 0),
        "parked": by_status.get(Status.PARKED.value, 0),
        "withheld": by_status.get(Status.WITHHELD.value, 0),
        "lag_seconds": max(lag, 0.0),
    }


def _missing(index: str) -> StoreError:
    return StoreError(f"outbox index {index} does not exist", hint="run duskwatch bootstrap")
