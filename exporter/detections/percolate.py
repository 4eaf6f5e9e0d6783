"""Match a batch of event documents against stored percolator queries, returning ALL matches.

The percolator is an ordinary search: its hits are the stored queries that matched, 10 by
default. Here the page is sized explicitly and, should one batch match more queries than a
page holds, the batch is split in halves until every page is complete.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from opensearchpy import OpenSearch

from exporter.errors import StoreError

PAGE_SIZE = 10_000
STRIPPED_FIELDS = ("original",)


@dataclass(frozen=True)
class Match:
    """One stored query (its index and ``_source`` without the query) that matched one event."""

    slot: int
    index: str
    query_id: str
    source: Mapping[str, Any]


def lean(document: Mapping[str, Any]) -> dict[str, Any]:
    """The document without bulky fields no query reads (``event.original``)."""
    event = document.get("event")
    if not isinstance(event, Mapping) or not any(f in event for f in STRIPPED_FIELDS):
        return dict(document)
    trimmed = {k: v for k, v in event.items() if k not in STRIPPED_FIELDS}
    return {**document, "event": trimmed}


FieldTree = Mapping[str, "FieldTree | None"]


def field_tree(fields: Iterable[str]) -> dict[str, Any]:
    """Dotted fields as a nested tree (``None`` marks a field's end) for :func:`project`."""
    tree: dict[str, Any] = {}
    for path in fields:
        node = tree
        keys = path.split(".")
        for key in keys[:-1]:
            child = node.get(key, {})
            if child is None:  # a shorter path already keeps this whole branch
                break
            node = node.setdefault(key, child)
        else:
            node[keys[-1]] = None
    return tree


def project(document: Mapping[str, Any], tree: Mapping[str, Any]) -> dict[str, Any]:
    """Only the parts of ``document`` that the fields of ``tree`` read.

    A path is followed as deep as the document goes: the value at its end is kept whole, and
    so is a list met on the way (arrays of objects), so stored queries see exactly what they
    would see in the full document while the percolator parses far less.
    """
    kept: dict[str, Any] = {}
    for key, branch in tree.items():
        value = document.get(key)
        if value is None:
            continue
        if branch is None or not isinstance(value, Mapping):
            kept[key] = value
        elif inner := project(value, branch):
            kept[key] = inner
    return kept


def percolate(
    client: OpenSearch,
    indices: Sequence[str],
    documents: Sequence[Mapping[str, Any]],
    *,
    query_filter: Mapping[str, Any] | None = None,
    page_size: int = PAGE_SIZE,
) -> list[Match]:
    """Every (document slot, stored query) match; ``query_filter`` narrows the stored queries."""
    if not documents:
        return []
    return _percolate(
        client, list(indices), [lean(d) for d in documents], 0, query_filter, page_size
    )


def _percolate(
    client: OpenSearch,
    indices: list[str],
    documents: list[dict[str, Any]],
    offset: int,
    query_filter: Mapping[str, Any] | None,
    page_size: int,
) -> list[Match]:
    query: dict[str, Any] = {"percolate": {"field": "query", "documents": documents}}
    if query_filter:
        query = {"bool": {"must": [query], "filter": [query_filter]}}
    body = {
        "query": query,
        "size": page_size,
        "_source": {"excludes": ["query"]},
        "track_total_hits": True,
    }
    response = client.search(index=",".join(indices), body=body)
    total = response["hits"]["total"]["value"]
    if total > page_size and len(documents) > 1:
        half = len(documents) // 2
        return [
            *_percolate(client, indices, documents[:half], offset, query_filter, page_size),
            *_percolate(client, indices, documents[half:], offset + half, query_filter, page_size),
        ]
    if total > page_size:
        raise StoreError(f"one document matched {total} stored queries (page {page_size})")
    return [
        Match(offset + slot, hit["_index"], hit["_id"], hit.get("_source", {}))
        for hit in response["hits"]["hits"]
        for slot in hit.get("fields", {}).get("_percolator_document_slot", [0])
    ]
