"""``duskwatch usage``: events and bytes analysed, findings, GuardDuty-equivalent cost."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from exporter.cli.context import AppContext
from exporter.usage import summarize, total, usage

_out = Console()


class By(StrEnum):
    """What the figures are summed by."""

    ACCOUNT = "account"
    SOURCE = "source"
    DAY = "day"


def parse_time(value: str | None) -> datetime | None:
    """An ISO 8601 option value as an aware datetime (UTC when no offset is given)."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(f"{value!r}: expected an ISO 8601 time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _money(value: float | None) -> str:
    return "-" if value is None else f"${value:,.4f}"


def _number(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def _table(rows: list[dict[str, Any]], by: By) -> Table:
    table = Table(title=f"Usage by {by.value} (cost: GuardDuty list prices, estimate)")
    for header in (by.value, "events", "bytes", "findings", "GuardDuty cost"):
        table.add_column(header, justify="left" if header == by.value else "right")
    for row in rows:
        cells = (_number(row["events"]), _number(row["bytes"]), _number(row["findings"]))
        table.add_row(row["key"], *cells, _money(row["cost"]))
    return table


def usage_command(
    ctx: typer.Context,
    by: Annotated[By, typer.Option("--by", help="sum by account, data source or day")] = By.SOURCE,
    since: Annotated[str | None, typer.Option(help="from this time (ISO 8601)")] = None,
    until: Annotated[str | None, typer.Option(help="before this time (ISO 8601)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Usage statistics (GuardDuty's GetUsageStatistics) and what GuardDuty would charge."""
    client = ctx.ensure_object(AppContext).client()
    rows = usage(client, parse_time(since), parse_time(until))
    grouped = summarize(rows, by.value)
    if as_json:
        print(json.dumps({"by": by.value, "rows": grouped, "total": total(rows)}, indent=2))
        return
    table = _table(grouped, by)
    table.add_section()
    summed = total(rows)
    cells = (_number(summed["events"]), _number(summed["bytes"]), _number(summed["findings"]))
    table.add_row("total", *cells, _money(summed["cost"]))
    _out.print(table)
