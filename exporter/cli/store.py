"""``duskwatch doctor`` and ``duskwatch bootstrap``: check and prepare the cluster."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from exporter.cli import demo, detect, ingest, rematch, retention, simulate
from exporter.cli.context import AppContext
from exporter.detections.setup import install_detections
from exporter.store import bootstrap as bootstrapping
from exporter.store import doctor as doctoring
from exporter.store import monitors

_out = Console()
_STYLE = {
    doctoring.Status.OK: "green",
    doctoring.Status.WARN: "yellow",
    doctoring.Status.FAIL: "red",
}


def doctor(
    ctx: typer.Context,
    strict: Annotated[
        bool, typer.Option(help="treat warnings (optional plugins) as failures")
    ] = False,
) -> None:
    """Check the configured cluster: reachable, version, percolator, painless, alerting, ISM."""
    app: AppContext = ctx.ensure_object(AppContext)
    _out.print(f"cluster: {app.settings.opensearch.url}")
    checks = doctoring.run_checks(app.client(max_retries=0, timeout=30))
    table = Table("check", "status", "detail", "fix")
    for check in checks:
        style = _STYLE[check.status]
        table.add_row(
            check.name, f"[{style}]{check.status.value.upper()}[/]", check.detail, check.fix
        )
    _out.print(table)
    failing = {doctoring.Status.FAIL} | ({doctoring.Status.WARN} if strict else set())
    if any(check.status in failing for check in checks):
        raise typer.Exit(1)


def bootstrap(ctx: typer.Context) -> None:
    """Install templates, policies, indices, alerting monitors, signature rules and built-in
    lists (idempotent)."""
    app: AppContext = ctx.ensure_object(AppContext)
    results = bootstrapping.bootstrap(app.client())
    results += monitors.install(app.client())
    table = Table("kind", "name", "outcome", "detail")
    for result in results:
        table.add_row(result.kind, result.name, result.outcome.value, result.detail)
    detections = install_detections(app.client(), app.settings)
    for row in detections:
        table.add_row(row.kind, row.name, row.outcome, row.detail)
    _out.print(table)
    failed = any(result.outcome is bootstrapping.Outcome.FAILED for result in results)
    if failed or any(row.outcome == "failed" for row in detections):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add these commands to the root app."""
    app.command()(doctor)
    app.command()(bootstrap)
    app.command()(ingest.ingest)
    app.command()(simulate.simulate)
    app.command()(detect.detect)
    app.command()(detect.worker)
    app.command()(retention.retention)
    app.command()(rematch.rematch)
    app.command()(demo.demo)
