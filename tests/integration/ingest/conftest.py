"""Fixtures for ingest tests: a clean slate of event indices per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opensearchpy import OpenSearch

from exporter import config
from exporter.ingest.pipeline import DEADLETTER_INDEX, Ingestor
from exporter.ingest.summary import IngestSummary
from exporter.sources import files


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


def ingest_paths(
    client: OpenSearch, settings: config.Settings, *paths: str, log_type: str | None = None
) -> IngestSummary:
    """Run the real pipeline over files, as ``duskwatch ingest`` does."""
    ingestor = Ingestor(client, settings.ingest)
    for origin, data in files.read_files(files.expand(paths)):
        ingestor.ingest(origin, data, log_type)
    return ingestor.close()


def count(client: OpenSearch, index: str, query: dict[str, object] | None = None) -> int:
    """Documents in ``index`` (0 when it does not exist)."""
    body = {"query": query or {"match_all": {}}}
    result = client.count(index=index, body=body, ignore_unavailable=True, allow_no_indices=True)
    return int(result["count"])
