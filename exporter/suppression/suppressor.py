"""Suppression before write: percolate incoming findings against every ARCHIVE filter.

One multi-document percolate per batch (:func:`exporter.detections.percolate.percolate`);
each finding a rule matches gets ``duskwatch.suppressed_by`` = the matching rule of lowest
rank (then name), and the findings store archives it. A missing filters index means there
are no rules yet.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from opensearchpy import NotFoundError, OpenSearch

from exporter.detections.percolate import Match, field_tree, percolate, project
from exporter.findings.attributes import filter_attributes
from exporter.suppression.store import ARCHIVE_ONLY, FILTERS_INDEX


@cache
def _attribute_tree() -> Mapping[str, Any]:
    return field_tree(filter_attributes())


def winners(matches: Sequence[Match]) -> dict[int, str]:
    """Slot → name of the lowest-ranked filter that matched it (ties: the first name)."""
    best: dict[int, tuple[int, str]] = {}
    for match in matches:
        body = match.source["filter"]
        candidate = (int(body["rank"]), str(body["name"]))
        best[match.slot] = min(best.get(match.slot, candidate), candidate)
    return {slot: name for slot, (_, name) in best.items()}


class PercolatingSuppressor:
    """The :class:`exporter.findings.writer.Suppressor` backed by the filters index."""

    def __init__(self, client: OpenSearch, index: str = FILTERS_INDEX) -> None:
        self.client = client
        self.index = index

    def mark(self, findings: Sequence[dict[str, Any]]) -> None:
        """Set ``duskwatch.suppressed_by`` on every finding a suppression rule matches."""
        if not findings:
            return
        documents = [project(f, _attribute_tree()) for f in findings]
        try:
            matches = percolate(self.client, [self.index], documents, query_filter=ARCHIVE_ONLY)
        except NotFoundError as exc:
            if exc.error != "index_not_found_exception":
                raise
            return
        for slot, name in winners(matches).items():
            findings[slot].setdefault("duskwatch", {})["suppressed_by"] = name


def suppressor_for(client: OpenSearch, index: str = FILTERS_INDEX) -> PercolatingSuppressor:
    """The suppressor every :class:`exporter.findings.writer.FindingWriter` should use."""
    return PercolatingSuppressor(client, index)
