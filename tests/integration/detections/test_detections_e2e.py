"""End to end on the real node: simulated week with labelled scenarios → ingest → findings.

Each labelled positive signature / list scenario yields its finding type on its resource,
every near-miss yields none, the benign background yields nothing at all, a re-ingest changes
no finding, and two concurrent overlapping ingests give the same findings as one. (Behaviour
scenarios need ``detect``, not ingest: test_behaviour_e2e checks them.)
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from opensearchpy import OpenSearch

from exporter import config
from exporter.detections.behaviour import DETECTORS
from exporter.detections.matcher import Indices, Matcher
from exporter.detections.rules import install, load_rules
from exporter.detections.threatintel import store as lists
from exporter.detections.threatintel.builtin import install_builtin
from exporter.detections.threatintel.meta import ListSpec
from exporter.findings.validation import validate
from exporter.ingest.pipeline import Ingestor
from exporter.simulate import SimulationConfig, simulate
from exporter.sources import files
from exporter.store.indices import EVENT_INDICES, delete_matching

END = datetime(2025, 3, 10, tzinfo=UTC)
BEHAVIOUR_TYPES = {t for _, d in DETECTORS.items() for t in d.finding_types}
"""Behaviour scenarios are checked by test_behaviour_e2e (they need ``detect``, not ingest)."""
RESOURCE_ID = {
    "AccessKey": lambda r: r["accessKeyDetails"]["accessKeyId"],
    "Instance": lambda r: r["instanceDetails"]["instanceId"],
    "EKSCluster": lambda r: r["eksClusterDetails"]["name"],
    "S3Bucket": lambda r: r["s3BucketDetails"][0]["name"],
}


@pytest.fixture(scope="module")
def simulation(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("sim") / "logs"
    simulate(SimulationConfig(out, days=2, scale=0.05, seed=11, end=END))
    return out, json.loads((out / "labels.json").read_text())


@pytest.fixture
def detection(
    clean: OpenSearch, simulation: tuple[Path, dict[str, Any]], tmp_path: Path
) -> Iterator[Matcher]:
    tag = uuid.uuid4().hex[:12]
    indices = Indices(
        intel=f"duskwatch-threatintel-test-{tag}", findings=f"duskwatch-findings-test-{tag}"
    )
    clean.indices.create(index=indices.findings)
    install_builtin(clean, index=indices.intel)
    for entry in simulation[1]["lists"]:
        path = tmp_path / f"{entry['name']}.txt"
        path.write_text("\n".join(entry["entries"]) + "\n")
        spec = ListSpec(
            f"{tag}-{entry['name']}",
            entry["kind"],
            str(path),
            category=entry.get("category") if entry["kind"] == "threat" else None,
        )
        lists.add(clean, spec, index=indices.intel)
    rules = load_rules()
    assert install(clean, rules).ok
    matcher = Matcher(clean, rules, detector_id="d" * 32, indices=indices)
    yield matcher
    for entry in simulation[1]["lists"]:
        lists.remove(clean, f"{tag}-{entry['name']}", entry["kind"], index=indices.intel)
    clean.indices.delete(index=f"{indices.intel},{indices.findings}")


def ingest(client: OpenSearch, settings: config.Settings, matcher: Matcher, root: Path) -> None:
    ingestor = Ingestor(client, settings.ingest, on_created=matcher)
    for origin, data in files.read_files(files.expand([str(root)])):
        ingestor.ingest(origin, data)
    ingestor.close()


def stored(client: OpenSearch, index: str) -> dict[str, dict[str, Any]]:
    client.indices.refresh(index=index)
    hits = client.search(index=index, body={"size": 1000})["hits"]["hits"]
    return {hit["_id"]: hit["_source"] for hit in hits}


def by_resource(found: dict[str, dict[str, Any]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for finding in found.values():
        resource = finding["resource"]
        grouped[(finding["type"], RESOURCE_ID[resource["resourceType"]](resource))].append(finding)
    return grouped


def test_scenarios_become_findings_exactly(
    detection: Matcher,
    clean: OpenSearch,
    settings: config.Settings,
    simulation: tuple[Path, dict[str, Any]],
) -> None:
    root, labels = simulation
    ingest(clean, settings, detection, root)
    found = stored(clean, detection._indices.findings)  # noqa: SLF001
    for finding in found.values():
        validate(finding)
    grouped = by_resource(found)
    signatures = [s for s in labels["scenarios"] if s["finding_type"] not in BEHAVIOUR_TYPES]
    positives = {
        (s["finding_type"], s["resource"]) for s in signatures if s["expected"] == "positive"
    }
    for scenario in signatures:
        key = (scenario["finding_type"], scenario["resource"])
        if scenario["expected"] == "positive":
            assert key in grouped, scenario["name"]
            if not scenario["finding_type"].endswith("!DNS"):  # DNS findings key on the domain
                assert len(grouped[key]) == 1, scenario["name"]
        elif key not in positives:
            assert key not in grouped, scenario["name"]
    assert set(grouped) <= positives, "findings on the benign background"

    before = {i: (f["service"]["count"], f["updatedAt"]) for i, f in found.items()}
    ingest(clean, settings, detection, root)
    after = stored(clean, detection._indices.findings)  # noqa: SLF001
    assert {i: (f["service"]["count"], f["updatedAt"]) for i, f in after.items()} == before


def test_concurrent_overlapping_ingests_match_one(
    detection: Matcher,
    clean: OpenSearch,
    settings: config.Settings,
    simulation: tuple[Path, dict[str, Any]],
) -> None:
    root, _ = simulation
    threads = [
        threading.Thread(target=ingest, args=(clean, settings, detection, root)) for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    concurrent = stored(clean, detection._indices.findings)  # noqa: SLF001
    assert concurrent
    delete_matching(clean, EVENT_INDICES)
    clean.delete_by_query(
        index=detection._indices.findings,  # noqa: SLF001
        body={"query": {"match_all": {}}},
        refresh=True,
    )
    ingest(clean, settings, detection, root)
    single = stored(clean, detection._indices.findings)  # noqa: SLF001
    assert {i: f["service"]["count"] for i, f in concurrent.items()} == {
        i: f["service"]["count"] for i, f in single.items()
    }
