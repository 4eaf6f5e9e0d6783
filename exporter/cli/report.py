"""``duskwatch report``: the findings as one self-contained HTML file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from exporter.cli.context import AppContext
from exporter.cli.usage import parse_time
from exporter.report import write_report

_out = Console()


def report_command(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="HTML file to write")] = Path("report.html"),
    since: Annotated[str | None, typer.Option(help="findings updated since (ISO 8601)")] = None,
) -> None:
    """Write an HTML report (charts and the High/Critical table); no network needed to view."""
    client = ctx.ensure_object(AppContext).client()
    data = write_report(client, out, parse_time(since))
    _out.print(f"wrote {out} ({data.total} findings, {len(data.high)} High/Critical active)")
