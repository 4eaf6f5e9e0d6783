"""``duskwatch detect``, ``duskwatch worker`` and ``duskwatch detectors``: behaviour detections."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from exporter.chores import Chores, worker_chores
from exporter.cli.context import AppContext
from exporter.detections.behaviour import checkpoints
from exporter.detections.behaviour.docs import render
from exporter.detections.behaviour.model import DETECTORS, Detector
from exporter.detections.behaviour.params import resolve
from exporter.detections.behaviour.runner import DetectorRun, RunOptions
from exporter.detections.behaviour.service import run_forever, runner_for, select
from exporter.detections.behaviour.testing import run_cases
from exporter.detections.behaviour.windows import windows
from exporter.store.client import connect

app = typer.Typer(help="Behaviour detectors: list, test, reset checkpoints.", no_args_is_help=True)
_err = Console(stderr=True, soft_wrap=True)
_out = Console(width=None if sys.stdout.isatty() else 160)

DetectorOption = Annotated[
    list[str] | None, typer.Option("--detector", "-d", help="only this detector (repeatable)")
]


def _moment(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(f"{value!r}: expected an ISO 8601 time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@app.command("list")
def list_detectors(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="print the reference (docs/detectors.md)")
    ] = False,
) -> None:
    """Every detector with its source, types, schedule and current thresholds."""
    if markdown:
        sys.stdout.write(render([d for _, d in DETECTORS.items()]))
        return
    settings = ctx.ensure_object(AppContext).settings.detectors
    select(settings)  # validates the configured overrides and disabled names
    rows = [
        _describe(d, resolve(d, settings.overrides), name in settings.disabled)
        for name, d in DETECTORS.items()
    ]
    if as_json:
        sys.stdout.write(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    table = Table("detector", "source", "finding types", "window", "settle", "parameters")
    for row in rows:
        name = row["name"] + (" (disabled)" if row["disabled"] else "")
        params = ", ".join(f"{k}={v}" for k, v in row["params"].items())
        table.add_row(
            name,
            row["source"],
            "\n".join(row["finding_types"]),
            row["interval"],
            row["settle"],
            params,
        )
    _out.print(table)


@app.command("test")
def run_detector_cases(ctx: typer.Context, names: DetectorOption = None) -> None:
    """Run the detectors' embedded cases on the configured cluster (exit 1 on any failure)."""
    app_ctx = ctx.ensure_object(AppContext)
    results = run_cases(app_ctx.client(), select(app_ctx.settings.detectors, names or []))
    table = Table("detector", "case", "expected", "reported", "result")
    for result in results:
        verdict = "[green]pass[/]" if result.ok else f"[red]fail[/] {result.error or ''}"
        expected = ", ".join(result.expected) or "nothing"
        table.add_row(
            result.detector, result.case, expected, ", ".join(result.reported) or "nothing", verdict
        )
    _out.print(table)
    failed = [r for r in results if not r.ok]
    if failed:
        _err.print(f"[red]{len(failed)} of {len(results)} case(s) failed[/]")
        raise typer.Exit(1)


@app.command("reset")
def reset_checkpoints(ctx: typer.Context, names: DetectorOption = None) -> None:
    """Forget checkpoints (all, or ``--detector``): the next run starts from the oldest events."""
    app_ctx = ctx.ensure_object(AppContext)
    for detector in select(app_ctx.settings.detectors, names or []):
        checkpoints.reset(app_ctx.client(), detector.name)
        _err.print(f"{detector.name}: checkpoint cleared")


def detect(
    ctx: typer.Context,
    since: Annotated[
        str | None, typer.Option(help="ISO time: start of the range (default: the checkpoint)")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="ISO time: end of the range (default: what is due)")
    ] = None,
    names: DetectorOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
) -> None:
    """Run the behaviour detectors once: every due window since each checkpoint, or every
    window of ``--since``/``--until`` (a backfill). Running a range again changes nothing."""
    app_ctx = ctx.ensure_object(AppContext)
    start, end = _moment(since), _moment(until)
    if start and end and start >= end:
        raise typer.BadParameter("--since must be before --until")
    detectors = select(app_ctx.settings.detectors, names or [])
    runner = runner_for(app_ctx.client(), app_ctx.settings)
    options = RunOptions(
        since=start,
        until=end,
        max_catchup=timedelta(days=app_ctx.settings.detectors.max_catchup_days),
    )
    quiet = as_json or not sys.stderr.isatty()
    total = _planned(detectors, start, end)
    with _progress(quiet) as progress:
        task = progress.add_task("detecting", total=total)
        runs = runner.run(detectors, options, on_window=lambda _n, _w: progress.advance(task))
    _report(runs, as_json)
    if any(run.error for run in runs):
        raise typer.Exit(1)


