"""Matching on ingest: newly created event documents → percolator hits → findings.

The ingest pipeline hands every batch of *newly created* documents (never duplicates) to a
:class:`Matcher`. One multi-document percolate request per batch finds every signature rule
and every threat / trusted list entry that matches; trusted entries silence the threat hits
and the rule hits of CloudTrail and flow events from the same address (trusted wins, as in
GuardDuty); the remaining hits become GuardDuty findings, aggregated within the batch and
upserted (a repeat of the same activity updates the existing finding). At most
``concurrency`` percolate requests run at once, so detection never floods the cluster.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import orjson
from opensearchpy import OpenSearch

from exporter.detections.percolate import Match, field_tree, percolate, project
from exporter.detections.rules.compile import RULES_INDEX
from exporter.detections.rules.finding import rule_finding
from exporter.detections.rules.model import Rule
from exporter.detections.rules.query import query_fields
from exporter.detections.threatintel.findings import intel_findings
from exporter.detections.threatintel.model import IntelHit
from exporter.detections.threatintel.queries import (
    DOMAIN_FIELD,
    IP_FIELD,
    THREATINTEL_INDEX,
    percolatable,
)
from exporter.findings.build import build_finding
from exporter.findings.spec import FindingSpec
from exporter.findings.store import FINDINGS_INDEX
from exporter.findings.writer import FindingWriter
from exporter.ingest.bulk import Action
from exporter.logtypes import LogType

TRUSTED_SILENCES = frozenset({"cloudtrail", "vpcflow"})
INTEL_FIELDS = frozenset({IP_FIELD, DOMAIN_FIELD})
INTEL_TREE = field_tree(INTEL_FIELDS)
PREFIX_KINDS_TTL = 10.0
"""Seconds before a new list's network lengths are picked up by a running ingest."""

log = logging.getLogger(__name__)


@dataclass
class MatchStats:
    """What matching did over a run."""

    documents: int = 0
    rule_hits: int = 0
    intel_hits: int = 0
    silenced: int = 0
    findings: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def to_dict(self) -> dict[str, int]:
        """The counters, for ``--json`` output."""
        names = ("documents", "rule_hits", "intel_hits", "silenced", "findings")
        return {name: getattr(self, name) for name in names}

    def add(self, **counts: int) -> None:
        """Add to the counters (thread-safe)."""
        with self._lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)


@dataclass(frozen=True)
class Indices:
    """Where rules, list entries and findings live."""

    rules: str = RULES_INDEX
    intel: str = THREATINTEL_INDEX
    findings: str = FINDINGS_INDEX


