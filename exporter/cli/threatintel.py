"""``duskwatch threatlist | trustedlist | intel``: threat lists, trusted lists and feeds."""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from typing import Annotated, Any, cast

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from exporter.cli.context import AppContext
from exporter.detections.threatintel import feeds, store
from exporter.detections.threatintel.meta import ListMeta, ListSpec
from exporter.detections.threatintel.model import (
    CATEGORIES,
    ENTRY_KINDS,
    LIST_FORMATS,
    EntryKind,
    Limits,
    ListError,
    ListFormat,
    ListKind,
    ThreatListError,
    configured_limits,
)
from exporter.detections.threatintel.queries import THREATINTEL_INDEX

threatlist_app = typer.Typer(help="Threat lists: IPs, CIDRs and domains that make findings.")
trustedlist_app = typer.Typer(help="The trusted list: IPs and CIDRs that never make findings.")
intel_app = typer.Typer(help="Public threat-intel feeds (Tor exits, C2 IPs, malware hosts).")

_out = Console(width=None if sys.stdout.isatty() else 160)
_err = Console(stderr=True, soft_wrap=True)
SHOWN_ERRORS = 20
_DURATION = re.compile(r"(\d+)([smhd])")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _choice(allowed: Sequence[str]) -> Any:
    def check(value: str) -> str:
        if value not in allowed:
            raise typer.BadParameter(f"{value!r}: expected one of {', '.join(allowed)}")
        return value

    return check


def _duration(value: str | None) -> int | None:
    if value is None:
        return None
    found = _DURATION.fullmatch(value.strip())
    if not found:
        raise typer.BadParameter(f"{value!r}: expected a duration such as 30m, 6h or 1d")
    return int(found.group(1)) * _SECONDS[found.group(2)]


NameArg = Annotated[str, typer.Argument(help="list name (letters, digits, . _ -)")]
LocationArg = Annotated[str, typer.Argument(help="file path, s3://bucket/key or https:// URL")]
FormatOption = Annotated[
    str,
    typer.Option(
        "--format",
        callback=_choice(("auto", *LIST_FORMATS)),
        help="auto, " + ", ".join(LIST_FORMATS),
    ),
]
KindOption = Annotated[
    str, typer.Option("--kind", callback=_choice(ENTRY_KINDS), help="entries: auto, ip or domain")
]
IntervalOption = Annotated[
    str | None, typer.Option("--refresh-interval", help="how often to re-read it, e.g. 6h")
]
IndexOption = Annotated[str, typer.Option("--index", hidden=True)]


def _client(ctx: typer.Context) -> Any:
    return ctx.ensure_object(AppContext).client()


def _limits(ctx: typer.Context) -> Limits:
    return configured_limits(ctx.ensure_object(AppContext).settings.intel)


def _add(ctx: typer.Context, spec: ListSpec, index: str) -> None:
    result = store.add(_client(ctx), spec, index=index, limits=_limits(ctx))
    meta = result.meta
    label = f"{meta.list_kind} list {meta.name}"
    if result.unchanged:
        _out.print(f"{label}: unchanged, {meta.entries:,} entries from {meta.location}")
    else:
        _out.print(
            f"{label}: {meta.entries:,} entries from {meta.location} "
            f"(written {result.written:,}, removed {result.removed:,}, skipped {meta.skipped:,})"
        )
    _report_errors(result.errors)


def _report_errors(errors: Sequence[ListError]) -> None:
    for error in errors[:SHOWN_ERRORS]:
        _err.print(f"[yellow]bad[/] {escape(str(error))}", highlight=False)
    if len(errors) > SHOWN_ERRORS:
        _err.print(f"... and {len(errors) - SHOWN_ERRORS:,} more bad lines (skipped)")


def _format(value: str) -> ListFormat | None:
    return None if value == "auto" else cast(ListFormat, value)


