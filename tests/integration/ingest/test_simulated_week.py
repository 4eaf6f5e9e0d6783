"""An 8-day, 2-account simulator run lands with exactly the simulator's counts, once."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from conftest import count, ingest_paths
from opensearchpy import OpenSearch

from exporter import config
from exporter.simulate import SimulationConfig, simulate


def test_simulated_week_counts_match_and_reingest_is_idempotent(
    clean: OpenSearch, settings: config.Settings, tmp_path: Path
) -> None:
    sim = simulate(
        SimulationConfig(
            tmp_path / "logs", days=8, scale=0.2, seed=7, end=datetime(2025, 3, 10, tzinfo=UTC)
        )
    )
    assert set(sim.counts) == {"cloudtrail", "vpcflow", "route53", "eks-audit"}

    first = ingest_paths(clean, settings, str(tmp_path / "logs"))
    assert not first.unrecognized
    assert not first.empty
    for source, expected in sim.counts.items():
        stats = first.sources[source]
        assert stats.read == expected, source
        assert stats.dead_lettered == 0, source
        assert count(clean, f"duskwatch-events-{source}") == expected, source
    data_events = {"term": {"aws.cloudtrail.event_category": "Data"}}
    assert count(clean, "duskwatch-events-cloudtrail", data_events) == sim.data_events
    accounts = clean.search(
        index="duskwatch-events-*",
        body={"size": 0, "aggs": {"a": {"terms": {"field": "cloud.account.id"}}}},
    )["aggregations"]["a"]["buckets"]
    assert {b["key"] for b in accounts} == {"111122223333", "444455556666"}

    again = ingest_paths(clean, settings, str(tmp_path / "logs"))
    for source, expected in sim.counts.items():
        assert again.sources[source].indexed == 0, source
        assert again.sources[source].duplicates == expected, source
        assert count(clean, f"duskwatch-events-{source}") == expected, source
