"""``duskwatch filters``: GuardDuty filters — saved filters (NOOP) and suppression rules (ARCHIVE).

A suppression rule archives every new or recurring finding it matches before the finding is
written, so it never reaches an export destination; ``--apply-existing`` also archives the
findings already stored.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from opensearchpy import OpenSearch
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from exporter.cli.context import AppContext
from exporter.errors import DuskwatchError
from exporter.findings.store import FINDINGS_INDEX
from exporter.suppression import store
from exporter.suppression.attributes import attribute_types
from exporter.suppression.compile import DEPRECATED, OPERATORS, TYPE_NAMES
from exporter.suppression.model import Action, Filter, parse_filter

app = typer.Typer(
    help="GuardDuty filters: saved filters (NOOP) and suppression rules (ARCHIVE).",
    no_args_is_help=True,
)

_out = Console(width=None if sys.stdout.isatty() else 160)

NameArg = Annotated[str, typer.Argument(help="filter name (3-64 of A-Z a-z 0-9 _ . -)")]
IndexOption = Annotated[str, typer.Option("--index", hidden=True)]
FindingsIndexOption = Annotated[str, typer.Option("--findings-index", hidden=True)]
CRITERIA_HELP = 'JSON file: {"criterion": {attribute: {operator: value}}} (or a whole filter)'
CriteriaOption = Annotated[Path | None, typer.Option("--criteria", help=CRITERIA_HELP)]
ActionOption = Annotated[
    Action | None,
    typer.Option(case_sensitive=False, help="ARCHIVE: a suppression rule; NOOP: a saved filter"),
]
RankOption = Annotated[int | None, typer.Option(help="1-100, the order filters apply in")]
DescriptionOption = Annotated[str | None, typer.Option(help="at most 512 characters")]
ApplyOption = Annotated[
    bool,
    typer.Option("--apply-existing", help="also archive the stored findings it matches"),
]


def _client(ctx: typer.Context) -> OpenSearch:
    client: OpenSearch = ctx.ensure_object(AppContext).client()
    return client


def read_criteria(path: Path) -> Any:
    """The ``findingCriteria`` in a JSON file (bare, or the ``findingCriteria`` of a filter)."""
    try:
        loaded = json.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise DuskwatchError(f"cannot read {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise DuskwatchError(f"{path}: not valid JSON ({exc})") from None
    if isinstance(loaded, dict) and "findingCriteria" in loaded:
        return loaded["findingCriteria"]
    return loaded


def _print_json(value: Any) -> None:
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n")


def _apply(client: OpenSearch, flt: Filter, findings_index: str) -> None:
    archived = store.apply_existing(client, flt, findings_index)
    _out.print(f"archived {archived} existing finding(s)")


@app.command()
def create(
    ctx: typer.Context,
    name: NameArg,
    criteria: Annotated[Path, typer.Option("--criteria", help=CRITERIA_HELP)],
    action: ActionOption = None,
    rank: RankOption = None,
    description: DescriptionOption = None,
    apply_existing: ApplyOption = False,
    index: IndexOption = store.FILTERS_INDEX,
    findings_index: FindingsIndexOption = FINDINGS_INDEX,
) -> None:
    """Create a filter (NOOP unless --action archive; ranked after the others unless --rank)."""
    client = _client(ctx)
    flt = parse_filter(
        {
            "name": name,
            "action": (action or Action.NOOP).value,
            "rank": store.next_rank(client, index) if rank is None else rank,
            "description": description or "",
            "findingCriteria": read_criteria(criteria),
        }
    )
    store.create(client, flt, index)
    _out.print(f"created filter {escape(flt.name)} ({flt.action.value}, rank {flt.rank})")
    if apply_existing:
        _apply(client, flt, findings_index)


@app.command("list")
def list_filters(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="print GuardDuty filter JSON")] = False,
    index: IndexOption = store.FILTERS_INDEX,
) -> None:
    """Every filter, by rank."""
    filters = store.list_filters(_client(ctx), index)
    if as_json:
        _print_json([f.to_guardduty() for f in filters])
        return
    table = Table("rank", "name", "action", "attributes", "description")
    for flt in filters:
        attributes = ", ".join(flt.criteria["criterion"])
        table.add_row(
            str(flt.rank), escape(flt.name), flt.action.value, escape(attributes),
            escape(flt.description),
        )  # fmt: skip
    _out.print(table)


@app.command()
def show(ctx: typer.Context, name: NameArg, index: IndexOption = store.FILTERS_INDEX) -> None:
    """One filter as GuardDuty's JSON (GetFilter)."""
    _print_json(store.get(_client(ctx), name, index).to_guardduty())


@app.command()
def update(
    ctx: typer.Context,
    name: NameArg,
    criteria: CriteriaOption = None,
    action: ActionOption = None,
    rank: RankOption = None,
    description: DescriptionOption = None,
    apply_existing: ApplyOption = False,
    index: IndexOption = store.FILTERS_INDEX,
    findings_index: FindingsIndexOption = FINDINGS_INDEX,
) -> None:
    """Change a filter's criteria, action, rank or description; its suppression follows."""
    given = {
        "findingCriteria": None if criteria is None else read_criteria(criteria),
        "action": None if action is None else action.value,
        "rank": rank,
        "description": description,
    }
    changes = {k: v for k, v in given.items() if v is not None}
    if not changes and not apply_existing:
        raise DuskwatchError(
            "nothing to change",
            hint="give --criteria, --action, --rank, --description or --apply-existing",
        )
    client = _client(ctx)
    flt = store.update(client, name, changes, index) if changes else store.get(client, name, index)
    _out.print(f"updated filter {escape(flt.name)} ({flt.action.value}, rank {flt.rank})")
    if apply_existing:
        _apply(client, flt, findings_index)


@app.command()
def delete(ctx: typer.Context, name: NameArg, index: IndexOption = store.FILTERS_INDEX) -> None:
    """Delete a filter; findings it archived stay archived (unarchive them by hand)."""
    store.delete(_client(ctx), name, index)
    _out.print(f"deleted filter {escape(name)}")


@app.command()
def attributes(
    contains: Annotated[str | None, typer.Argument(help="only names containing this")] = None,
) -> None:
    """The finding attributes a criterion may use, their type and operators (deprecated
    eq, neq, gt, gte, lt, lte work as equals, notEquals, greaterThan ...)."""
    table = Table("attribute", "type", "operators")
    for name, kind in attribute_types().items():
        if contains is None or contains.lower() in name.lower():
            usable = ", ".join(
                op for op, spec in OPERATORS.items() if kind in spec.types and op not in DEPRECATED
            )
            table.add_row(name, TYPE_NAMES[kind], usable)
    _out.print(table)
