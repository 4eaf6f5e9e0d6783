"""The report as ONE self-contained HTML page: inline CSS and SVG, every value escaped."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from html import escape
from typing import Any

from exporter.findings.severity import label
from exporter.normalize.ecs import get_path, iso_timestamp
from exporter.report.data import ReportData
from exporter.report.svg import bar_chart, stacked_columns

SEVERITY_COLORS = {"Low": "#4e79a7", "Medium": "#f2b447", "High": "#e15759", "Critical": "#8b0000"}
CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:1100px;color:#1d2330;padding:0 1rem}
h1{margin-bottom:.2rem}h2{margin-top:2rem;border-bottom:1px solid #dde;padding-bottom:.3rem}
.meta{color:#667}.chart{display:block;margin:.5rem 0;max-width:100%;height:auto}
.chart .label{font-size:12px;fill:#333}.chart .value,.chart .axis{font-size:11px;fill:#667}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:.35rem .5rem;overflow-wrap:anywhere;
border-bottom:1px solid #e4e6ec;vertical-align:top}
th{background:#f4f5f8}.sev{font-weight:600;color:#fff;border-radius:3px;padding:0 .4rem}
details pre{white-space:pre-wrap;background:#f7f7fa;padding:.5rem;font-size:12px}
.empty{color:#667;font-style:italic}
"""
RESOURCE_PATHS = (
    "resource.instanceDetails.instanceId",
    "resource.accessKeyDetails.userName",
    "resource.s3BucketDetails.0.name",
    "resource.eksClusterDetails.name",
)
"""Where a GuardDuty finding names its resource; the first present wins."""
DETAIL_FIELDS = (
    ("Description", "description"),
    ("Region", "region"),
    ("Resource type", "resource.resourceType"),
    ("Count", "service.count"),
    ("First seen", "service.eventFirstSeen"),
    ("Last seen", "service.eventLastSeen"),
    ("Action", "service.action.actionType"),
    ("Finding id", "id"),
)
"""The details shown under each High/Critical finding: (caption, GuardDuty path)."""


def _resource(finding: Mapping[str, Any]) -> str:
    names = (get_path(finding, path) for path in RESOURCE_PATHS)
    return next((str(n) for n in names if n is not None), "-")


def _severity_badge(severity: float) -> str:
    name = label(severity).value
    color = SEVERITY_COLORS[name]
    return f'<span class="sev" style="background:{color}">{escape(name)} {severity:g}</span>'


def _details(finding: Mapping[str, Any]) -> str:
    rows = "".join(
        f"<dt>{escape(caption)}</dt><dd>{escape(str(get_path(finding, path) or '-'))}</dd>"
        for caption, path in DETAIL_FIELDS
    )
    return f"<details><summary>details</summary><dl>{rows}</dl></details>"


def _finding_row(finding: Mapping[str, Any]) -> str:
    cells = (
        _severity_badge(float(finding["severity"])),
        escape(str(finding["type"])),
        escape(str(finding.get("title", ""))) + _details(finding),
        escape(str(finding.get("accountId", ""))),
        escape(_resource(finding)),
        escape(str(get_path(finding, "updatedAt") or "")),
    )
    return "<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>"


def high_table(findings: Sequence[Mapping[str, Any]]) -> str:
    """The High/Critical active findings table."""
    if not findings:
        return '<p class="empty">No active High or Critical findings.</p>'
    head = "".join(
        f"<th>{h}</th>" for h in ("Severity", "Type", "Title", "Account", "Resource", "Updated")
    )
    rows = "".join(_finding_row(f) for f in findings)
    return f'<table id="high-critical"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'


def _section(title: str, content: str) -> str:
    return f"<section><h2>{escape(title)}</h2>{content}</section>"


def charts(data: ReportData) -> list[tuple[str, str]]:
    """(section title, inline SVG) of every chart."""
    return [
        (
            "Findings by severity over time",
            stacked_columns(
                "severity-over-time",
                "Findings by severity over time",
                data.days,
                data.by_severity_day,
                SEVERITY_COLORS,
            ),
        ),
        ("Findings by type", bar_chart("by-type", "Findings by type", data.by_type, "#4e79a7")),
        (
            "Findings by account",
            bar_chart("by-account", "Findings by account", data.by_account, "#59a14f"),
        ),
        (
            "Top affected resources",
            bar_chart("top-resources", "Top affected resources", data.top_resources, "#b07aa1"),
        ),
    ]


def render(data: ReportData, generated: datetime) -> str:
    """The whole report page."""
    window = f"since {iso_timestamp(data.since)}" if data.since else "all time"
    sections = "".join(_section(title, svg) for title, svg in charts(data))
    table = _section("High and Critical active findings", high_table(data.high))
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>Duskwatch findings report</title><style>{CSS}</style></head><body>"
        "<h1>Duskwatch findings report</h1>"
        f'<p class="meta">{data.total} findings, {escape(window)}; generated '
        f"{escape(iso_timestamp(generated))}</p>{sections}{table}</body></html>\n"
    )