def worker(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option(help="run one round of due windows and exit")] = False,
    sqs_url: Annotated[
        str | None, typer.Option("--sqs", help="also ingest this SQS queue of S3 notifications")
    ] = None,
    names: DetectorOption = None,
) -> None:
    """Run the scheduler: every ``detectors.poll_seconds``, each detector's due windows (in
    order, exactly once, catching up after downtime); retention once a day and a re-read of
    every threat and trusted list every ``intel.refresh_hours``; with ``--sqs``, ingest
    beside it."""
    app_ctx = ctx.ensure_object(AppContext)
    settings = app_ctx.settings
    detectors = select(settings.detectors, names or []) if settings.detectors.enabled else []
    stop = threading.Event()
    _stop_on_signals(stop)
    ingest_thread = _ingest_beside(ctx, sqs_url, stop) if sqs_url else None
    client = app_ctx.client()

    chores = Chores(worker_chores(client, settings))

    def on_round(runs: list[DetectorRun]) -> None:
        _report([run for run in runs if run.windows or run.error], as_json=False)
        for name, summary in chores.run_due():
            _err.print(f"{name}: {summary}")

    if once:
        on_round(runner_for(client, settings).run(detectors))
        stop.set()
    else:
        _err.print(f"worker: {len(detectors)} detectors, every {settings.detectors.poll_seconds}s")
        run_forever(
            lambda: runner_for(client, settings),
            detectors,
            settings.detectors,
            on_round,
            stop.is_set,
        )
    if ingest_thread is not None:
        ingest_thread.join()


def _ingest_beside(ctx: typer.Context, sqs_url: str, stop: threading.Event) -> threading.Thread:
    from exporter.cli.ingest import _aws
    from exporter.detections.setup import ingest_matcher
    from exporter.ingest.pipeline import Ingestor
    from exporter.sources import sqs

    app_ctx = ctx.ensure_object(AppContext)
    client = connect(app_ctx.settings.opensearch)
    matcher = (
        ingest_matcher(client, app_ctx.settings) if app_ctx.settings.detection.enabled else None
    )
    ingestor = Ingestor(client, app_ctx.settings.ingest, on_created=matcher)

    def consume() -> None:
        try:
            sqs.consume(
                _aws("sqs"), _aws("s3"), ingestor, sqs_url, follow=True, should_stop=stop.is_set
            )
        finally:
            ingestor.close()

    thread = threading.Thread(target=consume, name="ingest", daemon=True)
    thread.start()
    return thread


def _stop_on_signals(stop: threading.Event) -> None:
    def handler(signum: int, _frame: FrameType | None) -> None:
        _err.print(f"worker: stopping after the current round (signal {signum})")
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def _describe(detector: Detector, params: Any, disabled: bool) -> dict[str, Any]:
    return {
        "name": detector.name,
        "source": detector.log_type,
        "finding_types": list(detector.finding_types),
        "interval": _duration(detector.interval),
        "settle": _duration(detector.settle),
        "params": dict(params),
        "logic": detector.logic,
        "disabled": disabled,
    }


def _duration(value: timedelta) -> str:
    minutes = int(value.total_seconds()) // 60
    return f"{minutes // 60}h" if minutes % 60 == 0 and minutes else f"{minutes}m"


def _planned(
    detectors: Sequence[Detector], start: datetime | None, end: datetime | None
) -> int | None:
    if start is None or end is None:
        return None
    return sum(len(list(windows(start, end, d.interval))) for d in detectors)


def _progress(quiet: bool) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("windows"),
        TimeElapsedColumn(),
        console=_err,
        disable=quiet,
        transient=True,
    )


def _report(runs: Sequence[DetectorRun], as_json: bool) -> None:
    if as_json:
        data = {"detectors": [run.to_dict() for run in runs], "totals": _totals(runs)}
        sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    table = Table(
        "detector", "windows", "from", "to", "hits", "silenced", "new", "updated", "unchanged",
        "seconds", "status",
    )  # fmt: skip
    for run in runs:
        summary = run.to_dict()
        table.add_row(
            run.detector,
            str(run.windows),
            summary["from"] or "-",
            summary["to"] or "-",
            str(run.hits),
            str(run.silenced),
            str(run.created),
            str(run.updated),
            str(run.unchanged),
            f"{run.seconds:.1f}",
            f"[red]{run.error}[/]" if run.error else "ok",
        )
    if runs:
        _out.print(table)
    totals = _totals(runs)
    _out.print(
        f"{totals['windows']} windows, {totals['hits']} hits, {totals['created']} new findings, "
        f"{totals['updated']} updated, {totals['unchanged']} unchanged"
    )


def _totals(runs: Sequence[DetectorRun]) -> dict[str, int]:
    keys = ("windows", "hits", "silenced", "created", "updated", "unchanged")
    return {key: sum(getattr(run, key) for run in runs) for key in keys}
