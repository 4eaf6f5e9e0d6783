"""``duskwatch retention``: delete expired event days, findings and dead letters."""

from __future__ import annotations

import sys
from typing import Annotated

import orjson
import typer
from rich.console import Console

from exporter.cli.context import AppContext
from exporter.store import retention as retaining

_out = Console(width=None if sys.stdout.isatty() else 120)


def retention(
    ctx: typer.Context,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="only show what would go")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Apply ``retention.*_days``: event days by their date, findings by their last update,
    dead letters by age (0 keeps forever). ``duskwatch worker`` does this once a day."""
    app = ctx.ensure_object(AppContext)
    result = retaining.apply(app.client(), app.settings.retention, dry_run=dry_run)
    if as_json:
        data = {
            "dry_run": result.dry_run,
            "event_indices": result.event_indices,
            "findings": result.findings,
            "dead_letters": result.dead_letters,
        }
        sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    verb = "would delete" if dry_run else "deleted"
    days = ", ".join(result.event_indices) or "none"
    _out.print(f"{verb}: event days {days}")
    _out.print(f"{verb}: {result.findings} findings, {result.dead_letters} dead letters")
