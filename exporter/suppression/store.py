"""The filters index: one document per filter, ARCHIVE filters as percolator queries.

A document is ``{"filter": <GuardDuty filter JSON>, "query": <compiled criteria>}``, its id
the filter's name; NOOP filters carry no ``query``, so only suppression rules are
percolated. The index maps every finding field (see its template), so any criterion can be
stored as a percolator query.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from opensearchpy import ConflictError, NotFoundError, OpenSearch
from opensearchpy.helpers.query import Q, Query
from opensearchpy.helpers.search import Search

from exporter.errors import DuskwatchError, StoreError
from exporter.findings import store as findings
from exporter.findings.build import to_guardduty
from exporter.suppression.compile import compile_criteria
from exporter.suppression.model import Action, Filter, parse_filter

FILTERS_INDEX = "duskwatch-filters"
MAX_FILTERS = 100
MAX_RANK = 100
ARCHIVE_ONLY: dict[str, Any] = {"term": {"filter.action": Action.ARCHIVE.value}}
APPLY_ATTEMPTS = 3
SUPPRESS_SCRIPT = """
def s = ctx._source;
if (s.duskwatch == null) { s.duskwatch = new HashMap(); }
s.duskwatch.suppressed_by = params.name; s.service.archived = true;
"""


def document(flt: Filter) -> dict[str, Any]:
    """The stored document of a filter: its JSON, plus a percolator query when it archives."""
    doc: dict[str, Any] = {"filter": flt.to_guardduty()}
    if flt.action is Action.ARCHIVE:
        doc["query"] = compile_criteria(flt.criteria).to_dict()
    return doc


def from_source(source: Mapping[str, Any]) -> Filter:
    """The filter of a stored document (validated when it was stored)."""
    body = source["filter"]
    return Filter(
        name=body["name"],
        action=Action(body["action"]),
        rank=body["rank"],
        criteria=body["findingCriteria"],
        description=body.get("description", ""),
    )


def create(client: OpenSearch, flt: Filter, index: str = FILTERS_INDEX) -> None:
    """Store a new filter; an existing name or a full index (100 filters) is an error."""
    if len(list_filters(client, index)) >= MAX_FILTERS:
        raise DuskwatchError(
            f"there are already {MAX_FILTERS} filters (GuardDuty's limit)",
            hint="delete one first: duskwatch filters delete NAME",
        )
    try:
        client.index(index=index, id=flt.name, body=document(flt), op_type="create", refresh="true")
    except ConflictError:
        raise DuskwatchError(
            f"filter {flt.name} already exists", hint=f"duskwatch filters update {flt.name} ..."
        ) from None


def get(client: OpenSearch, name: str, index: str = FILTERS_INDEX) -> Filter:
    """The filter called ``name``."""
    return from_source(_fetch(client, name, index)["_source"])


def filter_query(client: OpenSearch, name: str, index: str = FILTERS_INDEX) -> Query:
    """The compiled criteria of the filter called ``name`` (for searching findings)."""
    return compile_criteria(get(client, name, index).criteria)


def list_filters(client: OpenSearch, index: str = FILTERS_INDEX) -> list[Filter]:
    """Every filter, by rank then name."""
    query = Search(using=client, index=index).sort("filter.rank", "filter.name")
    try:
        response = query.source(excludes=["query"]).extra(size=MAX_FILTERS).execute()
    except NotFoundError as exc:
        raise _missing(index) from exc
    return [from_source(hit.to_dict()) for hit in response.hits]


def next_rank(client: OpenSearch, index: str = FILTERS_INDEX) -> int:
    """The rank a filter created without one gets: after every existing filter (at most 100)."""
    ranks = [f.rank for f in list_filters(client, index)]
    return min(MAX_RANK, max(ranks, default=0) + 1)


def update(
    client: OpenSearch,
    name: str,
    changes: Mapping[str, Any],
    index: str = FILTERS_INDEX,
) -> Filter:
    """Change a filter (``changes``: any of description, action, rank, findingCriteria).

    The percolator query follows: recompiled, added (now ARCHIVE) or dropped (now NOOP).
    A concurrent change of the same filter is an error rather than a lost update.
    """
    found = _fetch(client, name, index)
    flt = parse_filter({**from_source(found["_source"]).to_guardduty(), **changes})
    try:
        client.index(
            index=index,
            id=name,
            body=document(flt),
            if_seq_no=found["_seq_no"],
            if_primary_term=found["_primary_term"],
            refresh="true",
        )
    except ConflictError:
        raise DuskwatchError(
            f"filter {name} changed meanwhile", hint="run the update again"
        ) from None
    return flt


def delete(client: OpenSearch, name: str, index: str = FILTERS_INDEX) -> None:
    """Remove a filter (and its percolator query); findings it archived stay archived."""
    try:
        client.delete(index=index, id=name, refresh="true")
    except NotFoundError as exc:
        raise _unknown(name, index, exc) from exc


def apply_existing(
    client: OpenSearch, flt: Filter, findings_index: str = findings.FINDINGS_INDEX
) -> int:
    """Archive the stored findings a suppression rule matches; returns how many it archived.

    Findings already suppressed by a rule keep that rule's mark. A finding written
    concurrently (a version conflict) is retried; later writes are percolated anyway.
    """
    if flt.action is not Action.ARCHIVE:
        raise DuskwatchError(f"filter {flt.name} is NOOP: only ARCHIVE filters archive findings")
    marked = Q("exists", field="duskwatch.suppressed_by")
    query = Q("bool", filter=[compile_criteria(flt.criteria)], must_not=[marked])
    script = {"source": SUPPRESS_SCRIPT, "lang": "painless", "params": {"name": flt.name}}
    body = {"query": query.to_dict(), "script": script}
    archived = 0
    for _ in range(APPLY_ATTEMPTS):
        try:
            response = client.update_by_query(
                index=findings_index, body=body, conflicts="proceed", refresh=True
            )
        except NotFoundError as exc:
            raise _missing(findings_index, "findings") from exc
        archived += int(response["updated"])
        if not response["version_conflicts"]:
            break
    return archived


def search_findings(
    client: OpenSearch,
    query: Query,
    *,
    archived: bool | None = False,
    types: tuple[str, ...] | list[str] = (),
    min_severity: float | None = None,
    account: str | None = None,
    since: datetime | None = None,
    size: int = 50,
    sort: str = "-updatedAt",
    index: str = findings.FINDINGS_INDEX,
) -> list[dict[str, Any]]:
    """:func:`exporter.findings.store.search` AND-ed with a filter's ``query``."""
    if sort.lstrip("-") not in findings.SORTABLE:
        raise ValueError(f"cannot sort by {sort!r}")
    criteria = findings._criteria(archived, types, min_severity, account, since)
    search = Search(using=client, index=index).filter(criteria).filter(query)
    try:
        response = search.sort(sort, "id").extra(size=size).execute()
    except NotFoundError as exc:
        raise _missing(index, "findings") from exc
    return [to_guardduty(hit.to_dict()) for hit in response.hits]


def _fetch(client: OpenSearch, name: str, index: str) -> dict[str, Any]:
    try:
        found: dict[str, Any] = client.get(index=index, id=name, _source_excludes=["query"])
    except NotFoundError as exc:
        raise _unknown(name, index, exc) from exc
    return found


def _unknown(name: str, index: str, exc: NotFoundError) -> DuskwatchError:
    if exc.error == "index_not_found_exception":
        return _missing(index)
    return DuskwatchError(f"no filter {name}", hint="duskwatch filters list")


def _missing(index: str, kind: str = "filters") -> StoreError:
    return StoreError(f"{kind} index {index} does not exist", hint="run duskwatch bootstrap")
