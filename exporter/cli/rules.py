"""``duskwatch rules``: list, validate, test and install the signature rules.

Rules come from the built-in catalogue, ``detection.rules_dirs`` of the config and ``--dir``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from exporter.cli.context import AppContext
from exporter.detections.rules import (
    RULES_INDEX,
    CaseResult,
    Rule,
    SeverityTable,
    Status,
    check_rules,
    install,
    load_rules,
    run_tests,
)
from exporter.errors import DuskwatchError

app = typer.Typer(
    help="Signature rules: list, validate, test and install.",
    no_args_is_help=True,
)

_out = Console(width=None if sys.stdout.isatty() else 160)
_err = Console(stderr=True, soft_wrap=True)
_STYLE = {Status.PASS: "green", Status.PENDING: "yellow", Status.FAIL: "red", Status.ERROR: "red"}

DirsOption = Annotated[
    list[Path] | None,
    typer.Option("--dir", help="an extra directory of rule files (repeatable)"),
]


def _rules(ctx: typer.Context, dirs: Sequence[Path] | None) -> list[Rule]:
    return load_rules(_dirs(ctx, dirs))


def _dirs(ctx: typer.Context, dirs: Sequence[Path] | None) -> list[Path]:
    app_ctx: AppContext = ctx.ensure_object(AppContext)
    return [*map(Path, app_ctx.settings.detection.rules_dirs), *(dirs or [])]


def _severity(rule: Rule) -> str:
    if isinstance(rule.severity, SeverityTable):
        table = rule.severity
        values = [table.default, *table.values.values()]
        return f"{min(values):g}-{max(values):g} by {table.field}"
    return f"{rule.severity:g}"


@app.command("list")
def list_rules(ctx: typer.Context, dirs: DirsOption = None) -> None:
    """Every rule: id, finding type, severity, log types and its tests."""
    table = Table("id", "finding type", "severity", "log types", "tests")
    for rule in sorted(_rules(ctx, dirs), key=lambda r: r.id):
        positive = sum(t.expect == "match" for t in rule.tests)
        tests = f"{positive} match, {len(rule.tests) - positive} no_match"
        table.add_row(rule.id, rule.finding_type, _severity(rule), ", ".join(rule.log_types), tests)
    _out.print(table)


@app.command()
def validate(ctx: typer.Context, dirs: DirsOption = None) -> None:
    """Check every rule file; print every problem of every file (exit 1 if any)."""
    rules, problems = check_rules(_dirs(ctx, dirs))
    for problem in problems:
        _err.print(f"[red]error:[/] {problem}", highlight=False)
    if problems:
        _err.print(f"{len(problems)} problem(s)")
        raise typer.Exit(1)
    _out.print(f"{len(rules)} rules OK")


@app.command("test")
def run_rule_tests(
    ctx: typer.Context,
    dirs: DirsOption = None,
    ids: Annotated[
        list[str] | None, typer.Option("--id", help="only this rule id (repeatable)")
    ] = None,
) -> None:
    """Run the rules' embedded tests on the configured cluster (exit 1 on any failure)."""
    rules = _select(_rules(ctx, dirs), ids or [])
    results = run_tests(ctx.ensure_object(AppContext).client(), rules)
    _report(results)
    failed = [r for r in results if not r.ok]
    if failed:
        _err.print(f"[red]{len(failed)} of {len(results)} test(s) failed[/]")
        raise typer.Exit(1)


@app.command("install")
def install_rules(
    ctx: typer.Context,
    dirs: DirsOption = None,
    index: Annotated[str, typer.Option(help="the percolator index")] = RULES_INDEX,
) -> None:
    """Install the rules as percolator queries (idempotent; removed rules are deleted)."""
    result = install(ctx.ensure_object(AppContext).client(), _rules(ctx, dirs), index)
    _out.print(
        f"{index}: {len(result.created)} created, {len(result.updated)} updated, "
        f"{len(result.unchanged)} unchanged, {len(result.deleted)} deleted"
    )
    for rule_id, fields in sorted(result.skipped.items()):
        _err.print(f"[yellow]skipped[/] {rule_id}: the index does not map {', '.join(fields)}")
    for rule_id, reason in sorted(result.failed.items()):
        _err.print(f"[red]failed[/] {rule_id}: {reason}", highlight=False)
    if not result.ok:
        raise typer.Exit(1)


def _select(rules: list[Rule], ids: list[str]) -> list[Rule]:
    if not ids:
        return rules
    unknown = sorted(set(ids) - {rule.id for rule in rules})
    if unknown:
        raise DuskwatchError(
            f"no rule with id {', '.join(unknown)}", hint="duskwatch rules list shows the ids"
        )
    return [rule for rule in rules if rule.id in ids]


def _report(results: list[CaseResult]) -> None:
    table = Table("rule", "test", "expect", "result", "detail")
    for result in results:
        style = _STYLE[result.status]
        table.add_row(
            result.rule_id,
            result.name,
            result.expect,
            f"[{style}]{result.status.value}[/]",
            result.detail,
        )
    _out.print(table)
