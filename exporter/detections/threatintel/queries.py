"""Entries -> percolator documents: the stored query, a deterministic id, the metadata.

PURE. An IP or CIDR entry is a ``term`` query on the keyword field ``duskwatch.ip_prefixes``:
the matcher gives every percolated event the networks (/0 to /32, /128 for IPv6) of each
public address in ``related.ip``, so the entry ``203.0.113.0/24`` matches an event carrying
``203.0.113.7`` on whichever side of a flow, the caller of an API or any of a Kubernetes
request's source IPs. Keyword terms let the percolator pick candidate queries by term; a
term on an ``ip`` field would make it evaluate every stored CIDR query for every batch
(1.6 s against 0.05 s per 500 events with 100k entries). A domain entry is a
``term`` query on ``duskwatch.dns.parent_domains`` (the query name and each of its parents),
so ``evil.example`` matches ``evil.example`` and ``a.b.evil.example``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from exporter.detections.threatintel.indicators import is_public, parse_address
from exporter.detections.threatintel.model import Entry, ListKind

THREATINTEL_INDEX = "duskwatch-threatintel"
IP_FIELD = "duskwatch.ip_prefixes"
DOMAIN_FIELD = "duskwatch.dns.parent_domains"
QUERY_VERSION = "ip-prefixes-2"
"""Part of every list's content digest: a new query shape rewrites stored lists."""


def percolator_query(entry: Entry) -> dict[str, Any]:
    """The stored query that matches events carrying ``entry``."""
    if entry.indicator_type == "domain":
        return {"term": {DOMAIN_FIELD: entry.indicator}}
    return {"term": {IP_FIELD: str(ipaddress.ip_network(entry.indicator))}}


def prefix_kind(entry: Entry) -> str | None:
    """``v4/24``-style family and length of an IP or CIDR entry (None for a domain)."""
    if entry.indicator_type == "domain":
        return None
    network = ipaddress.ip_network(entry.indicator)
    return f"v{network.version}/{network.prefixlen}"


def percolatable(event: Mapping[str, Any], kinds: frozenset[str] | None = None) -> dict[str, Any]:
    """``event`` with ``duskwatch.ip_prefixes`` of its ``related.ip``, ready to percolate.

    ``kinds`` (from :func:`prefix_kind` of the stored entries) limits the networks to the
    lengths some entry has; None gives every length.
    """
    related = event.get("related")
    addresses = related.get("ip", []) if isinstance(related, Mapping) else []
    prefixes = ip_prefixes(addresses if isinstance(addresses, list) else [addresses], kinds)
    if not prefixes:
        return dict(event)
    extra = event.get("duskwatch")
    extra = dict(extra) if isinstance(extra, Mapping) else {}
    return {**event, "duskwatch": {**extra, "ip_prefixes": prefixes}}


def ip_prefixes(addresses: Iterable[Any], kinds: frozenset[str] | None = None) -> list[str]:
    """The networks (/0 up to the host, or only ``kinds``) of each public address."""
    prefixes: list[str] = []
    for value in addresses:
        if isinstance(value, str):
            prefixes.extend(_prefixes(value, kinds))
    return prefixes


@lru_cache(maxsize=65536)
def _prefixes(value: str, kinds: frozenset[str] | None) -> tuple[str, ...]:
    """The networks of one address (cached: the same peers recur across events)."""
    address = parse_address(value)
    if address is None or not is_public(address):
        return ()
    network = ipaddress.ip_network(address)
    lengths = range(network.prefixlen + 1)
    if kinds is not None:
        lengths = [n for n in lengths if f"v{network.version}/{n}" in kinds]  # type: ignore[assignment]
    return tuple(str(network.supernet(new_prefix=length)) for length in lengths)


def entry_id(list_kind: ListKind, list_name: str, indicator: str) -> str:
    """The document id of one entry of one list: re-adding an entry overwrites it."""
    return f"{list_kind}:{list_name}:{indicator}"


def entry_document(
    entry: Entry,
    *,
    list_kind: ListKind,
    list_name: str,
    category: str | None,
    list_format: str,
    added_at: str,
) -> dict[str, Any]:
    """The percolator document of ``entry``; ``added_at`` marks the write's generation."""
    document: dict[str, Any] = {
        "query": percolator_query(entry),
        "prefix": prefix_kind(entry),
        "list_name": list_name,
        "list_kind": list_kind,
        "indicator": entry.indicator,
        "indicator_type": entry.indicator_type,
        "list_format": list_format,
        "added_at": added_at,
    }
    if list_kind == "threat":
        document["category"] = entry.category or category or "custom"
    if entry.threat_name:
        document["threat_name"] = entry.threat_name
    return document
