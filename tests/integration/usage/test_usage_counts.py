"""Usage figures on the real node equal what ingest wrote: events per data source, S3 data
events, bytes of flow and DNS records as read (with or without the originals kept), and
findings per data source."""

from __future__ import annotations

import dataclasses
import gzip
import json
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from opensearchpy import OpenSearch

from exporter import config
from exporter.findings import store
from exporter.findings.samples import sample_findings
from exporter.ingest.pipeline import Ingestor
from exporter.ingest.summary import IngestSummary
from exporter.simulate import SimulationConfig, simulate
from exporter.sources import files
from exporter.store.indices import EVENT_INDICES, delete_matching
from exporter.usage import UsageRow, summarize, total, usage
from exporter.usage.collect import FEATURES

END = datetime(2025, 3, 10, tzinfo=UTC)
LINE_SOURCES = {"FLOW_LOGS": "vpcflowlogs", "DNS_LOGS": "vpcdnsquerylogs"}
"""Line-format sources, by the folder the simulator writes them under."""
FLOW_HEADER = "version "


@pytest.fixture(scope="module", params=[True, False], ids=["originals-kept", "originals-dropped"])
def ingested(
    request: pytest.FixtureRequest,
    client: OpenSearch,
    settings: config.Settings,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Path, IngestSummary, dict[str, Any], str, list[UsageRow]]]:
    delete_matching(client, EVENT_INDICES)
    out = tmp_path_factory.mktemp("usage") / "logs"
    simulate(SimulationConfig(out, days=1, scale=0.02, seed=8, end=END))
    ingestor = Ingestor(client, dataclasses.replace(settings.ingest, keep_original=request.param))
    for origin, data in files.read_files(files.expand([str(out)])):
        ingestor.ingest(origin, data)
    summary = ingestor.close()
    index = f"duskwatch-findings-test-{uuid.uuid4().hex[:12]}"
    client.indices.create(index=index)
    samples = sample_findings(
        None, now=END, detector_id="d" * 32, account="123456789012", region="us-east-1"
    )
    store.upsert(client, samples, index=index, refresh=True)
    rows = usage(client, findings_index=index)
    yield out, summary, json.loads((out / "labels.json").read_text()), index, rows
    client.indices.delete(index=index)
    delete_matching(client, EVENT_INDICES)


def events(rows: list[UsageRow]) -> dict[str, int]:
    return {s["key"]: s["events"] for s in summarize(rows, "source")}


def stored(stats: Any) -> int:
    return int(stats.read - stats.dead_lettered)


def test_events_equal_ingest_counts(ingested: Any) -> None:
    _, summary, labels, _, rows = ingested
    by_source = events(rows)
    sources = summary.sources
    assert by_source["CLOUD_TRAIL"] + by_source["S3_LOGS"] == stored(sources["cloudtrail"])
    assert by_source["S3_LOGS"] == labels["data_events"]
    assert by_source["FLOW_LOGS"] == stored(sources["vpcflow"])
    assert by_source["DNS_LOGS"] == stored(sources["route53"])
    assert by_source["KUBERNETES_AUDIT_LOGS"] == stored(sources["eks-audit"])
    assert total(rows)["events"] == stored(summary.totals())
    accounts = {r.account for r in rows if r.events}
    assert accounts == set(labels["accounts"])


def record_bytes(root: Path, folder: str) -> int:
    """The length of every record (line) the simulator wrote under ``folder``."""
    paths = [p for p in root.rglob("*.gz") if folder in p.parts]
    lines = [line for p in paths for line in gzip.decompress(p.read_bytes()).decode().splitlines()]
    records = (line for line in lines if line.strip() and not line.startswith(FLOW_HEADER))
    return sum(len(line.encode()) for line in records)


def test_bytes_equal_the_records_as_read(ingested: Any) -> None:
    root, _, _, _, rows = ingested
    measured = {s["key"]: s["bytes"] for s in summarize(rows, "source")}
    for source, folder in LINE_SOURCES.items():
        assert measured[source] == record_bytes(root, folder), source


def test_documents_without_stored_sizes_are_measured_by_their_originals(
    client: OpenSearch,
) -> None:
    """Documents ingested before ``duskwatch.raw_bytes`` existed still count their bytes."""
    day = datetime(2024, 6, 1, tzinfo=UTC)
    index = "duskwatch-events-route53-2024.06.01"
    line = json.dumps({"query_name": "example.com.", "query_type": "A"})
    doc = {
        "@timestamp": day.isoformat(),
        "cloud": {"account": {"id": "210987654321"}},
        "event": {"original": line},
    }
    client.index(index=index, body=doc, refresh=True)
    try:
        rows = usage(client, since=day, until=datetime(2024, 6, 2, tzinfo=UTC))
        assert [(r.source, r.events, r.bytes) for r in rows if r.events] == [
            ("DNS_LOGS", 1, len(line))
        ]
    finally:
        client.indices.delete(index=index)


def test_findings_per_data_source(client: OpenSearch, ingested: Any) -> None:
    index, rows = ingested[3], ingested[4]
    found = {s["key"]: s["findings"] for s in summarize(rows, "source")}
    hits = store.search(client, index=index, size=500, archived=None)
    expected = Counter(FEATURES[f["service"]["featureName"]] for f in hits)
    assert {k: v for k, v in found.items() if v} == dict(expected)
    assert sum(expected.values()) == len(hits) > 100


def test_cost_is_estimated_for_priced_sources(ingested: Any) -> None:
    rows = ingested[4]
    costs = {s["key"]: s["cost"] for s in summarize(rows, "source")}
    assert costs["KUBERNETES_AUDIT_LOGS"] is None
    for source in ("CLOUD_TRAIL", "S3_LOGS", "FLOW_LOGS", "DNS_LOGS"):
        assert costs[source] > 0
