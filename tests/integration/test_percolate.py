"""A percolate round trip on the real node: stored queries matched against documents."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opensearchpy import OpenSearch

INDEX = "duskwatch-test-percolate"


@pytest.fixture
def percolator_index(client: OpenSearch) -> Iterator[str]:
    client.indices.create(
        index=INDEX,
        body={
            "mappings": {
                "properties": {
                    "query": {"type": "percolator"},
                    "related": {"properties": {"ip": {"type": "ip"}}},
                    "dns": {
                        "properties": {"question": {"properties": {"name": {"type": "keyword"}}}}
                    },
                    "duskwatch": {
                        "properties": {
                            "dns": {"properties": {"parent_domains": {"type": "keyword"}}}
                        }
                    },
                }
            }
        },
    )
    yield INDEX
    client.indices.delete(index=INDEX)


def test_percolate_ips_cidrs_and_parent_domains(client: OpenSearch, percolator_index: str) -> None:
    queries = {
        "ip": {"term": {"related.ip": "203.0.113.45"}},
        "cidr": {"term": {"related.ip": "198.51.100.0/24"}},
        "domain": {"term": {"duskwatch.dns.parent_domains": "evil.example"}},
    }
    for name, query in queries.items():
        client.index(index=percolator_index, id=name, body={"query": query})
    client.indices.refresh(index=percolator_index)
    documents = [
        {"related": {"ip": ["10.0.0.1", "203.0.113.45"]}},
        {"related": {"ip": ["198.51.100.200"]}},
        {
            "duskwatch": {
                "dns": {"parent_domains": ["a.b.evil.example", "b.evil.example", "evil.example"]}
            }
        },
        {"related": {"ip": ["192.0.2.1"]}},
    ]
    found = client.search(
        index=percolator_index,
        body={"size": 100, "query": {"percolate": {"field": "query", "documents": documents}}},
    )
    slots = {
        hit["_id"]: hit["fields"]["_percolator_document_slot"] for hit in found["hits"]["hits"]
    }
    assert slots == {"ip": [0], "cidr": [1], "domain": [2]}
