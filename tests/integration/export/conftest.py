"""Fixtures of the export tests: recording HTTP servers, per-test outbox and findings indices."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from export_support import Receiver
from opensearchpy import OpenSearch


@pytest.fixture
def servers() -> Iterator[Callable[[], Receiver]]:
    """Starts recording servers on demand; stops them all after the test."""
    started: list[Receiver] = []

    def start() -> Receiver:
        server = Receiver()
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def outbox_index(client: OpenSearch) -> Iterator[str]:
    """An outbox index of this test only (the outbox template applies)."""
    name = f"duskwatch-outbox-test-{uuid.uuid4().hex}"
    client.indices.create(index=name)
    yield name
    client.indices.delete(index=name, ignore_unavailable=True)


@pytest.fixture
def findings_index(client: OpenSearch) -> Iterator[str]:
    """A findings index of this test only."""
    name = f"duskwatch-findings-test-{uuid.uuid4().hex}"
    client.indices.create(index=name)
    yield name
    client.indices.delete(index=name, ignore_unavailable=True)
