"""What every command receives: the settings, and a lazily built client."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from opensearchpy import OpenSearch

from exporter.config import Settings
from exporter.store.client import connect


@dataclass(frozen=True)
class Overrides:
    """Connection options given on the command line (None: not given)."""

    url: str | None = None
    username: str | None = None
    password: str | None = None
    ca_file: str | None = None
    verify_certs: bool | None = None
    aws_sigv4: bool | None = None
    aws_region: str | None = None

    def apply(self, settings: Settings) -> Settings:
        """``settings`` with every given option replacing its opensearch value."""
        given = {k: v for k, v in self.__dict__.items() if v is not None}
        return replace(settings, opensearch=replace(settings.opensearch, **given))


@dataclass
class AppContext:
    """Per-invocation state shared by commands."""

    settings: Settings
    _client: OpenSearch | None = field(default=None, repr=False)

    def client(self, **overrides: Any) -> OpenSearch:
        """The OpenSearch client for the configured cluster."""
        if self._client is None or overrides:
            client = connect(self.settings.opensearch, **overrides)
            if overrides:
                return client
            self._client = client
        return self._client
