"""Small readers and builders for aggregation results, shared by the detectors.

Builders return DSL aggregations (``opensearchpy.helpers.aggs.A``); readers take the plain
dicts OpenSearch returns. Both are pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from opensearchpy.helpers.aggs import A, Agg

from exporter.detections.behaviour.model import Bucket

SAMPLE = "sample"
FIRST, LAST = "first_seen", "last_seen"


def latest_sample() -> Agg:
    """``top_hits``: the bucket's latest document (the finding's representative event)."""
    agg: Agg = A("top_hits", size=1, sort=[{"@timestamp": {"order": "desc"}}])
    return agg


def time_bounds() -> dict[str, Agg]:
    """``first_seen``/``last_seen``: min and max ``@timestamp`` of the bucket."""
    return {FIRST: A("min", field="@timestamp"), LAST: A("max", field="@timestamp")}


def with_evidence(agg: Agg) -> Agg:
    """``agg`` with a latest sample and the time bounds nested under it."""
    agg.bucket(SAMPLE, latest_sample())
    for name, bound in time_bounds().items():
        agg.metric(name, bound)
    return agg


def buckets(result: Bucket | None, name: str) -> list[Bucket]:
    """The buckets of the multi-bucket aggregation ``name`` (empty when absent)."""
    if not result or name not in result:
        return []
    found: list[Bucket] = result[name].get("buckets", [])
    return found


def keyed(result: Bucket | None, name: str) -> dict[str, Bucket]:
    """The buckets of ``name`` by key (as text)."""
    return {str(bucket["key"]): bucket for bucket in buckets(result, name)}


def value(result: Bucket, name: str, default: float = 0.0) -> float:
    """A metric aggregation's value (``default`` when absent or null)."""
    found = result.get(name, {}).get("value")
    return default if found is None else float(found)


def sample(result: Bucket, name: str = SAMPLE) -> dict[str, Any]:
    """The document of a :func:`latest_sample` aggregation."""
    hits = result[name]["hits"]["hits"]
    source: dict[str, Any] = dict(hits[0]["_source"]) if hits else {}
    return source


def moment(result: Bucket, name: str) -> datetime | None:
    """A min/max ``@timestamp`` metric as an aware datetime."""
    found = result.get(name, {}).get("value")
    return None if found is None else datetime.fromtimestamp(found / 1000, UTC)


def bounds(result: Bucket) -> tuple[datetime | None, datetime | None]:
    """(first seen, last seen) of a bucket built with :func:`with_evidence`."""
    return moment(result, FIRST), moment(result, LAST)


def span(results: Iterable[Bucket]) -> tuple[datetime | None, datetime | None]:
    """(earliest first seen, latest last seen) over several :func:`with_evidence` buckets."""
    seen = [bounds(result) for result in results]
    first = min((found[0] for found in seen if found[0]), default=None)
    last = max((found[1] for found in seen if found[1]), default=None)
    return first, last


def top_keys(result: Bucket, name: str, limit: int = 10) -> list[str]:
    """The keys of ``name``'s buckets (most documents first), at most ``limit``."""
    return [str(bucket["key"]) for bucket in buckets(result, name)[:limit]]


def counts(result: Bucket, name: str) -> Mapping[str, int]:
    """``{key: doc_count}`` of ``name``'s buckets."""
    return {str(bucket["key"]): int(bucket["doc_count"]) for bucket in buckets(result, name)}
