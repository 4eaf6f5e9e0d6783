"""The one way findings are written: suppress, upsert, then queue for export.

Every detection (signature rules, threat lists, behaviour detectors) hands its findings to a
:class:`FindingWriter`:

1. the :class:`Suppressor` marks findings that match a suppression rule (``ARCHIVE`` filter)
   with ``duskwatch.suppressed_by`` — the store then archives them;
2. the store merges them (:func:`exporter.findings.store.upsert`);
3. the created or updated findings that are not archived go to the :class:`Outbox`, and to
   the :class:`Responder` (opt-in remediation).

A suppressed finding therefore never enters the outbox nor triggers a response, and nothing
reaches a destination without having been stored first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from opensearchpy import OpenSearch

from exporter.findings.store import FINDINGS_INDEX, UpsertResult, get, upsert

Finding = Mapping[str, Any]


class Suppressor(Protocol):
    """Marks findings that a suppression rule archives."""

    def mark(self, findings: Sequence[dict[str, Any]]) -> None:
        """Set ``duskwatch.suppressed_by`` on every finding a suppression rule matches."""
        ...


class Outbox(Protocol):
    """Durable queue of what each destination still has to receive."""

    def enqueue(self, findings: Sequence[Finding], *, created: set[str]) -> None:
        """Queue stored findings (``created``: ids that are new, the others are updates)."""
        ...


class Responder(Protocol):
    """Acts on stored active findings (e.g. remediation)."""

    def handle(self, findings: Sequence[Finding]) -> object:
        """Respond to ``findings``."""
        ...


class FindingWriter:
    """Suppress, store, and queue findings for export (either step optional)."""

    def __init__(
        self,
        client: OpenSearch,
        index: str = FINDINGS_INDEX,
        *,
        suppressor: Suppressor | None = None,
        outbox: Outbox | None = None,
        responder: Responder | None = None,
    ) -> None:
        self.client = client
        self.index = index
        self.suppressor = suppressor
        self.outbox = outbox
        self.responder = responder

    def write(self, findings: Sequence[dict[str, Any]], *, refresh: bool = False) -> UpsertResult:
        """Write ``findings``; returns what the store created, updated or left alone."""
        if self.suppressor is not None and findings:
            self.suppressor.mark(findings)
        result = upsert(self.client, findings, self.index, refresh=refresh)
        changed = [*result.created, *result.updated]
        if (self.outbox is None and self.responder is None) or not changed:
            return result
        stored = get(self.client, changed, self.index, raw=True)
        active = [f for f in stored if not f.get("service", {}).get("archived")]
        if active and self.outbox is not None:
            self.outbox.enqueue(active, created=set(result.created))
        if active and self.responder is not None:
            self.responder.handle(active)
        return result
