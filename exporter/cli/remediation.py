"""``duskwatch remediation``: list recorded actions, run them for a finding, undo them.

``run`` is a dry run unless ``--execute`` is given; every run, dry or not, is recorded in the
``duskwatch-remediation`` index and can be listed. ``undo`` reverts an executed action.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from exporter.cli.context import AppContext
from exporter.errors import DuskwatchError
from exporter.findings import store
from exporter.remediation.actions import ACTIONS
from exporter.remediation.log import Record, RemediationLog, Status
from exporter.remediation.service import Remediator, rules_for

app = typer.Typer(
    help="Remediation actions (opt-in, dry run by default): list, run for a finding, undo.",
    no_args_is_help=True,
)

_out = Console(width=None if sys.stdout.isatty() else 160)
_STYLE = {
    Status.PLANNED: "cyan",
    Status.EXECUTED: "green",
    Status.SKIPPED: "yellow",
    Status.FAILED: "red",
    Status.UNDONE: "blue",
    Status.UNDO_FAILED: "red",
}

JsonOption = Annotated[bool, typer.Option("--json", help="print JSON")]


def _remediator(ctx: typer.Context) -> Remediator:
    app_ctx: AppContext = ctx.ensure_object(AppContext)
    return Remediator(app_ctx.settings.remediation, RemediationLog(app_ctx.client()))


def _print(records: list[Record], as_json: bool) -> None:
    if as_json:
        docs: list[dict[str, Any]] = [r.to_doc() for r in records]
        sys.stdout.write(orjson.dumps(docs, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    table = Table("id", "created", "action", "status", "finding", "what")
    for record in records:
        what = record.summary or record.error or ""
        table.add_row(
            record.id,
            record.created_at,
            record.action,
            f"[{_STYLE[record.status]}]{record.status.value}[/]",
            f"{escape(record.finding_type)} {record.finding_id}",
            escape(what if record.status != Status.SKIPPED else f"skipped: {record.error}"),
        )
    _out.print(table)


@app.command("list")
def list_records(
    ctx: typer.Context,
    finding: Annotated[str | None, typer.Option(help="only this finding id")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 50,
    as_json: JsonOption = False,
) -> None:
    """Recorded remediation runs, newest first."""
    records = _remediator(ctx).records.search(finding_id=finding, size=limit)
    _print(records, as_json)


@app.command()
def actions() -> None:
    """The remediation actions Duskwatch knows."""
    table = Table("action", "what it does")
    for name, action in ACTIONS.items():
        table.add_row(name, action.description)
    _out.print(table)


@app.command()
def run(
    ctx: typer.Context,
    finding: Annotated[str, typer.Option("--finding", help="finding id")],
    execute: Annotated[
        bool, typer.Option("--execute", help="change AWS for real (default: dry run)")
    ] = False,
    action: Annotated[
        str | None, typer.Option(help="run this action (default: the configured rules)")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Run the remediation rules that match a finding (dry run unless --execute)."""
    remediator = _remediator(ctx)
    found = store.get(ctx.ensure_object(AppContext).client(), [finding])
    if not found:
        raise DuskwatchError(f"no finding {finding!r}", hint="duskwatch findings list shows ids")
    chosen = rules_for(remediator, found[0], action)
    if not chosen:
        raise DuskwatchError(
            f"no remediation rule covers {found[0]['type']}",
            hint="add one to remediation.actions in duskwatch.yaml, or name --action",
        )
    records = [
        record
        for rule in chosen
        if (record := remediator.run(found[0], rule, execute=execute, trigger="cli")) is not None
    ]
    _print(records, as_json)


@app.command()
def undo(
    ctx: typer.Context,
    record_id: Annotated[str, typer.Argument(metavar="ID", help="remediation record id")],
    as_json: JsonOption = False,
) -> None:
    """Revert an executed remediation action."""
    _print([_remediator(ctx).undo(record_id)], as_json)
