"""A visualization's aggregation as the OpenSearch search Dashboards would send.

Bucket aggregations nest in the order of ``visState.aggs`` and every metric is attached at
each bucket level (so a terms bucket can be ordered by one); the query is the saved
Lucene query; a field the index pattern defines by script is aggregated by its script.
Dashboards' ``auto`` date interval becomes :data:`AUTO_INTERVAL`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from exporter.dashboards.objects import SavedObject

AUTO_INTERVAL = "3h"
CALENDAR_INTERVALS = {"m": "1m", "h": "1h", "d": "1d", "w": "1w", "M": "1M", "y": "1y"}
"""Dashboards' interval codes that are calendar units."""

Agg = Mapping[str, Any]
Scripts = Mapping[str, Mapping[str, Any]]
Translator = Callable[[Agg, Scripts], dict[str, Any]]


def field_source(field: str, scripts: Scripts) -> dict[str, Any]:
    """``{"field": f}``, or ``{"script": ...}`` when ``f`` is a scripted field."""
    script = scripts.get(field)
    if script is None:
        return {"field": field}
    return {"script": {"source": script["script"], "lang": script.get("lang", "painless")}}


def _terms(agg: Agg, scripts: Scripts) -> dict[str, Any]:
    params = agg["params"]
    order_by = params.get("orderBy", "_count")
    key = "_key" if order_by == "_key" else order_by
    body = {**field_source(params["field"], scripts), "size": params.get("size", 5)}
    return {"terms": {**body, "order": {key: params.get("order", "desc")}}}


def _date_histogram(agg: Agg, scripts: Scripts) -> dict[str, Any]:
    params = agg["params"]
    body = {
        **field_source(params["field"], scripts),
        **_spacing(str(params.get("interval", "auto"))),
    }
    return {"date_histogram": {**body, "min_doc_count": 1}}


def _spacing(interval: str) -> dict[str, str]:
    if interval in CALENDAR_INTERVALS:
        return {"calendar_interval": CALENDAR_INTERVALS[interval]}
    return {"fixed_interval": AUTO_INTERVAL if interval == "auto" else interval}


def _filters(agg: Agg, _scripts: Scripts) -> dict[str, Any]:
    filters = {
        item.get("label") or item["input"]["query"]: lucene(item["input"]["query"])
        for item in agg["params"]["filters"]
    }
    return {"filters": {"filters": filters}}


def _range(agg: Agg, scripts: Scripts) -> dict[str, Any]:
    params = agg["params"]
    ranges = [{k: v for k, v in r.items() if k in ("from", "to")} for r in params["ranges"]]
    return {"range": {**field_source(params["field"], scripts), "ranges": ranges, "keyed": True}}


def _histogram(agg: Agg, scripts: Scripts) -> dict[str, Any]:
    params = agg["params"]
    body = {**field_source(params["field"], scripts), "interval": params["interval"]}
    return {"histogram": {**body, "min_doc_count": 1}}


def _metric(kind: str) -> Translator:
    def translate(agg: Agg, scripts: Scripts) -> dict[str, Any]:
        return {kind: field_source(agg["params"]["field"], scripts)}

    return translate


BUCKETS: dict[str, Translator] = {
    "terms": _terms,
    "date_histogram": _date_histogram,
    "filters": _filters,
    "range": _range,
    "histogram": _histogram,
}
METRICS: dict[str, Translator | None] = {
    "count": None,
    **{kind: _metric(kind) for kind in ("sum", "avg", "max", "min", "cardinality")},
}
"""Supported aggregation types; ``count`` is every bucket's doc_count (no aggregation)."""


def lucene(query: str) -> dict[str, Any]:
    """A Lucene query string as a query; empty means everything."""
    if not query.strip():
        return {"match_all": {}}
    return {"query_string": {"query": query, "analyze_wildcard": True}}


def enabled_aggs(vis: SavedObject) -> list[Agg]:
    """The visualization's enabled aggregations, in order."""
    return [a for a in vis.decoded("visState")["aggs"] if a.get("enabled", True)]


def scripted_fields(index_pattern: SavedObject) -> dict[str, Mapping[str, Any]]:
    """The index pattern's scripted fields by name."""
    fields = index_pattern.decoded("fields") or []
    return {f["name"]: f for f in fields if f.get("scripted")}


def _count_order(agg: Agg, counts: set[str]) -> Agg:
    """Ordering by a count metric is ordering by ``_count`` (it is no aggregation)."""
    if agg.get("params", {}).get("orderBy") not in counts:
        return agg
    return {**agg, "params": {**agg["params"], "orderBy": "_count"}}


def search_body(vis: SavedObject, index_pattern: SavedObject) -> dict[str, Any]:
    """The search body (size 0) that computes the visualization's aggregation."""
    scripts = scripted_fields(index_pattern)
    counts = {a["id"] for a in enabled_aggs(vis) if a["type"] == "count"}
    aggs = [_count_order(a, counts) for a in enabled_aggs(vis)]
    metrics = {
        a["id"]: translate(a, scripts)
        for a in aggs
        if (translate := METRICS.get(a["type"])) is not None
    }
    nested: dict[str, Any] = {}
    for agg in reversed([a for a in aggs if a["type"] in BUCKETS]):
        level = BUCKETS[agg["type"]](agg, scripts)
        children = {**metrics, **nested}
        if children:
            level["aggs"] = children
        nested = {agg["id"]: level}
    source = vis.decoded("kibanaSavedObjectMeta.searchSourceJSON") or {}
    query = lucene(str(source.get("query", {}).get("query", "")))
    return {"size": 0, "track_total_hits": True, "query": query, "aggs": nested or metrics}


def top_buckets(response: Mapping[str, Any], vis: SavedObject) -> int:
    """Buckets with documents at the top level (or the hit count when there is no bucket)."""
    buckets = [a for a in enabled_aggs(vis) if a["type"] in BUCKETS]
    if not buckets:
        return int(response["hits"]["total"]["value"])
    found = response["aggregations"][buckets[0]["id"]]["buckets"]
    values = found.values() if isinstance(found, dict) else found
    return sum(1 for b in values if b["doc_count"] > 0)
