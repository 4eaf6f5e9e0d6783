"""``duskwatch rematch``: match stored events of a time range against rules and lists again."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console

from exporter.cli.context import AppContext
from exporter.detections.rematch import EVENT_TIME, INGEST_TIME
from exporter.detections.rematch import rematch as rematching
from exporter.detections.setup import ingest_matcher
from exporter.logtypes import LOG_TYPES

_out = Console(width=None if sys.stdout.isatty() else 120)


def _moment(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(f"{value!r}: expected an ISO 8601 time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def rematch(
    ctx: typer.Context,
    since: Annotated[str, typer.Option(help="ISO time: first event time to match")],
    until: Annotated[
        str | None, typer.Option(help="ISO time: end (exclusive; default: now)")
    ] = None,
    ingested: Annotated[
        bool,
        typer.Option(
            "--ingested", help="--since/--until are ingest times (event.ingested), not event times"
        ),
    ] = False,
    log_types: Annotated[
        list[str] | None,
        typer.Option(
            "--type", help="only this log type (repeatable): " + ", ".join(LOG_TYPES.names())
        ),
    ] = None,
) -> None:
    """Match stored events again (after an interrupted ingest: ``--ingested --since <when it
    started>``; or new rules on old data). Events already matched add nothing: findings count
    each event once."""
    app = ctx.ensure_object(AppContext)
    for name in log_types or []:
        if name not in LOG_TYPES:
            raise typer.BadParameter(f"{name!r} is not a log type")
    kinds = [LOG_TYPES.get(name) for name in log_types or LOG_TYPES.names()]
    matcher = ingest_matcher(app.client(), app.settings)
    end = _moment(until) if until else datetime.now(UTC)
    field = INGEST_TIME if ingested else EVENT_TIME
    result = rematching(app.client(), matcher, kinds, _moment(since), end, field=field)
    read = ", ".join(f"{k} {v:,}" for k, v in sorted(result.documents.items())) or "no events"
    _out.print(f"rematched: {read}; {result.findings} findings touched")
