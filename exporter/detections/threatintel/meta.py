"""What a list is (its spec) and what is recorded about it (its metadata document).

PURE. The metadata lives in ``duskwatch-state``: ``kind`` (``threatlist``/``trustedlist``),
``key`` (the list name), ``updated_at`` (last refresh), ``etag`` (SHA-256 of the source
bytes) and ``size`` (entries) are mapped; the other fields stay in ``_source``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

from exporter.detections.threatintel.model import (
    EntryKind,
    ListFormat,
    ListKind,
    ParsedList,
)

Origin = Literal["user", "feed", "builtin"]
META_KINDS: Mapping[ListKind, str] = {"threat": "threatlist", "trusted": "trustedlist"}


def meta_kind(list_kind: ListKind) -> str:
    """The ``kind`` of the list's state document."""
    return META_KINDS[list_kind]


def meta_id(list_kind: ListKind, index: str, name: str) -> str:
    """The id of the list's state document (lists of test indices do not collide)."""
    return f"{meta_kind(list_kind)}:{index}:{name}"


@dataclass(frozen=True)
class ListSpec:
    """A list to load: name, kind, where it lives and how to read it."""

    name: str
    list_kind: ListKind
    location: str
    list_format: ListFormat | None = None
    kind: EntryKind = "auto"
    category: str | None = "custom"
    origin: Origin = "user"
    refresh_interval_s: int | None = None
    version: str | None = None


@dataclass(frozen=True)
class ListMeta:
    """The recorded state of one stored list."""

    name: str
    list_kind: ListKind
    index: str
    location: str
    list_format: ListFormat | None
    entry_kind: EntryKind
    category: str | None
    origin: Origin
    entries: int
    sha256: str
    added_at: str
    refreshed_at: str
    written_at: str
    errors: int = 0
    skipped: int = 0
    version: str | None = None
    refresh_interval_s: int | None = None

    @property
    def builtin(self) -> bool:
        """True for lists shipped with Duskwatch."""
        return self.origin == "builtin"

    @classmethod
    def new(
        cls,
        spec: ListSpec,
        index: str,
        parsed: ParsedList,
        sha256: str,
        now: str,
        generation: str,
        previous: ListMeta | None,
    ) -> ListMeta:
        """The metadata after writing ``parsed`` as ``spec``."""
        return cls(
            name=spec.name,
            list_kind=spec.list_kind,
            index=index,
            location=spec.location,
            list_format=spec.list_format,
            entry_kind=spec.kind,
            category=spec.category if spec.list_kind == "threat" else None,
            origin=spec.origin,
            entries=len(parsed.entries),
            sha256=sha256,
            added_at=previous.added_at if previous else now,
            refreshed_at=now,
            written_at=generation,
            errors=len(parsed.errors),
            skipped=parsed.skipped,
            version=spec.version,
            refresh_interval_s=spec.refresh_interval_s,
        )

    def spec(self) -> ListSpec:
        """The spec that re-reads this list."""
        return ListSpec(
            name=self.name,
            list_kind=self.list_kind,
            location=self.location,
            list_format=self.list_format,
            kind=self.entry_kind,
            category=self.category,
            origin=self.origin,
            refresh_interval_s=self.refresh_interval_s,
            version=self.version,
        )

    def to_source(self) -> dict[str, Any]:
        """The state document."""
        return {
            "kind": meta_kind(self.list_kind),
            "key": self.name,
            "updated_at": self.refreshed_at,
            "etag": self.sha256,
            "size": self.entries,
            **asdict(self),
            "builtin": self.builtin,
        }

    @classmethod
    def from_source(cls, source: Mapping[str, Any]) -> ListMeta:
        """The metadata a state document records."""
        names = cls.__dataclass_fields__
        fields = {k: v for k, v in source.items() if k in names}
        return cls(**fields)
