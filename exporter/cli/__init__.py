"""The ``duskwatch`` command line: a thin layer over the package's functions."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError
from rich.console import Console

from exporter import config, logs
from exporter.cli import (
    dashboards,
    detect,
    export,
    filters,
    findings,
    remediation,
    report,
    rules,
    server,
    store,
    threatintel,
    usage,
)
from exporter.cli.context import AppContext, Overrides
from exporter.errors import DuskwatchError

app = typer.Typer(
    name="duskwatch",
    help="Self-hosted, GuardDuty-compatible threat detection on OpenSearch.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(server.app, name="server")
app.add_typer(threatintel.threatlist_app, name="threatlist")
app.add_typer(threatintel.trustedlist_app, name="trustedlist")
app.add_typer(threatintel.intel_app, name="intel")
app.add_typer(rules.app, name="rules")
app.add_typer(findings.app, name="findings")
app.add_typer(filters.app, name="filters")
app.add_typer(detect.app, name="detectors")
app.add_typer(dashboards.app, name="dashboards")
app.command("usage")(usage.usage_command)
app.command("report")(report.report_command)
app.add_typer(export.app, name="export")
app.add_typer(remediation.app, name="remediation")
store.register(app)

_err = Console(stderr=True, soft_wrap=True)


@app.callback()
def root(
    ctx: typer.Context,
    config_file: Annotated[
        str | None,
        typer.Option(
            "--config", "-c", help="duskwatch.yaml (default: $DUSKWATCH_CONFIG or ./duskwatch.yaml)"
        ),
    ] = None,
    url: Annotated[str | None, typer.Option(help="OpenSearch URL")] = None,
    username: Annotated[str | None, typer.Option(help="basic-auth user")] = None,
    password: Annotated[str | None, typer.Option(help="basic-auth password")] = None,
    ca_file: Annotated[str | None, typer.Option(help="CA bundle for TLS")] = None,
    verify_certs: Annotated[
        bool | None,
        typer.Option(
            "--verify-certs/--no-verify-certs", help="verify the cluster's TLS certificate"
        ),
    ] = None,
    aws_sigv4: Annotated[
        bool | None,
        typer.Option(
            "--aws-sigv4/--no-aws-sigv4", help="sign with AWS SigV4 (Amazon OpenSearch Service)"
        ),
    ] = None,
    aws_region: Annotated[str | None, typer.Option(help="region for SigV4")] = None,
) -> None:
    """Self-hosted, GuardDuty-compatible threat detection on OpenSearch."""
    overrides = Overrides(
        url=url,
        username=username,
        password=password,
        ca_file=ca_file,
        verify_certs=verify_certs,
        aws_sigv4=aws_sigv4,
        aws_region=aws_region,
    )
    settings = overrides.apply(config.load(config_file))
    logs.setup(settings.logging.level, settings.logging.format)
    ctx.obj = AppContext(settings)


def main() -> None:
    """Entry point: user errors become one clear message and exit code 2, never a traceback."""
    try:
        app()
    except DuskwatchError as exc:
        _err.print(f"[bold red]error:[/] {exc.message}", highlight=False)
        if exc.hint:
            _err.print(f"[yellow]fix:[/] {exc.hint}", highlight=False)
        sys.exit(2)
    except OpenSearchConnectionError as exc:
        _err.print(f"[bold red]error:[/] cannot reach OpenSearch: {exc.info or exc}")
        _err.print(
            "[yellow]fix:[/] start the local node (duskwatch server start) "
            "or point --url / opensearch.url at your cluster"
        )
        sys.exit(2)
