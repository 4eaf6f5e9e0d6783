"""Plain types shared by the threat-intel modules: entries, parse results, limits, hits.

PURE: no I/O. A *list* is a named set of entries of one kind (``threat`` or ``trusted``); each
threat list has a *category* (what its entries are known for) that picks the finding types.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from exporter.errors import DuskwatchError

if TYPE_CHECKING:
    from exporter.config import IntelSettings

IndicatorType = Literal["ip", "cidr", "domain"]
ListKind = Literal["threat", "trusted"]
EntryKind = Literal["auto", "ip", "domain"]
ListFormat = Literal["txt", "stix", "otx-csv", "csv"]

LIST_KINDS: tuple[ListKind, ...] = ("threat", "trusted")
ENTRY_KINDS: tuple[EntryKind, ...] = ("auto", "ip", "domain")
LIST_FORMATS: tuple[ListFormat, ...] = ("txt", "stix", "otx-csv", "csv")

#: Threat list categories and what they stand for (the finding types: ``resolution.py``).
CATEGORIES: Mapping[str, str] = {
    "custom": "custom threat list",
    "tor": "Tor exit node list",
    "c2": "command-and-control list",
    "cryptomining": "cryptocurrency mining list",
    "malicious": "malicious reputation list",
    "cryptocurrency": "cryptocurrency reputation list",
    "abused": "abused domain list",
    "suspicious": "suspicious domain list",
    "droppoint": "drop point list",
    "blackhole": "black hole list",
    "phishing": "phishing domain list",
    "driveby": "drive-by download list",
    "dga": "DGA domain list",
}

MEBIBYTE = 1024 * 1024


class ThreatListError(DuskwatchError):
    """A threat or trusted list cannot be read, parsed or stored as asked."""


class ListLimitError(ThreatListError):
    """A list (or the number of lists) exceeds a configured limit."""


@dataclass(frozen=True)
class Entry:
    """One normalized indicator; ``category`` overrides the list's for this entry."""

    indicator: str
    indicator_type: IndicatorType
    category: str | None = None
    threat_name: str | None = None


@dataclass(frozen=True)
class ListError:
    """A bad line (1-based; 0 = the whole file) and why it was skipped."""

    line: int
    value: str
    reason: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "file"
        what = f" {self.value[:80]!r}:" if self.value else ""
        return f"{where}:{what} {self.reason}"


@dataclass(frozen=True)
class ParsedList:
    """What a list file holds: distinct entries in file order, bad lines, skipped items."""

    entries: tuple[Entry, ...]
    errors: tuple[ListError, ...] = ()
    skipped: int = 0


@dataclass(frozen=True)
class Limits:
    """Quotas, GuardDuty's by default (per account and Region there; per index here)."""

    threat_entries: int = 250_000
    threat_lists: int = 6
    trusted_entries: int = 2_000
    trusted_lists: int = 1
    max_bytes: int = 35 * MEBIBYTE

    def entries(self, kind: ListKind) -> int:
        """The entry limit of one list of ``kind``."""
        return self.threat_entries if kind == "threat" else self.trusted_entries

    def lists(self, kind: ListKind) -> int:
        """How many user lists of ``kind`` may exist."""
        return self.threat_lists if kind == "threat" else self.trusted_lists


def configured_limits(intel: IntelSettings) -> Limits:
    """The quotas of the ``intel`` settings (``max_threat_lists`` and the entry limits)."""
    return Limits(
        threat_entries=intel.max_threat_entries,
        threat_lists=intel.max_threat_lists,
        trusted_entries=intel.max_trusted_entries,
    )


@dataclass(frozen=True)
class IntelHit:
    """One stored entry that matched an event (a percolator hit)."""

    list_name: str
    list_kind: ListKind
    category: str
    indicator: str
    indicator_type: IndicatorType
    threat_name: str | None = None

    @classmethod
    def from_source(cls, source: Mapping[str, Any]) -> IntelHit:
        """The hit described by a percolator document's ``_source``."""
        kind = source.get("list_kind")
        return cls(
            list_name=str(source["list_name"]),
            list_kind="trusted" if kind == "trusted" else "threat",
            category=str(source.get("category") or "custom"),
            indicator=str(source["indicator"]),
            indicator_type=_indicator_type(source.get("indicator_type")),
            threat_name=source.get("threat_name") or None,
        )


def _indicator_type(value: object) -> IndicatorType:
    if value == "domain":
        return "domain"
    return "cidr" if value == "cidr" else "ip"
