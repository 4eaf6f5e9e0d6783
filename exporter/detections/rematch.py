"""Match stored events again: the repair path when matching on ingest could not finish.

Ingest matches each batch right after it is written; if the cluster fails in between, those
documents exist but were never matched, and a re-ingest sees duplicates only. ``rematch``
reads the stored events of a time range back — by event time, or by ingest time
(``event.ingested``) when the events of an interrupted ingest are wanted whatever their
dates — and hands them to the same :class:`~exporter.detections.matcher.Matcher`.
Occurrences are event document ids, so events already matched add nothing (the store keeps
the last 100 occurrences per finding).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.helpers import scan

from exporter.detections.matcher import Matcher
from exporter.ingest.bulk import Action
from exporter.logtypes import LogType
from exporter.normalize.ecs import iso_timestamp

BATCH = 500
EVENT_TIME = "@timestamp"
INGEST_TIME = "event.ingested"


@dataclass(frozen=True)
class RematchResult:
    """Events read back per log type and the findings their matches touched."""

    documents: dict[str, int]
    findings: int


def stored_batches(
    client: OpenSearch,
    kind: LogType,
    since: datetime,
    until: datetime,
    size: int = BATCH,
    field: str = EVENT_TIME,
) -> Iterator[list[Action]]:
    """The stored events of ``kind`` with ``since <= field < until``, in batches."""
    query = {"query": {"range": {field: {"gte": iso_timestamp(since), "lt": iso_timestamp(until)}}}}
    batch: list[Action] = []
    hits: Iterator[dict[str, Any]] = scan(
        client, index=kind.index, query=query, size=size, ignore_unavailable=True
    )
    for hit in hits:
        batch.append(Action(hit["_index"], hit["_id"], b"", document=hit["_source"]))
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def rematch(
    client: OpenSearch,
    matcher: Matcher,
    kinds: Sequence[LogType],
    since: datetime,
    until: datetime,
    on_batch: Callable[[int], None] | None = None,
    field: str = EVENT_TIME,
) -> RematchResult:
    """Match every stored event of ``kinds`` whose ``field`` (event time, or
    :data:`INGEST_TIME`) is in ``[since, until)`` against rules and lists."""
    documents: dict[str, int] = {}
    touched: set[str] = set()
    for kind in kinds:
        for batch in stored_batches(client, kind, since, until, field=field):
            touched.update(matcher(kind, batch))
            documents[kind.name] = documents.get(kind.name, 0) + len(batch)
            if on_batch:
                on_batch(len(batch))
    return RematchResult(documents, len(touched))
