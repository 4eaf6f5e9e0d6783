"""``duskwatch filters ...`` and ``findings list --filter`` against the real node."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import typer
from opensearchpy import OpenSearch
from typer.testing import CliRunner

from exporter import config
from exporter.cli import filters as filters_cli
from exporter.cli import findings as findings_cli
from exporter.cli.context import AppContext
from exporter.errors import DuskwatchError
from exporter.findings.writer import FindingWriter
from exporter.suppression.model import FilterError

SSH = "UnauthorizedAccess:EC2/SSHBruteForce"
PORTSCAN = "Recon:EC2/Portscan"


@pytest.fixture
def run(
    settings: config.Settings, client: OpenSearch, findings_index: str, filters_index: str
) -> Callable[..., str]:
    """Invoke ``filters`` or ``findings`` on the test's indices; returns stdout."""
    runner = CliRunner()

    def invoke(app: typer.Typer, *args: str) -> str:
        if app is findings_cli.app:
            extra = ["--index", findings_index, "--filters-index", filters_index]
        elif args[0] in ("create", "update"):
            extra = ["--index", filters_index, "--findings-index", findings_index]
        else:
            extra = ["--index", filters_index]
        result = runner.invoke(app, [*args, *extra], obj=AppContext(settings, client))
        if result.exception is not None:
            raise result.exception
        assert result.exit_code == 0, result.output
        return result.stdout

    return invoke


@pytest.fixture
def criteria(tmp_path: Path) -> Callable[[dict[str, Any]], str]:
    """Write a findingCriteria file; returns its path."""

    def write(criterion: dict[str, Any]) -> str:
        path = tmp_path / f"criteria-{len(list(tmp_path.iterdir()))}.json"
        path.write_text(json.dumps({"criterion": criterion}), "utf-8")
        return str(path)

    return write


def test_create_list_show_update_delete(
    run: Callable[..., str],
    criteria: Callable[[dict[str, Any]], str],
    client: OpenSearch,
    filters_index: str,
) -> None:
    ssh = criteria({"type": {"equals": [SSH]}})
    out = run(filters_cli.app, "create", "noisy-ssh", "--criteria", ssh, "--action", "archive",
              "--description", "bastions")  # fmt: skip
    assert "created filter noisy-ssh (ARCHIVE, rank 1)" in out
    assert "rank 2" in run(filters_cli.app, "create", "saved-view", "--criteria", ssh)

    listed = json.loads(run(filters_cli.app, "list", "--json"))
    assert [(f["name"], f["action"], f["rank"]) for f in listed] == [
        ("noisy-ssh", "ARCHIVE", 1), ("saved-view", "NOOP", 2),
    ]  # fmt: skip
    shown = json.loads(run(filters_cli.app, "show", "noisy-ssh"))
    assert shown == {
        "name": "noisy-ssh", "description": "bastions", "action": "ARCHIVE", "rank": 1,
        "findingCriteria": {"criterion": {"type": {"equals": [SSH]}}},
    }  # fmt: skip
    assert "noisy-ssh" in run(filters_cli.app, "list")

    scan = criteria({"type": {"equals": [PORTSCAN]}})
    run(filters_cli.app, "update", "noisy-ssh", "--criteria", scan, "--rank", "5")
    stored = client.get(index=filters_index, id="noisy-ssh")["_source"]
    assert stored["filter"]["rank"] == 5
    assert stored["query"] == {"bool": {"filter": [{"terms": {"type": [PORTSCAN]}}]}}
    run(filters_cli.app, "update", "noisy-ssh", "--action", "noop")
    assert "query" not in client.get(index=filters_index, id="noisy-ssh")["_source"]

    assert "deleted filter noisy-ssh" in run(filters_cli.app, "delete", "noisy-ssh")
    assert not client.exists(index=filters_index, id="noisy-ssh")


def test_apply_existing_and_findings_list_filter(
    run: Callable[..., str],
    criteria: Callable[[dict[str, Any]], str],
    client: OpenSearch,
    findings_index: str,
    make_finding: Callable[..., dict[str, Any]],
) -> None:
    found = [make_finding(SSH, instance="i-01"), make_finding(SSH, instance="i-02", severity=5.0),
             make_finding(PORTSCAN, instance="i-01", severity=5.0)]  # fmt: skip
    FindingWriter(client, findings_index).write(found, refresh=True)
    ids = [f["id"] for f in found]

    medium = criteria({"severity": {"gte": 5}})
    run(filters_cli.app, "create", "medium-up", "--criteria", medium)
    listed = json.loads(run(findings_cli.app, "list", "--json", "--filter", "medium-up"))
    assert sorted(f["id"] for f in listed) == sorted(ids[1:])
    anded = ["list", "--json", "--filter", "medium-up", "--type", SSH]
    assert [f["id"] for f in json.loads(run(findings_cli.app, *anded))] == [ids[1]]

    ssh = criteria({"type": {"equals": [SSH]}})
    out = run(filters_cli.app, "create", "mute-ssh", "--criteria", ssh, "--action", "ARCHIVE",
              "--apply-existing")  # fmt: skip
    assert "archived 2 existing finding(s)" in out
    active = json.loads(run(findings_cli.app, "list", "--json"))
    assert [f["id"] for f in active] == [ids[2]]
    archived = json.loads(run(findings_cli.app, "list", "--json", "--archived"))
    assert sorted(f["id"] for f in archived) == sorted(ids[:2])
    again = run(filters_cli.app, "update", "mute-ssh", "--apply-existing")
    assert "archived 0 existing finding(s)" in again


def test_user_errors(
    run: Callable[..., str], criteria: Callable[[dict[str, Any]], str], tmp_path: Path
) -> None:
    bad = criteria({"severity": {"matches": ["7*"]}, "type": {"equal": ["x"]}})
    with pytest.raises(FilterError) as raised:
        run(filters_cli.app, "create", "bad-one", "--criteria", bad)
    assert raised.value.problems == [
        "criterion 'type', operator 'equal': expected a known operator (equals, notEquals, "
        "greaterThan, greaterThanOrEqual, lessThan, lessThanOrEqual, matches, notMatches, "
        "eq, neq, gt, gte, lt, lte)",
        "criterion 'severity', operator 'matches': expected a string attribute, "
        "'severity' is a number",
    ]
    good = criteria({"type": {"equals": [SSH]}})
    run(filters_cli.app, "create", "only-one", "--criteria", good)
    with pytest.raises(DuskwatchError, match="filter only-one already exists"):
        run(filters_cli.app, "create", "only-one", "--criteria", good)
    with pytest.raises(DuskwatchError, match="no filter missing-one"):
        run(filters_cli.app, "show", "missing-one")
    with pytest.raises(DuskwatchError, match="no filter missing-one"):
        run(findings_cli.app, "list", "--filter", "missing-one")
    with pytest.raises(DuskwatchError, match="only ARCHIVE filters archive findings"):
        run(filters_cli.app, "update", "only-one", "--apply-existing")
    with pytest.raises(DuskwatchError, match="nothing to change"):
        run(filters_cli.app, "update", "only-one")
    (tmp_path / "broken.json").write_text("{", "utf-8")
    with pytest.raises(DuskwatchError, match="not valid JSON"):
        run(filters_cli.app, "create", "broken", "--criteria", str(tmp_path / "broken.json"))
