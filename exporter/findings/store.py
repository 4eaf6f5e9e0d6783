"""The findings index: atomic upserts of dynamic findings, lookups, archive state, statistics.

A finding whose id already exists is merged by a painless script on the shard (an atomic
read-modify-write per document; ``retry_on_conflict`` covers concurrent writers):

- ``service.count`` += the incoming count; ``eventFirstSeen`` = min, ``eventLastSeen`` = max;
- the latest occurrence (``eventLastSeen`` not older than the stored one) replaces the
  variable details: ``service.action``, ``additionalInfo``, ``evidence``, ``resource``,
  ``title``, ``description``, ``rule``, ``threat``;
- ``severity`` = max; ``updatedAt`` and ``@timestamp`` advance; ``createdAt`` stays;
- archive state: an occurrence carrying ``duskwatch.suppressed_by`` (a suppression rule)
  archives the finding and marks it; a finding marked so stays archived; otherwise a
  recurrence makes an archived finding (archived by hand) active again;
- an occurrence id already counted (``duskwatch.occurrences``, the last 100 kept) is a no-op;
  a batch of occurrences of which some were counted adds only the new ones.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from opensearchpy import NotFoundError, OpenSearch
from opensearchpy.helpers.query import Q, Query
from opensearchpy.helpers.search import Search

from exporter.errors import StoreError
from exporter.findings.build import to_guardduty
from exporter.findings.severity import BANDS, Label
from exporter.findings.validation import validate
from exporter.normalize.ecs import get_path, iso_timestamp

FINDINGS_INDEX = "duskwatch-findings"
RETRY_ON_CONFLICT = 20
KEEP_OCCURRENCES = 100
SORTABLE = frozenset(
    {"updatedAt", "createdAt", "severity", "type", "accountId", "service.count",
     "service.eventFirstSeen", "service.eventLastSeen"}
)  # fmt: skip
LATEST = ("resource", "title", "description", "rule", "threat")
LATEST_SERVICE = ("action", "additionalInfo", "evidence")

MERGE_SCRIPT = """
def old = ctx._source; def inc = params.finding; def s = old.service; def n = inc.service;
def mark = inc.duskwatch == null ? null : inc.duskwatch.suppressed_by;
def seen = inc.duskwatch == null ? null : inc.duskwatch.occurrences;
long added = n.count;
if (seen != null) {
  if (old.duskwatch == null) { old.duskwatch = new HashMap(); }
  if (old.duskwatch.occurrences == null) { old.duskwatch.occurrences = new ArrayList(); }
  def kept = old.duskwatch.occurrences; int fresh = 0;
  for (def o : seen) { if (!kept.contains(o)) { kept.add(o); fresh++; } }
  if (fresh == 0) { ctx.op = 'none'; return; }
  if (fresh < seen.size()) { added = fresh; }
  if (kept.size() > params.keep) { kept.subList(0, kept.size() - params.keep).clear(); }
}
s.count += added;
if (n.eventFirstSeen.compareTo(s.eventFirstSeen) < 0) { s.eventFirstSeen = n.eventFirstSeen; }
if (n.eventLastSeen.compareTo(s.eventLastSeen) >= 0) {
  s.eventLastSeen = n.eventLastSeen;
  for (def k : params.latest) {
    if (inc.containsKey(k)) { old[k] = inc[k]; } else { old.remove(k); }
  }
  for (def k : params.latest_service) { s[k] = n[k]; }
}
old.severity = Math.max((double) old.severity, (double) inc.severity);
if (old.event != null) { old.event.severity = (int) Math.floor(old.severity); }
if (inc.updatedAt.compareTo(old.updatedAt) > 0) {
  old.updatedAt = inc.updatedAt; old['@timestamp'] = inc['@timestamp'];
}
if (mark != null) {
  if (old.duskwatch == null) { old.duskwatch = new HashMap(); }
  old.duskwatch.suppressed_by = mark; s.archived = true;
} else if (old.duskwatch == null || old.duskwatch.suppressed_by == null) {
  s.archived = false;
}
"""

ARCHIVE_SCRIPT = """
ctx._source.service.archived = params.archived;
if (!params.archived && ctx._source.duskwatch != null) {
  ctx._source.duskwatch.remove('suppressed_by');
}
"""


@dataclass(frozen=True)
class UpsertResult:
    """Ids of the findings an upsert created, updated, or left alone (occurrence seen)."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class FindingStats:
    """Finding counts by severity label (every label present) and by type (most first)."""

    total: int
    by_severity: dict[str, int]
    by_type: dict[str, int]


