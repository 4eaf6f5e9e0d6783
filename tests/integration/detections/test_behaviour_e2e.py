"""End to end on the real node: an 8-day simulated estate with attacks on the last day,
ingested, then ``detect`` over the whole range (a backfill).

Each labelled behaviour scenario yields its finding type on its resource, no near miss and
nothing on the benign background (nightly backups, internet probes, admin work, CDN names)
is reported, running the same range again changes no finding, and a run killed midway and
restarted ends with exactly the findings of a clean run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from opensearchpy import OpenSearch

from exporter import config
from exporter.detections.behaviour import DETECTORS, checkpoints
from exporter.detections.behaviour.runner import Runner, RunOptions
from exporter.findings.store import FINDINGS_INDEX
from exporter.findings.validation import validate
from exporter.ingest.pipeline import Ingestor
from exporter.normalize.ecs import iso_timestamp
from exporter.simulate import SimulationConfig, simulate
from exporter.sources import files

END = datetime(2025, 6, 9, tzinfo=UTC)
DAYS = 8
BEHAVIOUR_TYPES = {t for _, d in DETECTORS.items() for t in d.finding_types}
RESOURCE_IDS = {
    "AccessKey": lambda r: [r["accessKeyDetails"].get(k) for k in ("principalId", "accessKeyId")],
    "Instance": lambda r: [r["instanceDetails"]["instanceId"]],
    "EKSCluster": lambda r: [r["eksClusterDetails"]["name"]],
    "S3Bucket": lambda r: [r["s3BucketDetails"][0]["name"]],
}
"""The ids a label may name a finding's resource by (behaviour labels use the primary id)."""


@pytest.fixture(scope="module")
def week(
    client: OpenSearch, settings: config.Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """The simulated week, ingested (module scope: the events stay for every test here)."""
    from exporter.store.indices import EVENT_INDICES, delete_matching

    out = tmp_path_factory.mktemp("week") / "logs"
    simulate(SimulationConfig(out, days=DAYS, scale=0.1, seed=23, end=END))
    delete_matching(client, EVENT_INDICES)
    ingestor = Ingestor(client, settings.ingest)
    for origin, data in files.read_files(files.expand([str(out)])):
        ingestor.ingest(origin, data)
    ingestor.close()
    yield json.loads((out / "labels.json").read_text())
    delete_matching(client, EVENT_INDICES)


@pytest.fixture
def findings_index(client: OpenSearch) -> Iterator[str]:
    name = f"duskwatch-findings-week-{uuid.uuid4().hex[:12]}"
    client.indices.create(index=name)
    yield name
    client.indices.delete(index=name)


def runner(client: OpenSearch, index: str) -> Runner:
    return Runner(
        client,
        detector_id="e" * 32,
        params={name: d.params for name, d in DETECTORS.items()},
        findings_index=index,
        keep_checkpoints=False,
        concurrency=2,
    )


def whole_week(labels: dict[str, Any]) -> RunOptions:
    start = datetime.fromisoformat(labels["start"].replace("Z", "+00:00"))
    return RunOptions(since=start, until=END)


def backfill(client: OpenSearch, index: str, labels: dict[str, Any]) -> dict[str, dict[str, Any]]:
    runs = runner(client, index).run([d for _, d in DETECTORS.items()], whole_week(labels))
    assert [r.error for r in runs if r.error] == []
    return stored(client, index)


def stored(client: OpenSearch, index: str) -> dict[str, dict[str, Any]]:
    client.indices.refresh(index=index)
    hits = client.search(index=index, body={"size": 2000})["hits"]["hits"]
    return {hit["_id"]: hit["_source"] for hit in hits}


def by_resource(found: dict[str, dict[str, Any]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for finding in found.values():
        resource = finding["resource"]
        for identifier in RESOURCE_IDS[resource["resourceType"]](resource):
            if identifier:
                grouped[(finding["type"], identifier)].append(finding)
    return grouped


def essentials(found: dict[str, dict[str, Any]]) -> dict[str, tuple[Any, ...]]:
    return {
        i: (f["type"], f["service"]["count"], f["service"]["eventFirstSeen"], f["severity"])
        for i, f in found.items()
    }


def test_every_behaviour_scenario_and_nothing_else(
    client: OpenSearch, week: dict[str, Any], findings_index: str
) -> None:
    found = backfill(client, findings_index, week)
    for finding in found.values():
        validate(finding)
    grouped = by_resource(found)
    labels = [s for s in week["scenarios"] if s["finding_type"] in BEHAVIOUR_TYPES]
    assert labels, "the simulation has no behaviour scenarios"
    positives = {(s["finding_type"], s["resource"]) for s in labels if s["expected"] == "positive"}
    missing = [s["name"] for s in labels if s["expected"] == "positive"
               and (s["finding_type"], s["resource"]) not in grouped]  # fmt: skip
    assert missing == [], f"positive scenarios without their finding: {missing}"
    unexpected = [
        finding["id"]
        for finding in found.values()
        if not any(
            (finding["type"], identifier) in positives
            for identifier in RESOURCE_IDS[finding["resource"]["resourceType"]](finding["resource"])
        )
    ]
    assert unexpected == [], [
        (found[i]["type"], found[i]["resource"]) for i in unexpected
    ]  # findings on near misses or the benign background

    again = backfill(client, findings_index, week)
    assert again == found


def test_a_killed_detect_restarted_ends_like_a_clean_run(
    client: OpenSearch, week: dict[str, Any], findings_index: str, settings: config.Settings
) -> None:
    clean = backfill(client, findings_index, week)
    detector = uuid.uuid4().hex
    env = {**os.environ, "DUSKWATCH_DETECTION_DETECTOR_ID": detector}
    env["DUSKWATCH_OPENSEARCH_URL"] = settings.opensearch.url
    command = [sys.executable, "-m", "exporter", "detect", "--json",
               "--since", week["start"], "--until", iso_timestamp(END)]  # fmt: skip
    mine = {"term": {"service.detectorId": detector}}
    try:
        killed = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and killed.poll() is None:
            client.indices.refresh(index=FINDINGS_INDEX)
            if client.count(index=FINDINGS_INDEX, body={"query": mine})["count"]:
                break
            time.sleep(0.2)
        killed.kill()
        killed.wait()
        subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, timeout=600)
        client.indices.refresh(index=FINDINGS_INDEX)
        body = {"query": mine, "size": 2000}
        hits = client.search(index=FINDINGS_INDEX, body=body)["hits"]["hits"]
        restarted = {hit["_id"]: hit["_source"] for hit in hits}
        assert essentials(restarted) == essentials(clean)
    finally:
        client.delete_by_query(index=FINDINGS_INDEX, body={"query": mine}, refresh=True)
        for name in DETECTORS.names():
            checkpoints.reset(client, name)
