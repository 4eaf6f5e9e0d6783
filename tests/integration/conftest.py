"""Fixtures shared by integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opensearchpy import OpenSearch

from exporter.ingest.pipeline import DEADLETTER_INDEX
from exporter.store.indices import EVENT_INDICES, delete_matching


@pytest.fixture
def clean(client: OpenSearch) -> Iterator[OpenSearch]:
    """Deletes every events index and empties the dead letters before and after the test."""

    def wipe() -> None:
        delete_matching(client, EVENT_INDICES)
        client.delete_by_query(
            index=DEADLETTER_INDEX,
            body={"query": {"match_all": {}}},
            refresh=True,
            conflicts="proceed",
        )

    wipe()
    yield client
    wipe()