@threatlist_app.command("add")
def threat_add(
    ctx: typer.Context,
    name: NameArg,
    location: LocationArg,
    list_format: FormatOption = "auto",
    kind: KindOption = "auto",
    category: Annotated[
        str, typer.Option(callback=_choice(tuple(CATEGORIES)), help=", ".join(CATEGORIES))
    ] = "custom",
    refresh_interval: IntervalOption = None,
    index: IndexOption = THREATINTEL_INDEX,
) -> None:
    """Add a threat list, or replace the one of that name (re-adding is idempotent)."""
    spec = ListSpec(
        name,
        "threat",
        location,
        _format(list_format),
        cast(EntryKind, kind),
        category,
        refresh_interval_s=_duration(refresh_interval),
    )
    _add(ctx, spec, index)


@trustedlist_app.command("add")
def trusted_add(
    ctx: typer.Context,
    name: NameArg,
    location: LocationArg,
    list_format: FormatOption = "auto",
    kind: KindOption = "auto",
    refresh_interval: IntervalOption = None,
    index: IndexOption = THREATINTEL_INDEX,
) -> None:
    """Add the trusted list, or replace it (one trusted list of up to 2,000 entries)."""
    spec = ListSpec(
        name,
        "trusted",
        location,
        _format(list_format),
        cast(EntryKind, kind),
        None,
        refresh_interval_s=_duration(refresh_interval),
    )
    _add(ctx, spec, index)


def _list(ctx: typer.Context, list_kind: ListKind, index: str) -> None:
    table = Table(
        "name", "category", "entries", "format", "builtin", "origin", "location", "refreshed"
    )
    table.add_column("version")
    for meta in store.lists(_client(ctx), list_kind, index=index):
        table.add_row(
            meta.name,
            meta.category or "-",
            f"{meta.entries:,}",
            meta.list_format or "-",
            "true" if meta.builtin else "false",
            meta.origin,
            meta.location,
            meta.refreshed_at,
            meta.version or "-",
        )
    _out.print(table)


def _show(ctx: typer.Context, list_kind: ListKind, name: str, index: str, limit: int) -> None:
    view = store.show(_client(ctx), name, list_kind, index=index, limit=limit)
    if view is None:
        raise ThreatListError(f"no {list_kind} list named {name!r}")
    about = Table(show_header=False, box=None)
    for key, value in _meta_rows(view.meta):
        about.add_row(key, value)
    about.add_row("stored entries", f"{view.stored:,}")
    _out.print(about)
    entries = Table("indicator", "type", "category", "threat name")
    for entry in view.entries:
        entries.add_row(
            str(entry.get("indicator")),
            str(entry.get("indicator_type")),
            str(entry.get("category") or "-"),
            str(entry.get("threat_name") or "-"),
        )
    _out.print(entries)
    if view.stored > len(view.entries):
        _out.print(f"(first {len(view.entries)} of {view.stored:,}; --limit shows more)")


def _meta_rows(meta: ListMeta) -> list[tuple[str, str]]:
    return [
        ("name", meta.name),
        ("kind", meta.list_kind),
        ("category", meta.category or "-"),
        ("builtin", str(meta.builtin).lower()),
        ("origin", meta.origin),
        ("location", meta.location),
        ("format", meta.list_format or "-"),
        ("entry kind", meta.entry_kind),
        ("entries", f"{meta.entries:,}"),
        ("bad lines", f"{meta.errors:,}"),
        ("skipped", f"{meta.skipped:,}"),
        ("sha256", meta.sha256),
        ("version", meta.version or "-"),
        ("refresh interval", f"{meta.refresh_interval_s}s" if meta.refresh_interval_s else "-"),
        ("added", meta.added_at),
        ("refreshed", meta.refreshed_at),
    ]


