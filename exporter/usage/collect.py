"""Usage from the cluster: composite aggregations over the event indices and the findings.

Bytes analysed (flow and DNS) are the UTF-8 length of each record as read, which ingest
stores in ``duskwatch.raw_bytes``. Documents ingested before that field existed are measured
by a script over their ``event.original`` (0 when ingested with ``keep_original: false``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from opensearchpy import OpenSearch

from exporter.findings.store import FINDINGS_INDEX
from exporter.normalize.ecs import iso_timestamp
from exporter.usage.model import UsageRow

UNKNOWN_ACCOUNT = "unknown"
PAGE = 1000
RAW_BYTES = "duskwatch.raw_bytes"
RAW_BYTES_SCRIPT = (
    "def e = params._source.event; "
    "return e == null || e.original == null ? 0 : e.original.length();"
)
BYTES_METRICS: dict[str, Any] = {
    "bytes": {"sum": {"field": RAW_BYTES}},
    "unmeasured": {
        "filter": {"bool": {"must_not": [{"exists": {"field": RAW_BYTES}}]}},
        "aggs": {"bytes": {"sum": {"script": {"source": RAW_BYTES_SCRIPT}}}},
    },
}
"""Stored record sizes, plus the originals of documents ingested without them."""

_S3_DATA = {
    "bool": {
        "should": [
            {"term": {"aws.cloudtrail.event_category": "Data"}},
            {"term": {"aws.cloudtrail.management_event": False}},
        ],
        "minimum_should_match": 1,
    }
}


@dataclass(frozen=True)
class SourceSpec:
    """A GuardDuty data source: where its events are, which ones, and its finding feature."""

    name: str
    index: str
    query: Mapping[str, Any]
    bytes: bool
    feature: str


SOURCES: tuple[SourceSpec, ...] = (
    SourceSpec(
        "CLOUD_TRAIL",
        "duskwatch-events-cloudtrail",
        {"bool": {"must_not": [_S3_DATA]}},
        False,
        "CloudTrail",
    ),
    SourceSpec("S3_LOGS", "duskwatch-events-cloudtrail", _S3_DATA, False, "S3DataEvents"),
    SourceSpec("FLOW_LOGS", "duskwatch-events-vpcflow", {"match_all": {}}, True, "FlowLogs"),
    SourceSpec("DNS_LOGS", "duskwatch-events-route53", {"match_all": {}}, True, "DnsLogs"),
    SourceSpec(
        "KUBERNETES_AUDIT_LOGS",
        "duskwatch-events-eks-audit",
        {"match_all": {}},
        False,
        "KubernetesAuditLogs",
    ),
)
"""GuardDuty's data source names (GetUsageStatistics ``dataSources``)."""

FEATURES = {spec.feature: spec.name for spec in SOURCES}


def _range(field: str, since: datetime | None, until: datetime | None) -> list[dict[str, Any]]:
    bounds = {"gte": since, "lt": until}
    given = {k: iso_timestamp(v) for k, v in bounds.items() if v is not None}
    return [{"range": {field: given}}] if given else []


def _composite(sources: list[dict[str, Any]], aggs: Mapping[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"composite": {"size": PAGE, "sources": sources}}
    return {**body, "aggs": dict(aggs)} if aggs else body


def _day(field: str) -> dict[str, Any]:
    histogram = {"field": field, "calendar_interval": "1d", "format": "yyyy-MM-dd"}
    return {"day": {"date_histogram": histogram}}


def _terms(name: str, field: str) -> dict[str, Any]:
    return {name: {"terms": {"field": field, "missing_bucket": True}}}


def _buckets(
    client: OpenSearch, index: str, query: Mapping[str, Any], agg: dict[str, Any]
) -> Iterator[dict[str, Any]]:
    """Every bucket of a composite aggregation, page after page."""
    after: dict[str, Any] | None = None
    while True:
        composite = {
            **agg,
            "composite": {**agg["composite"], **({"after": after} if after else {})},
        }
        body = {"size": 0, "query": query, "aggs": {"usage": composite}}
        result = client.search(index=index, body=body, ignore_unavailable=True)
        page = result.get("aggregations", {}).get("usage", {})
        yield from page.get("buckets", [])
        after = page.get("after_key")
        if not after or not page.get("buckets"):
            return


def event_rows(
    client: OpenSearch, since: datetime | None = None, until: datetime | None = None
) -> list[UsageRow]:
    """Events (and bytes for flow and DNS) per account, data source and day."""
    rows = []
    for spec in SOURCES:
        query = {"bool": {"filter": [spec.query, *_range("@timestamp", since, until)]}}
        metrics = BYTES_METRICS if spec.bytes else {}
        agg = _composite([_terms("account", "cloud.account.id"), _day("@timestamp")], metrics)
        for bucket in _buckets(client, spec.index, query, agg):
            key = bucket["key"]
            size = _bytes(bucket) if spec.bytes else None
            account = key["account"] or UNKNOWN_ACCOUNT
            rows.append(UsageRow(account, spec.name, key["day"], bucket["doc_count"], size))
    return rows


def _bytes(bucket: Mapping[str, Any]) -> int:
    measured = bucket["bytes"]["value"] or 0
    return int(measured + (bucket["unmeasured"]["bytes"]["value"] or 0))


def finding_counts(
    client: OpenSearch,
    since: datetime | None = None,
    until: datetime | None = None,
    index: str = FINDINGS_INDEX,
) -> dict[tuple[str, str, str], int]:
    """Findings created per (account, data source, day)."""
    query = {"bool": {"filter": _range("createdAt", since, until)}}
    sources = [
        _terms("account", "accountId"),
        _terms("feature", "service.featureName"),
        _day("createdAt"),
    ]
    counts: dict[tuple[str, str, str], int] = {}
    for bucket in _buckets(client, index, query, _composite(sources, {})):
        key = bucket["key"]
        source = FEATURES.get(key["feature"] or "", key["feature"] or "UNKNOWN")
        counts[(key["account"] or UNKNOWN_ACCOUNT, source, key["day"])] = bucket["doc_count"]
    return counts
