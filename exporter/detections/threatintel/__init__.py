"""Threat lists and trusted lists: IPs, CIDRs and domains matched by the percolator.

Pure modules: ``model`` (types), ``indicators`` (one value -> an entry), ``formats`` (a list
file -> entries), ``queries`` (entries -> percolator documents), ``meta`` (list metadata),
``resolution`` (finding type tables) and ``findings`` (hits of one event -> FindingSpecs).
I/O edges: ``location`` (file, s3://, http(s)://), ``store`` (OpenSearch), ``feeds``,
``builtin`` (lists shipped with the package).

The detection matcher percolates events against :data:`THREATINTEL_INDEX`, builds an
:class:`IntelHit` from each hit's ``_source`` and calls :func:`intel_findings`.
"""

from exporter.detections.threatintel.findings import intel_findings
from exporter.detections.threatintel.formats import check_limits, parse
from exporter.detections.threatintel.model import (
    CATEGORIES,
    Entry,
    IntelHit,
    Limits,
    ListError,
    ListLimitError,
    ParsedList,
    ThreatListError,
)
from exporter.detections.threatintel.queries import THREATINTEL_INDEX, percolator_query

__all__ = [
    "CATEGORIES",
    "THREATINTEL_INDEX",
    "Entry",
    "IntelHit",
    "Limits",
    "ListError",
    "ListLimitError",
    "ParsedList",
    "ThreatListError",
    "check_limits",
    "intel_findings",
    "parse",
    "percolator_query",
]
