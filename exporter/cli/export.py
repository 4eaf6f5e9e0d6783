"""``duskwatch export``: deliver the outbox to the configured destinations, show its state,
replay parked deliveries."""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from exporter.cli.context import AppContext
from exporter.export.config import build_destinations, routes
from exporter.export.outbox import OUTBOX_INDEX, ExportOutbox
from exporter.export.runner import RetryPolicy, Runner

app = typer.Typer(
    help="Export findings: deliver the outbox to destinations, show its state, replay parked.",
    no_args_is_help=True,
)

_out = Console(width=None if sys.stdout.isatty() else 160)
_err = Console(stderr=True, soft_wrap=True)
DestinationOption = Annotated[
    list[str] | None, typer.Option("--destination", "-d", help="only this destination")
]
IndexOption = Annotated[str, typer.Option("--index", hidden=True)]


def _outbox(ctx: typer.Context, index: str) -> tuple[AppContext, ExportOutbox]:
    app_ctx = ctx.ensure_object(AppContext)
    return app_ctx, ExportOutbox(app_ctx.client(), routes(app_ctx.settings.export), index)


@app.command()
def run(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option(help="deliver what is due now, then exit")] = False,
    destinations: DestinationOption = None,
    index: IndexOption = OUTBOX_INDEX,
) -> None:
    """Deliver due findings to every enabled destination, each independently.

    Polls every ``export.poll_seconds`` until SIGINT/SIGTERM, or one pass with --once.
    """
    app_ctx, outbox = _outbox(ctx, index)
    settings = app_ctx.settings.export
    configured = build_destinations(settings, destinations or [])
    runner = Runner(outbox, configured, RetryPolicy.from_settings(settings))
    if once:
        tallies = runner.run_once()
        table = Table("destination", "delivered", "retried", "parked", "withheld", "batches")
        for name, t in tallies.items():
            table.add_row(
                escape(name), *map(str, (t.delivered, t.retried, t.parked, t.withheld, t.batches))
            )
        _out.print(table)
        return
    stop = threading.Event()

    def handler(signum: int, _frame: FrameType | None) -> None:
        _err.print(f"export: stopping (signal {signum})")
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    names = ", ".join(c.name for c in configured) or "none"
    _err.print(f"export: {names}, every {settings.poll_seconds}s")
    runner.run(settings.poll_seconds, stop)


@app.command()
def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    index: IndexOption = OUTBOX_INDEX,
) -> None:
    """Per destination: pending, due, delivered, parked (failed) and lag.

    Lag is the age of the oldest pending entry that is due.
    """
    _, outbox = _outbox(ctx, index)
    found = outbox.status()
    if as_json:
        rows: list[dict[str, Any]] = [
            {"destination": name, "configured": name in outbox.routes, **counts}
            for name, counts in found.items()
        ]
        sys.stdout.write(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    table = Table("destination", "pending", "due", "delivered", "parked", "lag")
    for name, c in found.items():
        label = name if name in outbox.routes else f"{name} (not configured)"
        table.add_row(
            escape(label), str(c["pending"]), str(c["due"]), str(c["delivered"]),
            str(c["parked"]), f"{c['lag_seconds']:.0f}s",
        )  # fmt: skip
    _out.print(table)


@app.command()
def replay(
    ctx: typer.Context,
    destination: Annotated[str | None, typer.Option("--destination", "-d")] = None,
    event_id: Annotated[str | None, typer.Option("--event-id", help="one event id")] = None,
    index: IndexOption = OUTBOX_INDEX,
) -> None:
    """Make parked (dead-lettered) deliveries pending again, attempts reset."""
    _, outbox = _outbox(ctx, index)
    count = outbox.replay(destination, event_id)
    _out.print(f"replayed {count} parked deliver{'y' if count == 1 else 'ies'}")
