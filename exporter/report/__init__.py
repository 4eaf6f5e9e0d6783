"""The HTML findings report: one self-contained file for people without Dashboards."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from opensearchpy import OpenSearch

from exporter.findings.store import FINDINGS_INDEX
from exporter.report.data import ReportData, collect
from exporter.report.html import render

__all__ = ["ReportData", "collect", "render", "write_report"]


def write_report(
    client: OpenSearch,
    out: Path,
    since: datetime | None = None,
    *,
    index: str = FINDINGS_INDEX,
) -> ReportData:
    """Render the report of the findings in ``index`` to ``out``; returns its figures."""
    data = collect(client, since, index)
    out.write_text(render(data, datetime.now(UTC)), encoding="utf-8")
    return data
