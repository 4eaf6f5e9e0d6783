"""The shipped alerting monitors are well-formed Alerting API bodies on real findings fields."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from exporter.store.monitors import load, monitor_files

MAPPINGS = Path(__file__).resolve().parents[3] / "mappings"
TRIGGER_KEY = {
    "query_level_monitor": "query_level_trigger",
    "bucket_level_monitor": "bucket_level_trigger",
    "doc_level_monitor": "document_level_trigger",
}
FILES = monitor_files(MAPPINGS)
CLAUSES = ("term", "terms", "range", "match", "match_phrase")


def findings_fields() -> set[str]:
    template = json.loads((MAPPINGS / "index_templates" / "duskwatch-findings.json").read_text())

    def walk(properties: dict[str, Any], prefix: str) -> Iterator[str]:
        for name, spec in properties.items():
            yield prefix + name
            yield from walk(spec.get("properties", {}), f"{prefix}{name}.")

    return set(walk(template["template"]["mappings"]["properties"], ""))


def referenced(node: Any) -> Iterator[str]:
    """Field names a search body queries, sorts or aggregates on (``_source`` is not checked:
    unindexed fields are returned too)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in CLAUSES and isinstance(value, dict):
                yield from [value["field"]] if "field" in value else value
            elif key == "field" and isinstance(value, str):
                yield value
            elif key == "sort" and isinstance(value, list):
                yield from (next(iter(item)) for item in value if isinstance(item, dict))
            else:
                yield from referenced(value)
    elif isinstance(node, list):
        for item in node:
            yield from referenced(item)


def monitors() -> list[dict[str, Any]]:
    return [load(path) for path in FILES]


def test_the_three_monitor_kinds_ship() -> None:
    kinds = sorted(m["monitor_type"] for m in monitors())
    assert kinds == ["bucket_level_monitor", "doc_level_monitor", "query_level_monitor"]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_monitor_body_shape(path: Path) -> None:
    monitor = load(path)
    assert monitor["type"] == "monitor"
    assert monitor["name"] == path.stem
    assert isinstance(monitor["enabled"], bool)
    period = monitor["schedule"]["period"]
    assert period["interval"] > 0
    assert period["unit"] in {"MINUTES", "HOURS", "DAYS"}
    assert len(monitor["inputs"]) == 1
    assert monitor["triggers"]
    for wrapped in monitor["triggers"]:
        assert list(wrapped) == [TRIGGER_KEY[monitor["monitor_type"]]]
        trigger = next(iter(wrapped.values()))
        assert trigger["name"]
        assert trigger["severity"] in {"1", "2", "3", "4", "5"}
        assert trigger["condition"]["script"]["lang"] == "painless"
        assert trigger["condition"]["script"]["source"]
        assert trigger["actions"] == []


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_fields_exist_in_findings_index(path: Path) -> None:
    monitor = load(path)
    known = findings_fields()
    [given] = monitor["inputs"]
    if "search" in given:
        assert given["search"]["indices"] == ["duskwatch-findings"]
        fields = set(referenced(given["search"]["query"]))
    else:
        doc = given["doc_level_input"]
        assert doc["indices"] == ["duskwatch-findings"]
        fields = {
            f for q in doc["queries"] for f in re.findall(r"([A-Za-z_@][\w.@]*):", q["query"])
        }
    assert fields
    assert fields <= known, sorted(fields - known)


def _input_query(name: str) -> dict[str, Any]:
    monitor = next(m for m in monitors() if m["name"] == name)
    query: dict[str, Any] = monitor["inputs"][0]["search"]["query"]
    return query


def test_query_level_selects_new_active_high_findings() -> None:
    query = _input_query("duskwatch-high-severity-findings")
    filters = query["query"]["bool"]["filter"]
    assert {"range": {"severity": {"gte": 7}}} in filters
    assert {"term": {"service.archived": False}} in filters
    [window] = [f["range"]["updatedAt"] for f in filters if "updatedAt" in f.get("range", {})]
    assert window["lte"] == "{{period_end}}"
    assert window["gt"].startswith("{{period_end}}||-")


def test_bucket_level_groups_per_account_and_type() -> None:
    monitor = next(m for m in monitors() if m["monitor_type"] == "bucket_level_monitor")
    query = monitor["inputs"][0]["search"]["query"]
    trigger = monitor["triggers"][0]["bucket_level_trigger"]
    parent = trigger["condition"]["parent_bucket_path"]
    composite = query["aggregations"][parent]["composite"]
    sources = [next(iter(s.values()))["terms"]["field"] for s in composite["sources"]]
    assert sources == ["accountId", "type"]
    assert trigger["condition"]["buckets_path"]
    assert {"term": {"service.archived": False}} in query["query"]["bool"]["filter"]


def test_document_level_trigger_names_existing_tags() -> None:
    monitor = next(m for m in monitors() if m["monitor_type"] == "doc_level_monitor")
    queries = monitor["inputs"][0]["doc_level_input"]["queries"]
    tags = {tag for q in queries for tag in q["tags"]}
    assert all({"id", "name", "query", "tags"} <= set(q) for q in queries)
    assert all("service.archived:false" in q["query"] for q in queries)
    source = monitor["triggers"][0]["document_level_trigger"]["condition"]["script"]["source"]
    assert set(re.findall(r"query\[tag=([\w-]+)\]", source)) <= tags
