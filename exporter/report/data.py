"""What the report shows, read from the findings index."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from opensearchpy import OpenSearch

from exporter.findings import store
from exporter.findings.severity import BANDS, Label
from exporter.normalize.ecs import iso_timestamp

TOP = 15
TABLE_SIZE = 200
RESOURCE_FIELDS = (
    "resource.instanceDetails.instanceId",
    "resource.accessKeyDetails.userName",
    "resource.s3BucketDetails.name",
    "resource.eksClusterDetails.name",
)
"""Where a finding names its resource, by resource type; the first present wins."""
HIGH_FLOOR = next(band.lower for band in BANDS if band.label is Label.HIGH)


@dataclass(frozen=True)
class ReportData:
    """Findings counts for the charts and the High/Critical findings for the table."""

    since: datetime | None
    total: int
    days: list[str]
    by_severity_day: dict[str, list[int]]
    by_type: list[tuple[str, int]]
    by_account: list[tuple[str, int]]
    top_resources: list[tuple[str, int]]
    high: list[dict[str, Any]]


def first_present_script(fields: tuple[str, ...]) -> str:
    """Painless returning the first of ``fields`` with a value (null when none has one)."""
    checks = [f"if (doc['{f}'].size() > 0) {{ return doc['{f}'].value; }}" for f in fields]
    return " ".join(checks) + " return null;"


def _aggs() -> dict[str, Any]:
    ranges = [{"key": b.label.value, "from": b.lower, "to": b.upper} for b in BANDS]
    day = {"field": "updatedAt", "calendar_interval": "1d", "format": "yyyy-MM-dd"}
    resource = {"source": first_present_script(RESOURCE_FIELDS), "lang": "painless"}
    return {
        "days": {
            "date_histogram": {**day, "min_doc_count": 1},
            "aggs": {"severity": {"range": {"field": "severity", "ranges": ranges, "keyed": True}}},
        },
        "types": {"terms": {"field": "type", "size": TOP}},
        "accounts": {"terms": {"field": "accountId", "size": TOP}},
        "resources": {"terms": {"script": resource, "size": TOP}},
    }


def _pairs(agg: dict[str, Any]) -> list[tuple[str, int]]:
    return [(str(b["key"]), int(b["doc_count"])) for b in agg["buckets"]]


def collect(
    client: OpenSearch, since: datetime | None = None, index: str = store.FINDINGS_INDEX
) -> ReportData:
    """The report's figures: active and archived findings updated since ``since``."""
    window = [{"range": {"updatedAt": {"gte": iso_timestamp(since)}}}] if since else []
    body = {"size": 0, "track_total_hits": True, "query": {"bool": {"filter": window}}}
    result = client.search(index=index, body={**body, "aggs": _aggs()})
    aggs = result["aggregations"]
    days = [b["key_as_string"] for b in aggs["days"]["buckets"]]
    by_severity_day = {
        band.label.value: [
            int(b["severity"]["buckets"][band.label.value]["doc_count"])
            for b in aggs["days"]["buckets"]
        ]
        for band in BANDS
    }
    high = store.search(
        client, min_severity=HIGH_FLOOR, since=since, size=TABLE_SIZE, sort="-severity", index=index
    )
    return ReportData(
        since,
        int(result["hits"]["total"]["value"]),
        days,
        by_severity_day,
        _pairs(aggs["types"]),
        _pairs(aggs["accounts"]),
        _pairs(aggs["resources"]),
        high,
    )
