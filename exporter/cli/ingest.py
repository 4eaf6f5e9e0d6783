"""``duskwatch ingest``: read logs from files, S3 or SQS into OpenSearch."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from opensearchpy.exceptions import OpenSearchException
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from exporter.cli.context import AppContext
from exporter.detections.matcher import MatchStats
from exporter.detections.setup import ingest_matcher
from exporter.errors import DuskwatchError, StoreError
from exporter.ingest.pipeline import Ingestor
from exporter.ingest.summary import IngestSummary
from exporter.logtypes import LOG_TYPES
from exporter.normalize.ecs import iso_timestamp
from exporter.sources import files, s3, sqs
from exporter.store.state import ProcessedObjects

_err = Console(stderr=True, soft_wrap=True)
_out = Console(width=None if sys.stdout.isatty() else 120)


def _known_type(value: str) -> str:
    if value != "auto" and value not in LOG_TYPES:
        known = ", ".join(["auto", *LOG_TYPES.names()])
        raise typer.BadParameter(f"{value!r} is not a log type (expected one of: {known})")
    return value


def ingest(
    ctx: typer.Context,
    paths: Annotated[list[str] | None, typer.Argument(help="files or directories")] = None,
    log_type: Annotated[
        str,
        typer.Option(
            "--type",
            callback=_known_type,
            help="log type: auto (detect from each file's content) or "
            + ", ".join(LOG_TYPES.names()),
        ),
    ] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
    s3_url: Annotated[
        str | None,
        typer.Option("--s3", help="s3://bucket/prefix: ingest every object not ingested before"),
    ] = None,
    sqs_url: Annotated[
        str | None, typer.Option("--sqs", help="SQS queue URL of S3 event notifications")
    ] = None,
    follow: Annotated[bool, typer.Option(help="with --sqs: keep polling")] = False,
) -> None:
    """Read logs into OpenSearch: parse, normalize to ECS, index exactly once.

    AWS credentials and region come from the usual boto3 chain; AWS_ENDPOINT_URL points at
    an S3-compatible store.
    """
    if not (paths or s3_url or sqs_url):
        raise DuskwatchError("nothing to ingest", hint="give PATHs, --s3 URL or --sqs URL")
    app: AppContext = ctx.ensure_object(AppContext)
    chosen = None if log_type == "auto" else log_type
    matcher = ingest_matcher(app.client(), app.settings) if app.settings.detection.enabled else None
    ingestor = Ingestor(app.client(), app.settings.ingest, on_created=matcher)
    quiet = as_json or not sys.stderr.isatty()
    started = datetime.now(UTC)
    try:
        try:
            _read_sources(ingestor, app, paths, s3_url, sqs_url, follow, chosen, quiet)
        finally:
            summary = ingestor.close()
    except CLUSTER_FAILURES as exc:
        if matcher is None:
            raise
        raise _interrupted(exc, started) from exc
    _report(summary, matcher.stats if matcher else None, as_json)


def _read_sources(
    ingestor: Ingestor,
    app: AppContext,
    paths: list[str] | None,
    s3_url: str | None,
    sqs_url: str | None,
    follow: bool,
    log_type: str | None,
    quiet: bool,
) -> None:
    if paths:
        _ingest_files(ingestor, files.expand(paths), log_type, quiet)
    if s3_url:
        done, skipped = s3.ingest_prefix(
            _aws("s3"), ProcessedObjects(app.client()), ingestor, s3_url, log_type
        )
        _err.print(f"S3: {done} objects ingested, {skipped} already done")
    if sqs_url:
        stats = sqs.consume(
            _aws("sqs"), _aws("s3"), ingestor, sqs_url, follow=follow, log_type=log_type
        )
        _err.print(
            f"SQS: {stats.messages} messages, {stats.objects} objects, {stats.poison} poison"
        )


CLUSTER_FAILURES = (StoreError, OpenSearchException)
"""Failures of the cluster (after the writer's retries), which can strike between an event's
write and its matching."""


def _interrupted(exc: Exception, started: datetime) -> DuskwatchError:
    """The error of an ingest that stopped after writing some events it may not have
    matched: how to match them once the cluster is back."""
    return DuskwatchError(
        f"ingest stopped: {exc}",
        hint=(
            "events already written are kept; once the cluster answers, run the same ingest "
            "again (written events are skipped as duplicates), then `duskwatch rematch "
            f"--ingested --since {iso_timestamp(started)}` to match what was written"
        ),
    )


def _aws(service: str) -> Any:
    import boto3

    return boto3.client(service)


def _ingest_files(ingestor: Ingestor, found: list[Path], log_type: str | None, quiet: bool) -> None:
    total = sum(p.stat().st_size for p in found)
    with _progress(quiet) as progress:
        task = progress.add_task("ingesting", total=total, records=0, rate=0.0)
        for origin, data in files.read_files(found):
            progress.update(task, description=Path(origin).name[-40:])
            ingestor.ingest(origin, data, log_type)
            read = ingestor.summary.totals().read
            rate = read / max(ingestor.summary.seconds, 1e-9)
            progress.update(task, advance=len(data), records=read, rate=rate)


def _progress(quiet: bool) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TextColumn("{task.fields[records]:,} records {task.fields[rate]:,.0f}/s"),
        TimeElapsedColumn(),
        console=_err,
        disable=quiet,
        transient=True,
    )


def _report(summary: IngestSummary, matched: MatchStats | None, as_json: bool) -> None:
    if as_json:
        data = summary.to_dict()
        if matched is not None:
            data["detection"] = matched.to_dict()
        sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode())
        sys.stdout.write("\n")
        return
    table = Table(
        "source", "files", "read", "indexed", "duplicates", "dead-lettered", "seconds", "records/s"
    )
    for name, stats in sorted(summary.sources.items()):
        table.add_row(
            name,
            str(stats.files),
            str(stats.read),
            str(stats.indexed),
            str(stats.duplicates),
            str(stats.dead_lettered),
            f"{stats.seconds:.1f}",
            f"{stats.read / max(stats.seconds, 1e-9):,.0f}",
        )
    _out.print(table)
    _out.print(f"total {summary.seconds:.1f}s")
    if matched is not None:
        _out.print(
            f"detection: {matched.documents:,} new documents matched, "
            f"{matched.rule_hits} rule hits, {matched.intel_hits} list hits "
            f"({matched.silenced} silenced by trusted lists), "
            f"{matched.findings} findings written"
        )
    for origin in summary.unrecognized:
        _err.print(f"[yellow]unrecognized[/] {origin} (dead-lettered; use --type to force)")
    for origin in summary.empty:
        _err.print(f"[yellow]empty[/] {origin}")
