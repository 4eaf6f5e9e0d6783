"""Fixtures shared by integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opensearchpy import OpenSearch

from exporter.ingest.pipeline import DEADLETTER_INDEX


@pytest.fixture
def clean(client: OpenSearch) -> Iterator[OpenSearch]:
    """Deletes every events index and empties the dead letters before and after the test."""

    def wipe() -> None:
        names = list(client.indices.get(index="duskwatch-events-*-*", allow_no_indices=True))
        for start in range(0, len(names), 40):  # no wildcard deletes on this node
            client.indices.delete(index=",".join(names[start : start + 40]))
        client.delete_by_query(
            index=DEADLETTER_INDEX,
            body={"query": {"match_all": {}}},
            refresh=True,
            conflicts="proceed",
        )

    wipe()
    yield client
    wipe()
