"""The behaviour runner on the real node: backfill, checkpoints, re-runs, crashes, trust.

Brute-force flows (real v5 records through the real pipeline) on one day; the SSH detector
runs over that day. Re-running a range changes no finding, a run killed midway and restarted
ends with the same findings as a clean run, the checkpoint covers only settled windows and a
scheduled round runs each window once, and a trusted attacker is silenced.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from opensearchpy import OpenSearch

from exporter import config
from exporter.detections.behaviour import DETECTORS, checkpoints
from exporter.detections.behaviour.catalogue.flow_records import HEADER, ORIGIN, Flow, record
from exporter.detections.behaviour.model import Window
from exporter.detections.behaviour.runner import Runner, RunOptions
from exporter.detections.behaviour.trusted import Trusted
from exporter.ingest.pipeline import Ingestor

DAY = datetime(2025, 5, 1, tzinfo=UTC)
ATTACKS = (DAY + timedelta(hours=3, minutes=5), DAY + timedelta(hours=9, minutes=40))
ATTACKER = "203.0.113.77"
SSH = DETECTORS.get("ssh-brute-force")


def attempts(start: datetime, count: int = 40) -> list[Flow]:
    return [
        Flow(start + timedelta(seconds=20 * n), ATTACKER, 40000 + n, 22, action="REJECT")
        for n in range(count)
    ]


def benign(start: datetime) -> list[Flow]:
    return [
        Flow(start + timedelta(minutes=5 * n), "192.0.2.44", 50000 + n, 443) for n in range(200)
    ]


@pytest.fixture
def flows(clean: OpenSearch, settings: config.Settings, tmp_path: Path) -> OpenSearch:
    lines = [record(f) for at in ATTACKS for f in attempts(at)] + [record(f) for f in benign(DAY)]
    origin = ORIGIN.replace("case.log", f"{uuid.uuid4().hex}.log")
    ingestor = Ingestor(clean, settings.ingest)
    ingestor.ingest(origin, ("\n".join([HEADER, *lines]) + "\n").encode(), "vpcflow")
    summary = ingestor.close()
    assert summary.totals().indexed == len(lines)
    return clean


@pytest.fixture
def findings_index(client: OpenSearch) -> Iterator[str]:
    name = f"duskwatch-findings-runner-{uuid.uuid4().hex[:12]}"
    client.indices.create(index=name)
    checkpoints.reset(client, SSH.name)
    yield name
    client.indices.delete(index=name)
    checkpoints.reset(client, SSH.name)


def runner(client: OpenSearch, index: str, **options: Any) -> Runner:
    return Runner(
        client,
        detector_id="b" * 32,
        params={SSH.name: SSH.params},
        findings_index=index,
        **options,
    )


def stored(client: OpenSearch, index: str) -> dict[str, dict[str, Any]]:
    client.indices.refresh(index=index)
    hits = client.search(index=index, body={"size": 100})["hits"]["hits"]
    return {hit["_id"]: hit["_source"] for hit in hits}


def day_range() -> RunOptions:
    return RunOptions(since=DAY, until=DAY + timedelta(days=1))


def test_backfill_reports_each_window_once_and_a_rerun_changes_nothing(
    flows: OpenSearch, findings_index: str
) -> None:
    [run] = runner(flows, findings_index, keep_checkpoints=False).run([SSH], day_range())
    assert run.error is None
    assert run.windows == 48
    assert (run.hits, run.created, run.updated) == (2, 1, 1)
    [finding] = stored(flows, findings_index).values()
    assert finding["type"] == "UnauthorizedAccess:EC2/SSHBruteForce"
    assert finding["service"]["count"] == 2
    assert finding["service"]["resourceRole"] == "TARGET"
    assert finding["severity"] == 2.0
    assert finding["resource"]["instanceDetails"]["instanceId"] == "i-0a1b2c3d4e5f60718"
    assert finding["service"]["eventFirstSeen"].startswith("2025-05-01T03:05")
    assert finding["service"]["additionalInfo"]["connectionCount"] == 40
    before = stored(flows, findings_index)

    [again] = runner(flows, findings_index, keep_checkpoints=False).run([SSH], day_range())
    assert (again.hits, again.created, again.updated, again.unchanged) == (2, 0, 0, 2)
    assert stored(flows, findings_index) == before


def test_a_run_killed_midway_and_restarted_ends_as_a_clean_run(
    flows: OpenSearch, findings_index: str
) -> None:
    seen: list[Window] = []

    def crash_after_the_first_attack(_: str, window: Window) -> None:
        seen.append(window)
        if window.start >= ATTACKS[0] + timedelta(hours=2):
            raise KeyboardInterrupt

    killed = runner(flows, findings_index, windows_per_request=1)
    with pytest.raises(KeyboardInterrupt):
        killed.run([SSH], RunOptions(), on_window=crash_after_the_first_attack)
    assert len(stored(flows, findings_index)) > 0
    assert seen
    checkpoint = checkpoints.load(flows, SSH.name)
    assert checkpoint is not None
    assert checkpoint <= seen[-1].start

    [resumed] = runner(flows, findings_index).run([SSH], RunOptions())
    assert resumed.error is None
    assert resumed.windows > 0
    assert resumed.first == checkpoint
    [finding] = stored(flows, findings_index).values()
    assert finding["service"]["count"] == 2

    [idle] = runner(flows, findings_index).run([SSH], RunOptions())
    assert idle.windows == 0
    assert stored(flows, findings_index) == {finding["id"]: finding}


def test_the_checkpoint_covers_settled_windows_only(flows: OpenSearch, findings_index: str) -> None:
    [run] = runner(flows, findings_index).run([SSH], RunOptions())
    latest_event = DAY + timedelta(minutes=5 * 199 + 0.5)
    assert run.checkpoint is not None
    assert run.checkpoint + SSH.settle <= latest_event + timedelta(seconds=30)
    assert run.checkpoint == checkpoints.load(flows, SSH.name)
    assert run.first == DAY


def test_a_trusted_attacker_is_silenced(flows: OpenSearch, findings_index: str) -> None:
    trusting = runner(
        flows, findings_index, keep_checkpoints=False, trusted=Trusted.of(["203.0.113.0/24"])
    )
    [run] = trusting.run([SSH], day_range())
    assert (run.hits, run.silenced, run.created) == (2, 2, 0)
    assert stored(flows, findings_index) == {}
