"""Threat and trusted lists in OpenSearch: percolator entries plus one metadata document each.

I/O edge. Entries are percolator documents in ``duskwatch-threatintel`` (id: list kind, name
and indicator); each list's metadata is a ``duskwatch-state`` document (``kind``
``threatlist`` / ``trustedlist``, ``key`` the name, ``etag`` the source's SHA-256, ``size``
the entry count; the rest stays in ``_source``).

Adding a list under an existing name replaces it, without a moment where the list is empty
for a concurrent percolation: every entry is (re)written with this write's generation stamp
in ``added_at``, and only then are the entries of older generations deleted. A source whose
bytes, options and stored count are unchanged is left alone, so refresh is idempotent.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from opensearchpy import OpenSearch, helpers
from opensearchpy.exceptions import TransportError

from exporter.detections.threatintel import formats, location
from exporter.detections.threatintel.meta import ListMeta, ListSpec, meta_id, meta_kind
from exporter.detections.threatintel.model import (
    CATEGORIES,
    Entry,
    Limits,
    ListError,
    ListKind,
    ListLimitError,
    ThreatListError,
)
from exporter.detections.threatintel.queries import (
    QUERY_VERSION,
    THREATINTEL_INDEX,
    entry_document,
    entry_id,
)
from exporter.errors import DuskwatchError, StoreError
from exporter.normalize.ecs import iso_timestamp
from exporter.store.state import STATE_INDEX

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
CHUNK = 2_000


@dataclass(frozen=True)
class LoadResult:
    """What adding or refreshing one list did."""

    meta: ListMeta
    written: int
    removed: int
    unchanged: bool
    errors: tuple[ListError, ...] = ()


@dataclass(frozen=True)
class RefreshOutcome:
    """One list's refresh: its result, or the error that stopped it."""

    name: str
    result: LoadResult | None = None
    error: str | None = None


@dataclass(frozen=True)
class ListView:
    """A list's metadata, its stored entry count and its first entries."""

    meta: ListMeta
    stored: int
    entries: tuple[dict[str, Any], ...]


def add(
    client: OpenSearch,
    spec: ListSpec,
    *,
    index: str = THREATINTEL_INDEX,
    limits: Limits | None = None,
    s3: Any = None,
) -> LoadResult:
    """Read ``spec.location`` and store it as list ``spec.name`` (replacing its entries)."""
    limits = limits or Limits()
    validate(spec)
    source = location.canonical(spec.location)
    data = location.read(source, max_bytes=limits.max_bytes, s3=s3)
    return load(client, replace(spec, location=source), data, index=index, limits=limits)


def validate(spec: ListSpec) -> None:
    """ThreatListError for a bad name or category."""
    if not NAME_PATTERN.fullmatch(spec.name):
        raise ThreatListError(
            f"{spec.name!r} is not a list name",
            hint="1-64 letters, digits, '.', '_' or '-', starting with a letter or digit",
        )
    if spec.list_kind == "threat" and spec.category not in CATEGORIES:
        raise ThreatListError(
            f"{spec.category!r} is not a list category",
            hint="one of " + ", ".join(CATEGORIES),
        )


