"""``duskwatch findings ...`` against the real node, on an index of the test's own."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from opensearchpy import OpenSearch
from typer.testing import CliRunner

from exporter import config
from exporter.cli.context import AppContext
from exporter.cli.findings import app
from exporter.errors import DuskwatchError

TYPES = ["UnauthorizedAccess:EC2/SSHBruteForce", "Discovery:S3/TorIPCaller"]


@pytest.fixture
def index(client: OpenSearch) -> Iterator[str]:
    name = f"duskwatch-findings-test-{uuid.uuid4().hex}"
    yield name
    client.indices.delete(index=name, ignore_unavailable=True)


@pytest.fixture
def run(settings: config.Settings, client: OpenSearch, index: str) -> Any:
    """Invoke a findings command on the test index; returns stdout, raises on failure."""
    runner = CliRunner()

    def invoke(*args: str) -> str:
        result = runner.invoke(app, [*args, "--index", index], obj=AppContext(settings, client))
        if result.exception is not None:
            raise result.exception
        assert result.exit_code == 0, result.output
        return result.stdout

    return invoke


def test_sample_list_show_archive_stats(run: Any) -> None:
    ids = run("sample", "--type", TYPES[0], "--type", TYPES[1]).split()
    assert len(ids) == 2

    listed = json.loads(run("list", "--json"))
    assert {f["id"] for f in listed} == set(ids)
    assert all(f["title"].startswith("[SAMPLE] ") for f in listed)
    assert not any("event" in f or "duskwatch" in f for f in listed)

    shown = json.loads(run("show", ids[0]))
    assert (shown["id"], shown["type"]) == (ids[0], TYPES[0])

    assert "archived 1" in run("archive", ids[0])
    assert [f["id"] for f in json.loads(run("list", "--json"))] == [ids[1]]
    assert [f["id"] for f in json.loads(run("list", "--json", "--archived"))] == [ids[0]]
    assert len(json.loads(run("list", "--json", "--all"))) == 2
    assert "unarchived 1" in run("unarchive", ids[0])

    table = run("list")
    assert "SSHBruteForce" in table
    assert "Instance i-99999999" in table
    counted = json.loads(run("stats", "--json"))
    assert counted["total"] == 2
    assert counted["bySeverity"] == {"Low": 1, "Medium": 1, "High": 0, "Critical": 0}


def test_list_filters(run: Any) -> None:
    run("sample", "--type", TYPES[0], "--type", TYPES[1])
    medium = json.loads(run("list", "--json", "--min-severity", "medium"))
    assert [f["type"] for f in medium] == [TYPES[1]]
    assert json.loads(run("list", "--json", "--type", TYPES[0]))[0]["type"] == TYPES[0]
    assert json.loads(run("list", "--json", "--account", "999999999999")) == []
    assert json.loads(run("list", "--json", "--since", "2999-01-01T00:00:00Z")) == []


def test_user_errors(run: Any) -> None:
    with pytest.raises(DuskwatchError, match="unknown finding type"):
        run("sample", "--type", "Nope:EC2/Nothing")
    run("sample", "--type", TYPES[0])
    with pytest.raises(DuskwatchError, match="no finding"):
        run("show", "0" * 32)
    with pytest.raises(DuskwatchError, match="no finding"):
        run("archive", "0" * 32)
    with pytest.raises(DuskwatchError, match="exclude each other"):
        run("list", "--all", "--archived")


@pytest.mark.parametrize(
    "args",
    [
        ["list", "--min-severity", "11"],
        ["list", "--min-severity", "severe"],
        ["list", "--since", "yesterday"],
        ["sample", "--account", "1234"],
        ["sample", "--region", "mars"],
    ],
)
def test_bad_options(
    settings: config.Settings, client: OpenSearch, index: str, args: list[str]
) -> None:
    result = CliRunner().invoke(app, [*args, "--index", index], obj=AppContext(settings, client))
    assert result.exit_code == 2
    assert "Invalid value" in result.output
