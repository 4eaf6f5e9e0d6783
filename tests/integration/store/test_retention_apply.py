"""Retention on the real node: old event days, stale findings and old dead letters go."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from opensearchpy import OpenSearch

from exporter.config import RetentionSettings
from exporter.findings.samples import sample_findings
from exporter.findings.store import FINDINGS_INDEX, upsert
from exporter.ingest.pipeline import DEADLETTER_INDEX
from exporter.normalize.ecs import iso_timestamp
from exporter.store.retention import apply

NOW = datetime(2025, 6, 30, 12, tzinfo=UTC)
OLD, RECENT = "duskwatch-events-vpcflow-2025.03.01", "duskwatch-events-vpcflow-2025.06.29"


def test_retention_deletes_by_event_day_and_age(clean: OpenSearch) -> None:
    for name in (OLD, RECENT):
        clean.indices.create(index=name)
    stale, fresh = sample_findings(
        ["Recon:EC2/Portscan", "Backdoor:EC2/Spambot"],
        now=NOW,
        detector_id="f" * 32,
        account="123456789012",
        region="us-east-1",
    )
    stale = {**stale, "updatedAt": iso_timestamp(NOW - timedelta(days=120))}
    upsert(clean, [stale, fresh], refresh=True)
    letters = [
        {
            "@timestamp": iso_timestamp(NOW - timedelta(days=days)),
            "reason": "test",
            "stage": "parse",
        }
        for days in (45, 2)
    ]
    for letter in letters:
        clean.index(index=DEADLETTER_INDEX, body=letter, refresh=True)
    settings = RetentionSettings(events_days=90, findings_days=90, deadletter_days=30)
    try:
        preview = apply(clean, settings, now=NOW, dry_run=True)
        assert (preview.event_indices, preview.findings, preview.dead_letters) == ([OLD], 1, 1)
        assert clean.indices.exists(index=OLD)

        done = apply(clean, settings, now=NOW)
        assert (done.event_indices, done.findings, done.dead_letters) == ([OLD], 1, 1)
        assert not clean.indices.exists(index=OLD)
        assert clean.indices.exists(index=RECENT)
        assert clean.exists(index=FINDINGS_INDEX, id=fresh["id"])
        assert not clean.exists(index=FINDINGS_INDEX, id=stale["id"])

        forever = RetentionSettings(events_days=0, findings_days=0, deadletter_days=0)
        kept = apply(clean, forever, now=NOW + timedelta(days=3650))
        assert (kept.event_indices, kept.findings, kept.dead_letters) == ([], 0, 0)
    finally:
        clean.delete(index=FINDINGS_INDEX, id=fresh["id"], ignore=[404], refresh=True)
