"""``duskwatch findings``: list, show, archive and count GuardDuty-format findings."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from exporter.cli.context import AppContext
from exporter.errors import DuskwatchError
from exporter.findings import store
from exporter.findings.build import REGION_PATTERN
from exporter.findings.samples import sample_findings
from exporter.findings.severity import BANDS, Label, label, parse_label
from exporter.findings.types import FINDING_TYPES
from exporter.normalize.ecs import get_path
from exporter.suppression import store as filters

app = typer.Typer(
    help="GuardDuty-format findings: list, show, archive, statistics, samples.",
    no_args_is_help=True,
)

_out = Console(width=None if sys.stdout.isatty() else 160)
_STYLE = {Label.LOW: "blue", Label.MEDIUM: "yellow", Label.HIGH: "red", Label.CRITICAL: "bold red"}
RESOURCE_NAMES: dict[str, tuple[str, ...]] = {
    "Instance": ("instanceDetails.instanceId",),
    "AccessKey": ("accessKeyDetails.userName", "accessKeyDetails.accessKeyId"),
    "S3Bucket": ("s3BucketDetails.0.name",),
    "EKSCluster": ("eksClusterDetails.name",),
}
"""Where the table finds the name of each resource type."""

IndexOption = Annotated[str, typer.Option("--index", hidden=True)]
IdsArg = Annotated[list[str], typer.Argument(help="finding ids")]


def _client(ctx: typer.Context) -> Any:
    return ctx.ensure_object(AppContext).client()


def _min_severity(value: str | None) -> float | None:
    """A number from 1 to 10, or a label (low, medium, high, critical) meaning its lower bound."""
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        try:
            rank = parse_label(value)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None
        return next(band.lower for band in BANDS if band.label == rank)
    if not 1.0 <= number <= 10.0:
        raise typer.BadParameter(f"{value}: expected a severity from 1 to 10 or a label")
    return number


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(f"{value!r}: expected an ISO 8601 time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _account(value: str) -> str:
    if not (value.isdigit() and len(value) == 12):
        raise typer.BadParameter(f"{value!r}: expected a 12-digit AWS account id")
    return value


def _region(value: str) -> str:
    if not REGION_PATTERN.match(value):
        raise typer.BadParameter(f"{value!r}: expected an AWS region such as eu-west-1")
    return value


def resource_name(finding: Mapping[str, Any]) -> str:
    """``<resourceType> <name>`` of a finding's resource, for tables."""
    kind = str(get_path(finding, "resource.resourceType"))
    resource = finding.get("resource", {})
    for path in RESOURCE_NAMES.get(kind, ()):
        head, _, rest = path.partition(".0.")
        value = get_path(resource, head)
        if rest and isinstance(value, list) and value:
            value = get_path(value[0], rest)
        if value:
            return f"{kind} {value}"
    return kind


def _print_json(value: Any) -> None:
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n")


def _table(findings: list[dict[str, Any]]) -> Table:
    table = Table("severity", "type", "resource", "count", "last seen", "id")
    for finding in findings:
        rank = label(finding["severity"])
        table.add_row(
            f"[{_STYLE[rank]}]{rank.value}[/]",
            escape(finding["type"]),
            escape(resource_name(finding)),
            str(finding["service"]["count"]),
            finding["service"]["eventLastSeen"],
            finding["id"],
        )
    return table


@app.command("list")
def list_findings(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="print GuardDuty finding JSON")] = False,
    show_all: Annotated[bool, typer.Option("--all", help="active and archived")] = False,
    archived: Annotated[bool, typer.Option("--archived", help="archived only")] = False,
    types: Annotated[list[str] | None, typer.Option("--type", help="finding type")] = None,
    min_severity: Annotated[
        str | None, typer.Option(help="a severity from 1 to 10, or low/medium/high/critical")
    ] = None,
    account: Annotated[str | None, typer.Option(help="AWS account id")] = None,
    since: Annotated[str | None, typer.Option(help="updated at or after (ISO 8601)")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="at most this many")] = 50,
    saved: Annotated[str | None, typer.Option("--filter", help="a saved filter's name")] = None,
    index: IndexOption = store.FINDINGS_INDEX,
    filters_index: Annotated[str, typer.Option(hidden=True)] = filters.FILTERS_INDEX,
) -> None:
    """Findings, most recently updated first (active only unless --all or --archived)."""
    if show_all and archived:
        raise DuskwatchError("--all and --archived exclude each other")
    client = _client(ctx)
    options: dict[str, Any] = {
        "archived": None if show_all else archived,
        "types": types or (),
        "min_severity": _min_severity(min_severity),
        "account": account,
        "since": _since(since),
        "size": limit,
        "index": index,
    }
    if saved is None:
        found = store.search(client, **options)
    else:
        query = filters.filter_query(client, saved, filters_index)
        found = filters.search_findings(client, query, **options)
    if as_json:
        _print_json(found)
    else:
        _out.print(_table(found))


