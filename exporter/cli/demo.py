"""``duskwatch demo``: the README's first command — the whole product on one machine."""

from __future__ import annotations

import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.table import Table

from exporter.cli.context import AppContext
from exporter.demo.run import DemoOptions, DemoResult, run
from exporter.findings import store
from exporter.findings.severity import label
from exporter.store.client import connect
from exporter.usage import total

_out = Console(width=None if sys.stdout.isatty() else 140)
_err = Console(stderr=True)
RESOURCE_ID = {
    "AccessKey": lambda r: (
        r["accessKeyDetails"].get("userName") or r["accessKeyDetails"].get("principalId")
    ),
    "Instance": lambda r: r["instanceDetails"]["instanceId"],
    "EKSCluster": lambda r: r["eksClusterDetails"]["name"],
    "S3Bucket": lambda r: r["s3BucketDetails"][0]["name"],
}


def demo(
    ctx: typer.Context,
    work_dir: Annotated[
        Path, typer.Option(help="where the simulated logs, exported findings and report go")
    ] = Path("duskwatch-demo"),
    days: Annotated[int, typer.Option(min=2, max=30, help="days of simulated activity")] = 7,
    scale: Annotated[float, typer.Option(min=0.01, max=10, help="background volume")] = 0.3,
) -> None:
    """Start the local node if needed, bootstrap it, simulate a labelled week of three accounts
    in two regions, ingest it, run the behaviour detectors, apply an example suppression rule,
    export to a local file and print what was found, suppressed, exported and what it cost."""
    settings = ctx.ensure_object(AppContext).settings
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        console=_err, disable=not sys.stderr.isatty(), transient=True,
    ) as bar:  # fmt: skip
        tasks: dict[str, TaskID] = {}

        def progress(stage: str, done: int, of: int | None) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=of)
            bar.update(tasks[stage], completed=done, total=of)

        _err.print("duskwatch demo: node, bootstrap, simulate, ingest, detect, export, report")
        result = run(settings, DemoOptions(work_dir.resolve(), days=days, scale=scale), progress)
    client = connect(settings.opensearch)
    _findings(store.search(client, archived=False, size=10_000, sort="-severity"))
    _suppressed(store.search(client, archived=True, size=10_000, raw=True))
    _summary(result)


def _resource(finding: dict[str, Any]) -> str:
    resource = finding["resource"]
    kind = resource["resourceType"]
    return str(RESOURCE_ID[kind](resource)) if kind in RESOURCE_ID else "-"


def _findings(found: list[dict[str, Any]]) -> None:
    grouped: dict[str, Counter[str]] = defaultdict(Counter)
    resources: dict[tuple[str, str], set[str]] = defaultdict(set)
    for finding in found:
        band = label(float(finding["severity"])).value
        grouped[band][finding["type"]] += int(finding["service"]["count"])
        resources[(band, finding["type"])].add(_resource(finding))
    table = Table(title=f"Active findings: {len(found)}", show_lines=False)
    for column in ("severity", "type", "findings on", "count"):
        table.add_column(column)
    for band in ("Critical", "High", "Medium", "Low"):
        for kind, count in sorted(grouped.get(band, Counter()).items()):
            on = sorted(resources[(band, kind)])
            shown = ", ".join(on[:3]) + (f" +{len(on) - 3}" if len(on) > 3 else "")
            table.add_row(band, kind, shown, str(count))
    _out.print(table)


def _suppressed(found: list[dict[str, Any]]) -> None:
    marked = [f for f in found if (f.get("duskwatch") or {}).get("suppressed_by")]
    table = Table(
        title=f"Suppressed (archived by a suppression rule, never exported): {len(marked)}"
    )
    for column in ("type", "resource", "severity", "rule"):
        table.add_column(column)
    for finding in marked[:20]:
        rule = str(finding["duskwatch"]["suppressed_by"])
        table.add_row(finding["type"], _resource(finding), str(finding["severity"]), rule)
    _out.print(table)


def _summary(result: DemoResult) -> None:
    if result.ingest is None:
        _out.print("Ingested: nothing new (this week was ingested by an earlier run)")
    else:
        totals = result.ingest.totals()
        _out.print(
            f"Ingested: {totals.read:,} records read, {totals.indexed:,} indexed, "
            f"{totals.duplicates:,} duplicates, {totals.dead_lettered:,} dead-lettered"
        )
    windows = sum(run.windows for run in result.detect)
    created = sum(run.created for run in result.detect)
    ran = len(result.detect)
    _out.print(f"Behaviour detectors: {ran} run, {windows:,} windows, {created} new findings")
    for name, tally in result.export.items():
        _out.print(
            f"Exported to {name}: {tally.delivered} delivered, {tally.withheld} withheld "
            f"(archived), {tally.parked} parked -> {result.export_path}"
        )
    summed = total(result.usage)
    _out.print(
        f"Usage: {summed['events']:,} events, {summed['bytes'] or 0:,} bytes of flow + DNS logs; "
        f"GuardDuty would charge about ${summed['cost'] or 0:,.2f} for this volume"
    )
    stages = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in result.stages.items())
    _out.print(f"Time per stage: {stages} (total {sum(result.stages.values()):.1f}s)")
    _out.print(
        "\nNext:\n"
        f"  open {result.report_path}                       # the HTML report\n"
        f"  less {result.export_path}     # what the file destination received\n"
        "  duskwatch findings list --min-severity 7        # High and Critical\n"
        "  duskwatch filters list                          # the suppression rule applied\n"
        "  duskwatch dashboards install --url http://localhost:5601   # with a Dashboards server\n"
        f"  (cluster: {result.url})"
    )