def detector_id(client: OpenSearch, configured: str | None = None) -> str:
    """The detector id stamped on findings: ``configured``, else derived from the cluster UUID."""
    if configured:
        return configured
    uuid = str(client.info()["cluster_uuid"])
    return hashlib.sha256(f"duskwatch-detector:{uuid}".encode()).hexdigest()[:32]


def upsert(
    client: OpenSearch,
    findings: Sequence[Mapping[str, Any]],
    index: str = FINDINGS_INDEX,
    *,
    refresh: bool = False,
) -> UpsertResult:
    """Create new findings and merge recurrences atomically (see the module docstring).

    Every finding is validated first (:class:`InvalidFinding`); a rejected write raises
    :class:`StoreError` after the others are applied.
    """
    for finding in findings:
        validate(finding)
    if not findings:
        return UpsertResult()
    body: list[dict[str, Any]] = []
    for finding in findings:
        body.append(_update(index, str(finding["id"])))
        body.append({"script": _merge_script(finding), "upsert": _new(finding)})
    response = client.bulk(body=body, refresh="wait_for" if refresh else "false")
    result = UpsertResult()
    outcomes = {"created": result.created, "updated": result.updated, "noop": result.unchanged}
    for item in _items(response, "update"):
        outcomes[item["result"]].append(item["_id"])
    return result