@app.command()
def show(
    ctx: typer.Context,
    finding_id: Annotated[str, typer.Argument(help="finding id")],
    index: IndexOption = store.FINDINGS_INDEX,
) -> None:
    """One finding as GuardDuty's JSON."""
    found = store.get(_client(ctx), [finding_id], index)
    if not found:
        raise DuskwatchError(f"no finding {finding_id}", hint="duskwatch findings list --all")
    _print_json(found[0])


def _apply(changed: list[str], wanted: list[str], verb: str) -> None:
    _out.print(f"{verb} {len(changed)} finding(s)")
    missing = [i for i in dict.fromkeys(wanted) if i not in changed]
    if missing:
        raise DuskwatchError(f"no finding {', '.join(missing)}")


@app.command("archive")
def archive_findings(
    ctx: typer.Context, ids: IdsArg, index: IndexOption = store.FINDINGS_INDEX
) -> None:
    """Archive findings (a recurrence makes them active again)."""
    _apply(store.archive(_client(ctx), ids, index, refresh=True), ids, "archived")


@app.command("unarchive")
def unarchive_findings(
    ctx: typer.Context, ids: IdsArg, index: IndexOption = store.FINDINGS_INDEX
) -> None:
    """Make archived findings active again."""
    _apply(store.unarchive(_client(ctx), ids, index, refresh=True), ids, "unarchived")


@app.command("stats")
def stats_findings(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    show_all: Annotated[bool, typer.Option("--all", help="count archived findings too")] = False,
    index: IndexOption = store.FINDINGS_INDEX,
) -> None:
    """Finding counts by severity and by type (active findings unless --all)."""
    counted = store.stats(_client(ctx), archived=None if show_all else False, index=index)
    if as_json:
        _print_json(
            {"total": counted.total, "bySeverity": counted.by_severity, "byType": counted.by_type}
        )
        return
    severities = Table("severity", "findings")
    for name, count in counted.by_severity.items():
        severities.add_row(f"[{_STYLE[Label(name)]}]{name}[/]", str(count))
    types = Table("type", "findings")
    for name, count in counted.by_type.items():
        types.add_row(escape(name), str(count))
    _out.print(severities)
    _out.print(types)
    _out.print(f"total {counted.total}")


@app.command("types")
def list_types() -> None:
    """The known finding types: data source, default severity, resource, summary."""
    table = Table("type", "source", "severity", "resource", "summary")
    for name, kind in FINDING_TYPES.items():
        rank = label(kind.severity)
        table.add_row(
            escape(name), kind.log_type, f"[{_STYLE[rank]}]{rank.value}[/]",
            kind.resource_type, kind.summary,
        )  # fmt: skip
    _out.print(table)


@app.command("sample")
def sample(
    ctx: typer.Context,
    types: Annotated[
        list[str] | None, typer.Option("--type", help="finding type (default: every known type)")
    ] = None,
    account: Annotated[
        str, typer.Option(callback=_account, help="12-digit account id of the samples")
    ] = "123456789012",
    region: Annotated[
        str, typer.Option(callback=_region, help="AWS region of the samples")
    ] = "us-east-1",
    index: IndexOption = store.FINDINGS_INDEX,
) -> None:
    """Create sample findings, like GuardDuty's CreateSampleFindings; prints their ids."""
    unknown = [t for t in types or () if t not in FINDING_TYPES]
    if unknown:
        raise DuskwatchError(
            f"unknown finding type {', '.join(unknown)}", hint="duskwatch findings types"
        )
    app_context: AppContext = ctx.ensure_object(AppContext)
    client = app_context.client()
    detector = store.detector_id(client, app_context.settings.detection.detector_id)
    now = datetime.now(UTC)
    samples = sample_findings(types, now=now, detector_id=detector, account=account, region=region)
    store.upsert(client, samples, index, refresh=True)  # validates every sample first
    for finding in samples:
        _out.print(finding["id"], highlight=False)
