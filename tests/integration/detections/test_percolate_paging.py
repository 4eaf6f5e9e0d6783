"""All matches come back, however many stored queries match one batch."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from opensearchpy import OpenSearch

from exporter.detections.percolate import lean, percolate


@pytest.fixture
def rules_index(client: OpenSearch) -> Iterator[str]:
    name = f"duskwatch-rules-test-{uuid.uuid4().hex}"
    client.indices.create(index=name)
    yield name
    client.indices.delete(index=name)


def test_more_than_ten_matches_per_document(client: OpenSearch, rules_index: str) -> None:
    for n in range(15):
        client.index(
            index=rules_index,
            id=f"r{n}",
            body={
                "query": {"term": {"event.action": "StopLogging"}},
                "rule_id": f"r{n}",
                "log_types": ["cloudtrail"],
            },
        )
    client.index(
        index=rules_index,
        id="other",
        body={
            "query": {"term": {"event.action": "StartLogging"}},
            "rule_id": "other",
            "log_types": ["cloudtrail"],
        },
    )
    client.indices.refresh(index=rules_index)
    docs = [
        {"event": {"action": "StopLogging", "original": "x" * 1000}},
        {"event": {"action": "StartLogging"}},
        {"event": {"action": "StopLogging"}},
    ]
    matches = percolate(client, [rules_index], docs)
    by_slot = {slot: sorted(m.query_id for m in matches if m.slot == slot) for slot in range(3)}
    assert by_slot[0] == sorted(f"r{n}" for n in range(15))
    assert by_slot[1] == ["other"]
    assert by_slot[2] == by_slot[0]
    assert all("query" not in m.source for m in matches)


def test_a_full_page_splits_the_batch(client: OpenSearch, rules_index: str) -> None:
    for n in range(6):
        client.index(
            index=rules_index,
            id=f"ip{n}",
            body={"query": {"term": {"related.ip": f"198.51.100.{n}"}}, "rule_id": f"ip{n}"},
        )
    client.indices.refresh(index=rules_index)
    docs = [{"related": {"ip": [f"198.51.100.{n}"]}} for n in range(6)]
    matches = percolate(client, [rules_index], docs, page_size=2)
    assert sorted((m.slot, m.query_id) for m in matches) == [(n, f"ip{n}") for n in range(6)]


def test_query_filter_and_lean_documents(client: OpenSearch, rules_index: str) -> None:
    client.index(
        index=rules_index,
        id="dns",
        refresh=True,
        body={"query": {"exists": {"field": "event.action"}}, "log_types": ["route53"]},
    )
    docs = [{"event": {"action": "x"}}]
    assert (
        percolate(client, [rules_index], docs, query_filter={"term": {"log_types": "cloudtrail"}})
        == []
    )
    assert len(percolate(client, [rules_index], docs)) == 1
    assert lean({"event": {"original": "raw", "action": "a"}}) == {"event": {"action": "a"}}


def test_projection_keeps_what_queries_read() -> None:
    from exporter.detections.percolate import field_tree, project

    doc = {
        "event": {"action": "x", "original": "raw"},
        "kubernetes": {"audit": {"requestObject": {"subjects": [{"name": "a", "kind": "User"}]}}},
        "noise": 1,
    }
    fields = ["event.action", "kubernetes.audit.requestObject.subjects.name", "missing.field"]
    kept = project(doc, field_tree(fields))
    assert kept == {
        "event": {"action": "x"},
        "kubernetes": {"audit": {"requestObject": {"subjects": [{"name": "a", "kind": "User"}]}}},
    }
