"""``duskwatch server start | stop | status | logs``: the embedded local OpenSearch node."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from exporter.cli.context import AppContext
from exporter.config import ServerSettings
from exporter.server import node, provision
from exporter.server.distribution import OPENSEARCH_VERSION

app = typer.Typer(help="Run the embedded local OpenSearch node.", no_args_is_help=True)
_out = Console()

PortOption = Annotated[int | None, typer.Option(help="HTTP port (default server.port, 9200)")]
CacheOption = Annotated[str | None, typer.Option(help="cache directory (default server.cache_dir)")]


def _settings(
    ctx: typer.Context, port: int | None, cache_dir: str | None, heap: str | None = None
) -> ServerSettings:
    base: ServerSettings = ctx.ensure_object(AppContext).settings.server
    given: dict[str, Any] = {"port": port, "cache_dir": cache_dir, "heap": heap}
    return dataclasses.replace(base, **{k: v for k, v in given.items() if v is not None})


@app.command()
def start(
    ctx: typer.Context,
    port: PortOption = None,
    cache_dir: CacheOption = None,
    heap: Annotated[str | None, typer.Option(help="JVM heap, e.g. 1g")] = None,
) -> None:
    """Download (first time), assemble and start the node; wait until it is ready."""
    settings = _settings(ctx, port, cache_dir, heap)
    with _out.status(f"starting OpenSearch {OPENSEARCH_VERSION} on port {settings.port} ..."):
        report = node.start(settings)
    for step in report.steps:
        _out.print(f"  {step}")
    if report.already_running:
        return
    kind = "cold" if report.provision_seconds > 1 else "warm"
    _out.print(
        f"[green]ready[/] at {report.url}: {kind} start, provisioning "
        f"{report.provision_seconds:.1f}s + node start {report.start_seconds:.1f}s"
    )


@app.command()
def stop(ctx: typer.Context, port: PortOption = None, cache_dir: CacheOption = None) -> None:
    """Stop the node gracefully."""
    stopped = node.stop(_settings(ctx, port, cache_dir))
    _out.print("stopped" if stopped else "not running")


@app.command()
def status(ctx: typer.Context, port: PortOption = None, cache_dir: CacheOption = None) -> None:
    """Show whether the node runs, its version, modules, plugins and health."""
    settings = _settings(ctx, port, cache_dir)
    paths, url = node.node_paths(settings), node.local_url(settings)
    dist = provision.Distribution.read(
        node.cache_dir(settings) / "dist" / f"opensearch-{OPENSEARCH_VERSION}"
    )
    table = Table(show_header=False, box=None)
    table.add_row("node dir", str(paths.root))
    table.add_row("pid", str(node.running_pid(paths) or "not running"))
    if dist and dist.missing_plugins:
        table.add_row("unavailable", ", ".join(sorted(dist.missing_plugins)))
    if not node.is_ready(url):
        table.add_row("health", "[red]not reachable[/]")
        _out.print(table)
        raise typer.Exit(1)
    info = node.http_get(url)
    health = node.http_get(f"{url}/_cluster/health")
    plugins = node.http_get(f"{url}/_nodes/plugins")["nodes"]
    one = next(iter(plugins.values()))
    table.add_row("url", url)
    table.add_row("version", info["version"]["number"])
    table.add_row("health", health["status"])
    table.add_row("modules", ", ".join(sorted(m["name"] for m in one["modules"])))
    table.add_row("plugins", ", ".join(sorted(p["name"] for p in one["plugins"])) or "none")
    _out.print(table)


@app.command()
def logs(
    ctx: typer.Context,
    port: PortOption = None,
    cache_dir: CacheOption = None,
    lines: Annotated[int, typer.Option("--lines", "-n", help="how many lines")] = 50,
) -> None:
    """Print the end of the node's log."""
    for line in node.tail(node.node_paths(_settings(ctx, port, cache_dir)), lines):
        print(line)
