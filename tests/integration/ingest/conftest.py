"""Helpers for ingest tests (the ``clean`` fixture is in tests/integration/conftest.py)."""

from __future__ import annotations

from opensearchpy import OpenSearch

from exporter import config
from exporter.ingest.pipeline import Ingestor
from exporter.ingest.summary import IngestSummary
from exporter.sources import files


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
