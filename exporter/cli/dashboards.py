"""``duskwatch dashboards``: install, export and check the OpenSearch Dashboards objects."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from exporter.dashboards import DASHBOARDS_DIR, Auth, check, export, install, load, write
from exporter.errors import DuskwatchError

app = typer.Typer(
    help="OpenSearch Dashboards saved objects: install, export, check.", no_args_is_help=True
)
_out = Console()

UrlOption = Annotated[str, typer.Option("--url", help="Dashboards URL, e.g. http://localhost:5601")]
UserOption = Annotated[str | None, typer.Option("--username", help="basic-auth user")]
PasswordOption = Annotated[str | None, typer.Option("--password", help="basic-auth password")]
DirOption = Annotated[Path, typer.Option("--dir", help="saved objects folder")]


@app.command("install")
def install_command(
    url: UrlOption,
    username: UserOption = None,
    password: PasswordOption = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite/--no-overwrite", help="replace objects that exist")
    ] = True,
    directory: DirOption = DASHBOARDS_DIR,
) -> None:
    """Import the saved objects through the saved objects API (safe to run again)."""
    objects = load(directory)
    result = install(url, objects, Auth(username, password), overwrite=overwrite)
    _out.print(f"{result.written} of {len(objects)} saved objects written to {url}")
    if result.conflicts:
        _out.print(f"{len(result.conflicts)} already there, left alone (--overwrite replaces them)")
    if result.errors:
        raise DuskwatchError(
            f"{len(result.errors)} objects refused: " + "; ".join(result.errors[:5]),
            hint="check the Dashboards version (2.x) and its log",
        )


@app.command("export")
def export_command(
    url: UrlOption,
    username: UserOption = None,
    password: PasswordOption = None,
    out: Annotated[Path, typer.Option("--out", help="folder to write")] = DASHBOARDS_DIR,
) -> None:
    """Export Duskwatch's saved objects in canonical form (stable order, small diffs)."""
    objects = export(url, Auth(username, password))
    for path in write((o.raw for o in objects), out):
        _out.print(f"wrote {path}")
    _out.print(f"{len(objects)} saved objects exported")


@app.command("check")
def check_command(directory: DirOption = DASHBOARDS_DIR) -> None:
    """Validate the saved objects offline: JSON, references, fields, canonical form."""
    problems = check(directory)
    for problem in problems:
        _out.print(f"[red]✗[/] {problem}", highlight=False)
    if problems:
        raise typer.Exit(1)
    _out.print(f"[green]✓[/] {len(load(directory))} saved objects in {directory} are valid")