def get(
    client: OpenSearch, ids: Iterable[str], index: str = FINDINGS_INDEX, *, raw: bool = False
) -> list[dict[str, Any]]:
    """The findings with these ids, in the order asked; unknown ids are left out."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return []
    try:
        response = client.mget(index=index, body={"ids": wanted})
    except NotFoundError as exc:
        raise _missing(index) from exc
    return [_shape(doc["_source"], raw) for doc in response["docs"] if doc.get("found")]


def search(
    client: OpenSearch,
    *,
    archived: bool | None = False,
    types: Sequence[str] = (),
    min_severity: float | None = None,
    account: str | None = None,
    since: datetime | None = None,
    size: int = 50,
    sort: str = "-updatedAt",
    index: str = FINDINGS_INDEX,
    raw: bool = False,
) -> list[dict[str, Any]]:
    """Findings matching every given criterion (``archived=None``: active and archived),
    sorted by ``sort`` (a field of :data:`SORTABLE`, ``-`` for descending)."""
    if sort.lstrip("-") not in SORTABLE:
        raise ValueError(f"cannot sort by {sort!r} (sortable: {', '.join(sorted(SORTABLE))})")
    query = Search(using=client, index=index).filter(
        _criteria(archived, types, min_severity, account, since)
    )
    query = query.sort(sort, "id").extra(size=size)
    try:
        response = query.execute()
    except NotFoundError as exc:
        raise _missing(index) from exc
    return [_shape(hit.to_dict(), raw) for hit in response.hits]


def archive(
    client: OpenSearch, ids: Iterable[str], index: str = FINDINGS_INDEX, *, refresh: bool = False
) -> list[str]:
    """Archive findings by hand; returns the ids found (the others do not exist)."""
    return _set_archived(client, ids, True, index, refresh)


def unarchive(
    client: OpenSearch, ids: Iterable[str], index: str = FINDINGS_INDEX, *, refresh: bool = False
) -> list[str]:
    """Make findings active again (also lifting a suppression mark); returns the ids found."""
    return _set_archived(client, ids, False, index, refresh)


def stats(
    client: OpenSearch, *, archived: bool | None = False, index: str = FINDINGS_INDEX
) -> FindingStats:
    """Counts by severity label and by finding type (``archived=None``: all findings)."""
    query = Search(using=client, index=index).filter(_criteria(archived, (), None, None, None))
    ranges = [{"key": b.label.value, "from": b.lower, "to": b.upper} for b in BANDS]
    query.aggs.bucket("severity", "range", field="severity", ranges=ranges, keyed=True)
    query.aggs.bucket("types", "terms", field="type", size=1000)
    try:
        response = query.extra(size=0, track_total_hits=True).execute()
    except NotFoundError as exc:
        raise _missing(index) from exc
    buckets = response.aggregations.to_dict()
    by_severity = {label.value: 0 for label in Label}
    by_severity.update({k: v["doc_count"] for k, v in buckets["severity"]["buckets"].items()})
    by_type = {b["key"]: b["doc_count"] for b in buckets["types"]["buckets"]}
    return FindingStats(response.hits.total.value, by_severity, by_type)


def _criteria(
    archived: bool | None,
    types: Sequence[str],
    min_severity: float | None,
    account: str | None,
    since: datetime | None,
) -> Query:
    clauses: list[Query] = []
    if archived is not None:
        clauses.append(Q("term", **{"service.archived": archived}))
    if types:
        clauses.append(Q("terms", type=list(types)))
    if min_severity is not None:
        clauses.append(Q("range", severity={"gte": min_severity}))
    if account:
        clauses.append(Q("term", accountId=account))
    if since is not None:
        clauses.append(Q("range", updatedAt={"gte": iso_timestamp(since)}))
    combined: Query = Q("bool", filter=clauses)
    return combined


def _set_archived(
    client: OpenSearch, ids: Iterable[str], archived: bool, index: str, refresh: bool
) -> list[str]:
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return []
    script = {"source": ARCHIVE_SCRIPT, "lang": "painless", "params": {"archived": archived}}
    body: list[dict[str, Any]] = []
    for identifier in wanted:
        body += [_update(index, identifier), {"script": script}]
    response = client.bulk(body=body, refresh="wait_for" if refresh else "false")
    return [item["_id"] for item in _items(response, "update", missing_ok=True)]


def _update(index: str, identifier: str) -> dict[str, Any]:
    return {"update": {"_index": index, "_id": identifier, "retry_on_conflict": RETRY_ON_CONFLICT}}


def _new(finding: Mapping[str, Any]) -> dict[str, Any]:
    """The document of a finding seen for the first time: archived when a rule suppresses it."""
    if get_path(finding, "duskwatch.suppressed_by") is None:
        return dict(finding)
    return {**finding, "service": {**finding["service"], "archived": True}}


def _merge_script(finding: Mapping[str, Any]) -> dict[str, Any]:
    params = {
        "finding": dict(finding),
        "keep": KEEP_OCCURRENCES,
        "latest": list(LATEST),
        "latest_service": list(LATEST_SERVICE),
    }
    return {"source": MERGE_SCRIPT, "lang": "painless", "params": params}


def _items(
    response: Mapping[str, Any], op: str, *, missing_ok: bool = False
) -> list[dict[str, Any]]:
    """The bulk items that succeeded; StoreError for any failure (404s skipped if allowed)."""
    done: list[dict[str, Any]] = []
    failures: list[str] = []
    for entry in response["items"]:
        item = entry[op]
        if "error" not in item:
            done.append(item)
        elif not (missing_ok and item.get("status") == 404):
            failures.append(f"{item['_id']}: {item['error'].get('reason', item['error'])}")
    if failures:
        raise StoreError(f"{len(failures)} finding writes failed: " + "; ".join(failures[:5]))
    return done


def _shape(source: Mapping[str, Any], raw: bool) -> dict[str, Any]:
    return dict(source) if raw else to_guardduty(source)


def _missing(index: str) -> StoreError:
    return StoreError(f"findings index {index} does not exist", hint="run duskwatch bootstrap")