def load(
    client: OpenSearch, spec: ListSpec, data: bytes, *, index: str, limits: Limits
) -> LoadResult:
    """Store ``data`` (the bytes of ``spec.location``) as list ``spec.name``."""
    text = formats.decode(data)
    chosen = spec.list_format or formats.sniff_format(text)
    parsed = formats.parse(text, chosen, spec.kind)
    if parsed.errors and not parsed.entries:
        shown = "; ".join(str(e) for e in parsed.errors[:3])
        raise ThreatListError(
            f"{spec.location}: no valid entry ({len(parsed.errors)} bad lines: {shown})",
            hint=f"check the file, its --format ({chosen}) and --kind ({spec.kind})",
        )
    formats.check_limits(parsed, spec.list_kind, limits, spec.location)
    previous = get(client, spec.name, spec.list_kind, index=index)
    if previous is None:
        _check_list_count(client, spec, index, limits)
    digest = hashlib.sha256(QUERY_VERSION.encode() + b"\x00" + data).hexdigest()
    now = datetime.now(UTC)
    spec = replace(spec, list_format=chosen)
    if previous is not None and _unchanged(client, previous, spec, digest, index):
        meta = replace(previous, refreshed_at=iso_timestamp(now), errors=len(parsed.errors))
        _put_meta(client, meta)
        return LoadResult(meta, 0, 0, True, parsed.errors)
    generation = _generation(now, previous)
    written = _write(client, index, spec, parsed.entries, generation)
    removed = _delete_older(client, index, spec, generation)
    meta = ListMeta.new(spec, index, parsed, digest, iso_timestamp(now), generation, previous)
    _put_meta(client, meta)
    return LoadResult(meta, written, removed, False, parsed.errors)


def _check_list_count(client: OpenSearch, spec: ListSpec, index: str, limits: Limits) -> None:
    if spec.origin != "user":
        return
    existing = [m.name for m in lists(client, spec.list_kind, index=index) if m.origin == "user"]
    limit = limits.lists(spec.list_kind)
    if len(existing) >= limit:
        raise ListLimitError(
            f"cannot add {spec.list_kind} list {spec.name!r}: {limit} {spec.list_kind} "
            f"list(s) may exist and there are {len(existing)} ({', '.join(existing)})",
            hint=f"remove one, or replace it by adding under its name ({existing[0]})",
        )


def _unchanged(
    client: OpenSearch, previous: ListMeta, spec: ListSpec, digest: str, index: str
) -> bool:
    same = (previous.sha256, previous.list_format, previous.entry_kind, previous.category) == (
        digest,
        spec.list_format,
        spec.kind,
        spec.category,
    )
    return same and count(client, spec.name, spec.list_kind, index=index) == previous.entries


def _generation(now: datetime, previous: ListMeta | None) -> str:
    """This write's stamp: strictly after the previous one, so older entries are older."""
    if previous is not None and previous.written_at:
        floor = datetime.fromisoformat(previous.written_at) + timedelta(milliseconds=1)
        now = max(now, floor)
    return iso_timestamp(now)


def _write(
    client: OpenSearch, index: str, spec: ListSpec, entries: tuple[Entry, ...], generation: str
) -> int:
    def actions() -> Iterator[dict[str, Any]]:
        for entry in entries:
            document = entry_document(
                entry,
                list_kind=spec.list_kind,
                list_name=spec.name,
                category=spec.category,
                list_format=str(spec.list_format),
                added_at=generation,
            )
            doc_id = entry_id(spec.list_kind, spec.name, entry.indicator)
            yield {"_op_type": "index", "_index": index, "_id": doc_id, "_source": document}

    try:
        written, _ = helpers.bulk(client, actions(), chunk_size=CHUNK, max_retries=3)
        client.indices.refresh(index=index)
    except (helpers.BulkIndexError, TransportError) as exc:
        raise StoreError(f"cannot store list {spec.name!r} in {index}: {exc}") from None
    return int(written)


def _list_query(name: str, list_kind: ListKind) -> dict[str, Any]:
    terms = [{"term": {"list_name": name}}, {"term": {"list_kind": list_kind}}]
    return {"bool": {"filter": terms}}


def _delete_older(client: OpenSearch, index: str, spec: ListSpec, generation: str) -> int:
    query = _list_query(spec.name, spec.list_kind)
    query["bool"]["filter"].append({"range": {"added_at": {"lt": generation}}})
    response = client.delete_by_query(
        index=index, body={"query": query}, refresh=True, conflicts="proceed"
    )
    return int(response.get("deleted", 0))


def _put_meta(client: OpenSearch, meta: ListMeta) -> None:
    doc_id = meta_id(meta.list_kind, meta.index, meta.name)
    client.index(index=STATE_INDEX, id=doc_id, body=meta.to_source(), refresh=True)


