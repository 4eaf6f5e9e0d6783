"""Rematch on the real node: events written without matching get their findings afterwards,
and matching them again changes nothing; an ingest interrupted between writing and matching
says how to repair it, and the repair (rematch by ingest time) gives every finding."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
from opensearchpy import OpenSearch
from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError
from typer.testing import CliRunner

from exporter import config
from exporter.cli import ingest as ingest_cli
from exporter.cli.context import AppContext
from exporter.detections.matcher import Indices, Matcher
from exporter.detections.rematch import INGEST_TIME, rematch
from exporter.detections.rules import install, load_rules
from exporter.detections.threatintel.builtin import install_builtin
from exporter.errors import DuskwatchError
from exporter.ingest.bulk import Action
from exporter.ingest.pipeline import Ingestor
from exporter.logtypes import LOG_TYPES, LogType
from exporter.simulate import SimulationConfig, simulate
from exporter.sources import files

END = datetime(2025, 4, 2, tzinfo=UTC)


@pytest.fixture
def matcher(clean: OpenSearch) -> Iterator[Matcher]:
    tag = uuid.uuid4().hex[:12]
    indices = Indices(
        intel=f"duskwatch-threatintel-re-{tag}", findings=f"duskwatch-findings-re-{tag}"
    )
    clean.indices.create(index=indices.findings)
    install_builtin(clean, index=indices.intel)
    rules = load_rules()
    assert install(clean, rules).ok
    yield Matcher(clean, rules, detector_id="c" * 32, indices=indices)
    clean.indices.delete(index=f"{indices.intel},{indices.findings}")


def stored(client: OpenSearch, index: str) -> dict[str, dict[str, Any]]:
    client.indices.refresh(index=index)
    hits = client.search(index=index, body={"size": 1000})["hits"]["hits"]
    return {hit["_id"]: hit["_source"] for hit in hits}


def test_rematch_finds_what_ingest_did_not_match_and_is_idempotent(
    matcher: Matcher, clean: OpenSearch, settings: config.Settings, tmp_path: Path
) -> None:
    out = tmp_path / "logs"
    simulate(SimulationConfig(out, days=1, scale=0.02, seed=5, end=END))
    ingestor = Ingestor(clean, settings.ingest)  # no matching: as if the cluster failed
    for origin, data in files.read_files(files.expand([str(out)])):
        ingestor.ingest(origin, data)
    ingestor.close()
    findings_index = matcher._indices.findings  # noqa: SLF001
    assert stored(clean, findings_index) == {}

    kinds = [LOG_TYPES.get(name) for name in LOG_TYPES.names()]
    since = END - timedelta(days=1)
    first = rematch(clean, matcher, kinds, since, END)
    in_range = {"range": {"@timestamp": {"gte": since.isoformat(), "lt": END.isoformat()}}}
    assert first.documents == {
        kind.name: clean.count(index=kind.index, body={"query": in_range})["count"]
        for kind in kinds
    }
    found = stored(clean, findings_index)
    assert found, "no findings after rematch"

    again = rematch(clean, matcher, kinds, since, END)
    assert again.documents == first.documents
    assert stored(clean, findings_index) == found


def test_an_interrupted_ingest_names_its_repair_and_the_repair_finds_everything(
    matcher: Matcher,
    clean: OpenSearch,
    settings: config.Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = tmp_path / "logs"
    simulate(SimulationConfig(out, days=1, scale=0.02, seed=5, end=END))
    calls: list[int] = []

    def fails_after_one_batch(kind: LogType, created: list[Action]) -> list[str]:
        calls.append(len(created))
        if len(calls) > 1:  # the cluster goes away between a write and its matching
            raise OpenSearchConnectionError("N/A", "connection refused", None)
        return matcher(kind, created)

    monkeypatch.setattr(ingest_cli, "ingest_matcher", lambda *_: fails_after_one_batch)
    app = typer.Typer()
    app.command()(ingest_cli.ingest)
    settings = replace(settings, detection=replace(settings.detection, enabled=True))
    result = CliRunner().invoke(app, [str(out)], obj=AppContext(settings, clean))
    assert isinstance(result.exception, DuskwatchError)
    message = f"{result.exception} {result.exception.hint}"
    assert "ingest stopped: ConnectionError" in message
    since = message.split("rematch --ingested --since ")[1].split()[0].rstrip("`")
    assert len(calls) > 1

    monkeypatch.setattr(ingest_cli, "ingest_matcher", lambda *_: matcher)
    again = CliRunner().invoke(app, [str(out), "--json"], obj=AppContext(settings, clean))
    assert again.exit_code == 0, again.output
    findings_index = matcher._indices.findings  # noqa: SLF001
    before_repair = stored(clean, findings_index)

    kinds = [LOG_TYPES.get(name) for name in LOG_TYPES.names()]
    now = datetime.now(UTC) + timedelta(seconds=1)
    since_time = datetime.fromisoformat(since.replace("Z", "+00:00"))
    rematch(clean, matcher, kinds, since_time, now, field=INGEST_TIME)
    repaired = stored(clean, findings_index)
    assert len(repaired) > len(before_repair)

    rematch(clean, matcher, kinds, END - timedelta(days=2), END + timedelta(days=1))
    assert stored(clean, findings_index) == repaired, "the repair missed findings"
