"""EventBridge: GuardDuty's event shape, PutEvents entries, request chunking."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from exporter.export.destination import Delivery
from exporter.export.destinations.eventbridge import chunks, entry_size, put_events_entry
from exporter.export.formats import guardduty_event
from exporter.findings.build import to_guardduty
from exporter.findings.samples import sample_findings

NOW = datetime(2025, 3, 2, 11, 23, 40, 123000, tzinfo=UTC)


def finding(kind: str = "UnauthorizedAccess:EC2/SSHBruteForce") -> dict[str, Any]:
    found = sample_findings(
        [kind], now=NOW, detector_id="d" * 32, account="111122223333", region="eu-west-1"
    )
    return to_guardduty(found[0])


def test_event_has_guardduty_shape() -> None:
    f = finding()
    event = guardduty_event(Delivery("ev-1", f))
    assert set(event) == {
        "version",
        "id",
        "detail-type",
        "source",
        "account",
        "time",
        "region",
        "resources",
        "detail",
    }
    assert event["version"] == "0"
    assert event["id"] == "ev-1"
    assert event["detail-type"] == "GuardDuty Finding"
    assert event["source"] == "aws.guardduty"
    assert event["account"] == "111122223333"
    assert event["region"] == "eu-west-1"
    assert event["time"] == "2025-03-02T11:23:40Z"
    assert event["resources"] == [f["arn"]]
    assert event["detail"] == f
    assert "duskwatch" not in event["detail"]


def test_entry_carries_custom_source_and_bus() -> None:
    f = finding()
    entry = put_events_entry(Delivery("ev-1", f), source="duskwatch.findings", event_bus="security")
    assert entry["Source"] == "duskwatch.findings"
    assert entry["DetailType"] == "GuardDuty Finding"
    assert entry["EventBusName"] == "security"
    assert entry["Resources"] == [f["arn"]]
    assert orjson.loads(entry["Detail"]) == f
    assert "EventBusName" not in put_events_entry(Delivery("ev-1", f))


def test_chunks_respect_count_and_size() -> None:
    entries = [(f"e{i}", put_events_entry(Delivery(f"e{i}", finding()))) for i in range(23)]
    counted = list(chunks(entries))
    assert [len(c) for c in counted] == [10, 10, 3]
    size = entry_size(entries[0][1])
    by_size = list(chunks(entries, max_bytes=size * 4))
    assert all(len(c) <= 4 for c in by_size)
    assert [pair for chunk in by_size for pair in chunk] == entries
