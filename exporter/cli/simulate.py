"""``duskwatch simulate``: realistic, labelled logs of all five sources in AWS's layouts."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from exporter.errors import ConfigError
from exporter.simulate import SimulationConfig
from exporter.simulate import simulate as run_simulation

_out = Console()
_err = Console(stderr=True, soft_wrap=True)


def _end_date(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        day = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise ConfigError(f"--end {value!r}: expected a date YYYY-MM-DD") from None
    return day


def simulate(
    out_dir: Annotated[Path, typer.Argument(help="empty or new directory to write into")],
    days: Annotated[int, typer.Option(min=1, help="days of activity")] = 8,
    seed: Annotated[int, typer.Option(help="random seed: same seed, same files")] = 1,
    scale: Annotated[
        float, typer.Option(min=0.001, help="volume multiplier (1: ~10^5 records)")
    ] = 1.0,
    accounts: Annotated[
        list[str] | None,
        typer.Option("--accounts", help="12-digit AWS account ids (repeat the option)"),
    ] = None,
    end: Annotated[
        str | None, typer.Option(help="exclusive end date YYYY-MM-DD (default: today, UTC)")
    ] = None,
    workers: Annotated[int, typer.Option(min=1, help="parallel writer processes")] = max(
        1, min(4, os.cpu_count() or 1)
    ),
) -> None:
    """Write simulated CloudTrail, VPC flow, Route 53 resolver and EKS audit logs."""
    config = SimulationConfig(
        out_dir=out_dir,
        days=days,
        seed=seed,
        scale=scale,
        end=_end_date(end),
        workers=workers,
        **({"accounts": tuple(accounts)} if accounts else {}),
    )
    written = 0
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=_err,
        disable=not sys.stderr.isatty(),
        transient=True,
    ) as progress:
        task = progress.add_task("simulating")

        def advance(source: str, records: int) -> None:
            nonlocal written
            written += records
            progress.update(task, description=f"{written:,} records ({source})")

        summary = run_simulation(config, advance)
    table = Table("source", "records")
    for source, records in sorted(summary.counts.items()):
        table.add_row(source, f"{records:,}")
    table.add_row("(of which S3 data events)", f"{summary.data_events:,}")
    _out.print(table)
    _out.print(
        f"{summary.files} files from {summary.start:%Y-%m-%d} to {summary.end:%Y-%m-%d} "
        f"in {out_dir}; labels in {summary.labels_path}"
    )