def _remove(ctx: typer.Context, list_kind: ListKind, name: str, index: str) -> None:
    removed = store.remove(_client(ctx), name, list_kind, index=index)
    if removed is None:
        raise ThreatListError(f"no {list_kind} list named {name!r}")
    _out.print(f"removed {list_kind} list {name} ({removed:,} entries)")


def _refresh(ctx: typer.Context, list_kind: ListKind, name: str | None, index: str) -> None:
    outcomes = store.refresh(_client(ctx), list_kind, name, index=index, limits=_limits(ctx))
    table = Table("name", "status", "entries", "written", "removed", "detail")
    for outcome in outcomes:
        result = outcome.result
        if result is None:
            table.add_row(outcome.name, "[red]error[/]", "-", "-", "-", outcome.error or "")
            continue
        status = "unchanged" if result.unchanged else "updated"
        detail = f"{len(result.errors):,} bad lines" if result.errors else ""
        table.add_row(
            outcome.name,
            status,
            f"{result.meta.entries:,}",
            f"{result.written:,}",
            f"{result.removed:,}",
            detail,
        )
    _out.print(table)
    if any(outcome.error for outcome in outcomes):
        raise typer.Exit(1)


def _register(app: typer.Typer, list_kind: ListKind) -> None:
    """``list``, ``show``, ``remove`` and ``refresh`` for lists of ``list_kind``."""
    noun = f"{list_kind} list"

    @app.command("list", help=f"Show every {noun} with its entry count and source.")
    def list_command(ctx: typer.Context, index: IndexOption = THREATINTEL_INDEX) -> None:
        _list(ctx, list_kind, index)

    @app.command("show", help=f"Show a {noun}: its metadata and first entries.")
    def show_command(
        ctx: typer.Context,
        name: NameArg,
        limit: Annotated[int, typer.Option(min=0, help="entries to show")] = 20,
        index: IndexOption = THREATINTEL_INDEX,
    ) -> None:
        _show(ctx, list_kind, name, index, limit)

    @app.command("remove", help=f"Delete a {noun} and all its entries.")
    def remove_command(
        ctx: typer.Context, name: NameArg, index: IndexOption = THREATINTEL_INDEX
    ) -> None:
        _remove(ctx, list_kind, name, index)

    @app.command("refresh", help=f"Re-read a {noun} (or every one) from its location.")
    def refresh_command(
        ctx: typer.Context,
        name: Annotated[str | None, typer.Argument(help="list name (default: all)")] = None,
        index: IndexOption = THREATINTEL_INDEX,
    ) -> None:
        _refresh(ctx, list_kind, name, index)


_register(threatlist_app, "threat")
_register(trustedlist_app, "trusted")


@intel_app.command("update")
def update(
    ctx: typer.Context,
    feed: Annotated[
        list[str] | None,
        typer.Option(help="NAME=URL (a default feed elsewhere) or NAME:CATEGORY=URL; repeatable"),
    ] = None,
    index: IndexOption = THREATINTEL_INDEX,
) -> None:
    """Fetch the threat-intel feeds (default: the default feeds with ``intel.feeds`` applied)
    into threat lists."""
    configured = feeds.configured_feeds(ctx.ensure_object(AppContext).settings.intel.feeds)
    chosen = [feeds.parse_feed_option(v, configured) for v in feed] if feed else configured
    results = feeds.update(_client(ctx), chosen, index=index, limits=_limits(ctx))
    table = Table("feed", "category", "status", "entries", "url", "detail")
    for result in results:
        if result.result is None:
            row = ("[red]error[/]", "-", result.error or "")
        else:
            loaded = result.result
            status = "unchanged" if loaded.unchanged else "updated"
            bad = f"{len(loaded.errors):,} bad lines" if loaded.errors else ""
            row = (status, f"{loaded.meta.entries:,}", bad)
        table.add_row(
            result.feed.name, result.feed.category, row[0], row[1], result.feed.url, row[2]
        )
    _out.print(table)
    if any(result.error for result in results):
        raise typer.Exit(1)
