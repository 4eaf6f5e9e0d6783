"""The ``duskwatch-remediation`` index: one record per action planned, taken or undone."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from opensearchpy import NotFoundError, OpenSearch

from exporter.errors import DuskwatchError, StoreError

REMEDIATION_INDEX = "duskwatch-remediation"


class Status(StrEnum):
    """Where a remediation record stands."""

    PLANNED = "planned"
    """Dry run: what would have been done."""
    EXECUTED = "executed"
    SKIPPED = "skipped"
    """The action could not apply to the finding (``error`` says why)."""
    FAILED = "failed"
    UNDONE = "undone"
    UNDO_FAILED = "undo_failed"


@dataclass
class Record:
    """One remediation run for one finding."""

    id: str
    key: str
    action: str
    status: Status
    dry_run: bool
    trigger: str
    finding_id: str
    finding_type: str
    account_id: str
    region: str | None
    severity: float
    created_at: str
    updated_at: str
    summary: str = ""
    error: str | None = None
    target: dict[str, Any] = field(default_factory=dict)
    undo: dict[str, Any] = field(default_factory=dict)
    undone_at: str | None = None

    def to_doc(self) -> dict[str, Any]:
        """The indexed document."""
        return {**dataclasses.asdict(self), "status": self.status.value}

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Record:
        """A record from its document."""
        names = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in doc.items() if k in names}
        return cls(**{**values, "status": Status(doc["status"])})


class RemediationLog:
    """Records in the remediation index (refreshed on write: the volume is small)."""

    def __init__(self, client: OpenSearch, index: str = REMEDIATION_INDEX) -> None:
        self.client = client
        self.index = index

    def save(self, record: Record) -> Record:
        """Write (or overwrite) ``record``."""
        self.client.index(index=self.index, id=record.id, body=record.to_doc(), refresh=True)
        return record

    def get(self, record_id: str) -> Record:
        """The record ``record_id``; DuskwatchError when there is none."""
        try:
            found = self.client.get(index=self.index, id=record_id)
        except NotFoundError:
            raise DuskwatchError(
                f"no remediation record {record_id!r}",
                hint="duskwatch remediation list shows the recorded actions",
            ) from None
        return Record.from_doc(found["_source"])

    def search(
        self,
        *,
        finding_id: str | None = None,
        key: str | None = None,
        statuses: tuple[Status, ...] = (),
        size: int = 50,
    ) -> list[Record]:
        """Records, newest first, filtered by finding, dedup key and status."""
        filters: list[dict[str, Any]] = [
            {"term": {name: value}}
            for name, value in (("finding_id", finding_id), ("key", key))
            if value is not None
        ]
        if statuses:
            filters.append({"terms": {"status": [s.value for s in statuses]}})
        body = {
            "size": size,
            "query": {"bool": {"filter": filters}},
            "sort": [{"created_at": "desc"}, {"id": "desc"}],
        }
        try:
            hits = self.client.search(index=self.index, body=body)["hits"]["hits"]
        except NotFoundError as exc:
            raise StoreError(
                f"index {self.index} does not exist", hint="run duskwatch bootstrap"
            ) from exc
        return [Record.from_doc(hit["_source"]) for hit in hits]