class Matcher:
    """A ``created`` callback for :class:`exporter.ingest.pipeline.Ingestor`."""

    def __init__(
        self,
        client: OpenSearch,
        rules: Iterable[Rule],
        *,
        detector_id: str,
        indices: Indices = Indices(),
        concurrency: int = 1,
        writer: FindingWriter | None = None,
    ) -> None:
        self._client = client
        self._rules = {rule.id: rule for rule in rules}
        self._fields = _fields_by_log_type(self._rules.values())
        self._detector_id = detector_id
        self._indices = indices
        self._writer = writer or FindingWriter(client, indices.findings)
        self._slots = threading.BoundedSemaphore(concurrency)
        self._kinds: tuple[float, frozenset[str]] | None = None
        self.stats = MatchStats()

    def __call__(self, kind: LogType, created: list[Action]) -> list[str]:
        """Percolate newly created documents of ``kind``, upsert their findings, return the ids."""
        events = [action.document or orjson.loads(action.source) for action in created]
        fields = self._fields.get(kind.name, INTEL_TREE)
        kinds = self._prefix_kinds()
        lean = [project(percolatable(event, kinds), fields) for event in events]
        slots = [slot for slot, doc in enumerate(lean) if doc]  # nothing to match: skipped
        with self._slots:
            matches = [
                replace(match, slot=slots[match.slot])
                for match in percolate(
                    self._client,
                    [self._indices.rules, self._indices.intel],
                    [lean[slot] for slot in slots],
                    query_filter=_for_log_type(kind.name),
                )
            ]
            findings = self.findings(kind.name, events, [a.doc_id for a in created], matches)
            if findings:
                self._writer.write(findings)
        self.stats.add(documents=len(events), findings=len(findings))
        return [finding["id"] for finding in findings]

    def _prefix_kinds(self) -> frozenset[str]:
        """The network lengths stored IP entries have (``v4/32``, ``v4/24`` ...), refreshed
        every few seconds: events carry only those prefixes, so the percolator indexes a few
        terms per address instead of 33 (129 for IPv6)."""
        now = time.monotonic()
        if self._kinds is None or now - self._kinds[0] > PREFIX_KINDS_TTL:
            body = {"size": 0, "aggs": {"kinds": {"terms": {"field": "prefix", "size": 300}}}}
            response = self._client.search(index=self._indices.intel, body=body)
            buckets = response["aggregations"]["kinds"]["buckets"]
            self._kinds = (now, frozenset(str(b["key"]) for b in buckets))
        return self._kinds[1]

    def findings(
        self,
        log_type: str,
        events: Sequence[Mapping[str, Any]],
        doc_ids: Sequence[str],
        matches: Sequence[Match],
    ) -> list[dict[str, Any]]:
        """The findings ``matches`` make, one per finding id (occurrences merged)."""
        now = datetime.now(UTC)
        by_slot: dict[int, list[Match]] = defaultdict(list)
        for match in matches:
            by_slot[match.slot].append(match)
        merged: dict[str, dict[str, Any]] = {}
        for slot, hits in sorted(by_slot.items()):
            for spec in self._specs(log_type, events[slot], hits):
                finding = build_finding(
                    spec,
                    events[slot],
                    log_type=log_type,
                    now=now,
                    detector_id=self._detector_id,
                    occurrence=doc_ids[slot],
                )
                _merge(merged, finding)
        return list(merged.values())

    def _specs(
        self, log_type: str, event: Mapping[str, Any], hits: Sequence[Match]
    ) -> list[FindingSpec]:
        intel = [
            IntelHit.from_source(m.source) for m in hits if m.index.startswith(self._indices.intel)
        ]
        rules = [
            self._rules[str(m.source.get("rule_id"))]
            for m in hits
            if not m.index.startswith(self._indices.intel)
            and str(m.source.get("rule_id")) in self._rules
        ]
        trusted = any(hit.list_kind == "trusted" for hit in intel)
        silenced = trusted and log_type in TRUSTED_SILENCES
        self.stats.add(rule_hits=len(rules), intel_hits=len(intel), silenced=len(rules) * silenced)
        specs = [] if silenced else [rule_finding(rule, event) for rule in rules]
        return specs + intel_findings(event, log_type, intel)


def _fields_by_log_type(rules: Iterable[Rule]) -> dict[str, dict[str, Any]]:
    """Every field a stored query may read, per log type (the rules' plus the lists'), as a
    tree for :func:`~exporter.detections.percolate.project`."""
    fields: dict[str, set[str]] = defaultdict(lambda: set(INTEL_FIELDS))
    for rule in rules:
        for log_type in rule.log_types:
            fields[log_type] |= query_fields(rule.query)
    return {log_type: field_tree(names) for log_type, names in fields.items()}


def _for_log_type(log_type: str) -> dict[str, Any]:
    """Rules for this log type, and every list entry (entries carry no ``log_types``)."""
    return {
        "bool": {
            "should": [
                {"term": {"log_types": log_type}},
                {"bool": {"must_not": {"exists": {"field": "log_types"}}}},
            ],
            "minimum_should_match": 1,
        }
    }


def _merge(merged: dict[str, dict[str, Any]], finding: dict[str, Any]) -> None:
    """Fold a repeat of the same finding within one batch: counts add up, first-seen is the
    earliest, and the latest occurrence's details (resource, action, evidence) win, as the
    store does across batches."""
    first = merged.get(finding["id"])
    if first is None:
        merged[finding["id"]] = finding
        return
    older, newer = sorted((first, finding), key=lambda f: f["service"]["eventLastSeen"] or "")
    newer["service"]["count"] = first["service"]["count"] + finding["service"]["count"]
    seen = [
        f["service"]["eventFirstSeen"] for f in (first, finding) if f["service"]["eventFirstSeen"]
    ]
    newer["service"]["eventFirstSeen"] = min(seen) if seen else None
    occurrences = [
        *older.get("duskwatch", {}).get("occurrences", []),
        *newer.get("duskwatch", {}).get("occurrences", []),
    ]
    if occurrences:
        newer.setdefault("duskwatch", {})["occurrences"] = occurrences
    merged[finding["id"]] = newer