def get(
    client: OpenSearch, name: str, list_kind: ListKind, *, index: str = THREATINTEL_INDEX
) -> ListMeta | None:
    """The metadata of one list, or None."""
    found = client.get(index=STATE_INDEX, id=meta_id(list_kind, index, name), ignore=[404])
    return ListMeta.from_source(found["_source"]) if found.get("found") else None


def lists(
    client: OpenSearch, list_kind: ListKind | None = None, *, index: str = THREATINTEL_INDEX
) -> list[ListMeta]:
    """Every list stored in ``index`` (of ``list_kind``, or both kinds), by kind and name."""
    kinds = [meta_kind(list_kind)] if list_kind else [meta_kind("threat"), meta_kind("trusted")]
    body = {"query": {"terms": {"kind": kinds}}, "size": 1_000}
    found = client.search(index=STATE_INDEX, body=body, ignore_unavailable=True)
    metas = [ListMeta.from_source(hit["_source"]) for hit in found["hits"]["hits"]]
    return sorted((m for m in metas if m.index == index), key=lambda m: (m.list_kind, m.name))


def count(
    client: OpenSearch, name: str, list_kind: ListKind, *, index: str = THREATINTEL_INDEX
) -> int:
    """How many entries of the list are stored."""
    body = {"query": _list_query(name, list_kind)}
    found = client.count(index=index, body=body, ignore_unavailable=True, allow_no_indices=True)
    return int(found["count"])


def show(
    client: OpenSearch,
    name: str,
    list_kind: ListKind,
    *,
    index: str = THREATINTEL_INDEX,
    limit: int = 20,
) -> ListView | None:
    """Metadata, stored count and the first ``limit`` entries (by indicator), or None."""
    meta = get(client, name, list_kind, index=index)
    if meta is None:
        return None
    body = {
        "query": _list_query(name, list_kind),
        "size": limit,
        "sort": [{"indicator": "asc"}],
        "_source": ["indicator", "indicator_type", "category", "threat_name"],
    }
    found = client.search(index=index, body=body, ignore_unavailable=True)
    entries = tuple(hit["_source"] for hit in found["hits"]["hits"])
    return ListView(meta, count(client, name, list_kind, index=index), entries)


def remove(
    client: OpenSearch, name: str, list_kind: ListKind, *, index: str = THREATINTEL_INDEX
) -> int | None:
    """Delete the list's entries and metadata; the number of entries removed, None if none."""
    meta = get(client, name, list_kind, index=index)
    response = client.delete_by_query(
        index=index,
        body={"query": _list_query(name, list_kind)},
        refresh=True,
        conflicts="proceed",
        ignore_unavailable=True,
        allow_no_indices=True,
    )
    removed = int(response.get("deleted", 0))
    doc_id = meta_id(list_kind, index, name)
    client.delete(index=STATE_INDEX, id=doc_id, ignore=[404], refresh=True)
    return removed if meta is not None or removed else None


def refresh(
    client: OpenSearch,
    list_kind: ListKind,
    name: str | None = None,
    *,
    index: str = THREATINTEL_INDEX,
    limits: Limits | None = None,
    s3: Any = None,
) -> list[RefreshOutcome]:
    """Re-read the location of one list (or every list of ``list_kind``); errors per list."""
    if name is None:
        metas = lists(client, list_kind, index=index)
    else:
        meta = get(client, name, list_kind, index=index)
        if meta is None:
            raise ThreatListError(f"no {list_kind} list named {name!r}")
        metas = [meta]
    outcomes = []
    for meta in metas:
        try:
            result = add(client, meta.spec(), index=index, limits=limits, s3=s3)
        except DuskwatchError as exc:
            outcomes.append(RefreshOutcome(meta.name, error=str(exc)))
        else:
            outcomes.append(RefreshOutcome(meta.name, result))
    return outcomes
