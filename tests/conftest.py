"""Shared fixtures. Integration tests use ONE real OpenSearch node for the whole session.

The node is the project's own (``duskwatch server start``): started here when it is not
already running. When it cannot start, every integration test errors — in CI a missing
server fails the run, it never skips.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from opensearchpy import OpenSearch
from shared_dir import SHARED

from exporter import config
from exporter.server import node
from exporter.store.bootstrap import bootstrap
from exporter.store.client import connect

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = SHARED / "data"

hypothesis_settings.register_profile("duskwatch", deadline=None)
hypothesis_settings.load_profile("duskwatch")
"""Property tests check behaviour, not speed (that is for bench/): no per-example deadline,
so a busy machine cannot fail them."""


@pytest.fixture(scope="session")
def settings() -> config.Settings:
    """Settings from the environment (DUSKWATCH_*), defaults otherwise."""
    return config.load(env={k: v for k, v in os.environ.items() if k != config.CONFIG_ENV})


@pytest.fixture(scope="session")
def opensearch_url(settings: config.Settings) -> str:
    """The URL of the real node; starts the project's node when nothing answers."""
    url = settings.opensearch.url
    if not node.is_ready(url):
        node.start(settings.server)
    return url


@pytest.fixture(scope="session")
def client(settings: config.Settings, opensearch_url: str) -> Iterator[OpenSearch]:
    """A client of the session's node, with Duskwatch's templates installed."""
    os_client = connect(settings.opensearch)
    bootstrap(os_client)
    yield os_client
    os_client.close()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The public sample logs beside the project (../shared/data)."""
    assert SHARED_DATA.is_dir(), f"sample data missing at {SHARED_DATA}"
    return SHARED_DATA


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/integration is an integration test."""
    for item in items:
        if "integration" in item.path.parts:
            item.add_marker(pytest.mark.integration)
